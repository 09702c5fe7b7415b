"""Narratives are stored encrypted: EncryptedTextField (btam.lib.encrypted) and the crypto helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from django import forms
from django.core.exceptions import FieldError
from django.db import connection
from django.forms import modelform_factory
from django.test import override_settings

from btam.lib import crypto
from btam.lib.encrypted import EncryptedTextField
from btam.lib.tests.encryptedapp.models import Note

pytestmark = pytest.mark.django_db

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
NARRATIVE = "Student J. Example said they would bring a knife to the game on Friday."


@pytest.fixture(autouse=True)
def key_a() -> Iterator[None]:
    with override_settings(BTAM_ENCRYPTION_KEYS=[KEY_A]):
        yield


def stored(note: Note, column: str = "narrative") -> str | None:
    """What the database column really holds (no field conversion)."""
    table = connection.ops.quote_name(Note._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [note.pk])  # noqa: S608
        return cursor.fetchone()[0]


def store_raw(note: Note, value: str, column: str = "narrative") -> None:
    table = connection.ops.quote_name(Note._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {connection.ops.quote_name(column)} = %s WHERE id = %s", [value, note.pk])  # noqa: S608


def test_the_database_column_holds_no_plaintext() -> None:
    note = Note.objects.create(narrative=NARRATIVE, follow_up="Call the parent of J. Example")
    raw = stored(note)
    assert raw is not None
    assert "knife" not in raw and "Example" not in raw
    assert crypto.decrypt_text(raw) == NARRATIVE
    assert "Example" not in (stored(note, "follow_up") or "")


def test_a_narrative_round_trips_through_save_get_and_values() -> None:
    text = "Línea 1 — «quote» 🙂\nline two\ttab " + "x" * 10_000
    note = Note.objects.create(narrative=text)
    assert Note.objects.get(pk=note.pk).narrative == text
    assert Note.objects.values_list("narrative", flat=True).get(pk=note.pk) == text
    assert Note.objects.values("narrative").get(pk=note.pk) == {"narrative": text}
    note.refresh_from_db()
    assert note.narrative == text


def test_none_stays_null_and_empty_text_round_trips() -> None:
    note = Note.objects.create(narrative="", follow_up=None)
    assert stored(note, "follow_up") is None
    assert stored(note) != ""  # empty text is encrypted too: a blank narrative looks like any other
    note = Note.objects.get(pk=note.pk)
    assert note.narrative == "" and note.follow_up is None
    store_raw(note, "")  # an empty column (e.g. written before the field was encrypted) reads as empty
    assert Note.objects.get(pk=note.pk).narrative == ""


def test_the_same_text_is_stored_differently_every_time() -> None:
    first, second = Note.objects.create(narrative=NARRATIVE), Note.objects.create(narrative=NARRATIVE)
    assert stored(first) != stored(second)


def test_queryset_update_bulk_create_and_bulk_update_encrypt() -> None:
    [a, b] = Note.objects.bulk_create([Note(narrative="bulk secret one"), Note(narrative="bulk secret two")])
    Note.objects.filter(pk=a.pk).update(narrative="updated secret")
    b.narrative = "bulk updated secret"
    Note.objects.bulk_update([b], ["narrative"])
    for note in Note.objects.all():
        assert "secret" not in (stored(note) or "")
    assert sorted(Note.objects.values_list("narrative", flat=True)) == ["bulk updated secret", "updated secret"]


@pytest.mark.parametrize(
    "lookup",
    [
        {"narrative": NARRATIVE},
        {"narrative__exact": NARRATIVE},
        {"narrative__icontains": "knife"},
        {"narrative__startswith": "Student"},
        {"narrative__in": [NARRATIVE]},
        {"narrative__gt": ""},
        {"narrative__lower": "x"},
        {"follow_up": None},
    ],
    ids=lambda lookup: next(iter(lookup)),
)
def test_lookups_are_refused_with_a_clear_error(lookup: dict[str, object]) -> None:
    Note.objects.create(narrative=NARRATIVE)
    with pytest.raises(FieldError, match="encrypted at rest") as refused:
        list(Note.objects.filter(**lookup))
    assert "__isnull" in str(refused.value)
    assert "knife" not in str(refused.value)


def test_isnull_is_the_one_lookup_that_works() -> None:
    with_follow_up = Note.objects.create(narrative="a", follow_up="b")
    without = Note.objects.create(narrative="a", follow_up=None)
    assert list(Note.objects.filter(follow_up__isnull=True)) == [without]
    assert list(Note.objects.filter(follow_up__isnull=False)) == [with_follow_up]
    assert Note.objects.exclude(follow_up__isnull=True).count() == 1


def test_a_tampered_value_raises_decryption_error_without_plaintext() -> None:
    note = Note.objects.create(narrative=NARRATIVE)
    token = stored(note)
    assert token is not None
    flipped = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    store_raw(note, flipped)
    with pytest.raises(crypto.DecryptionError) as failed:
        Note.objects.get(pk=note.pk)
    message = str(failed.value)
    assert "encryptedapp.Note.narrative" in message and "BTAM_ENCRYPTION_KEYS" in message
    assert "knife" not in message and token not in message


def test_plaintext_left_in_the_column_is_refused_without_repeating_it() -> None:
    note = Note.objects.create(narrative="x")
    store_raw(note, "Plain words about Jane Roe, never encrypted")
    with pytest.raises(crypto.DecryptionError) as failed:
        Note.objects.get(pk=note.pk)
    assert "Jane" not in str(failed.value)


def test_a_value_under_an_unknown_key_cannot_be_read() -> None:
    with override_settings(BTAM_ENCRYPTION_KEYS=[KEY_B]):
        note = Note.objects.create(narrative=NARRATIVE)
    with pytest.raises(crypto.DecryptionError):
        Note.objects.get(pk=note.pk)


def test_every_listed_key_decrypts_and_the_newest_encrypts() -> None:
    old = Note.objects.create(narrative="under the old key")
    with override_settings(BTAM_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        assert Note.objects.get(pk=old.pk).narrative == "under the old key"
        new = Note.objects.create(narrative="under the new key")
        new_token = stored(new)
        assert new_token is not None and crypto.is_current(new_token.encode())
        old_token = stored(old)
        assert old_token is not None and not crypto.is_current(old_token.encode())
    with override_settings(BTAM_ENCRYPTION_KEYS=[KEY_B]):
        assert Note.objects.get(pk=new.pk).narrative == "under the new key"


def test_the_field_deconstructs_for_migrations() -> None:
    field = Note._meta.get_field("follow_up")
    name, path, args, kwargs = field.deconstruct()
    assert (name, path, args) == ("follow_up", "btam.lib.encrypted.EncryptedTextField", [])
    assert kwargs == {"null": True, "blank": True}
    rebuilt = EncryptedTextField(*args, **kwargs)
    assert rebuilt.null and rebuilt.blank


def test_its_form_field_is_a_plain_textarea() -> None:
    form_class = modelform_factory(Note, fields=["narrative"])
    assert isinstance(form_class.base_fields["narrative"].widget, forms.Textarea)
    form = form_class(data={"narrative": NARRATIVE})
    assert form.is_valid()
    note = form.save()
    assert Note.objects.get(pk=note.pk).narrative == NARRATIVE
    assert NARRATIVE in form_class(instance=note).as_p()


def test_the_system_check_refuses_unique_or_indexed_encrypted_fields() -> None:
    for field in (EncryptedTextField(unique=True), EncryptedTextField(db_index=True)):
        field.set_attributes_from_name("secret")
        field.model = Note
        assert [e.id for e in field.check()] == ["btam.E010"]
    plain = Note._meta.get_field("narrative")
    assert plain.check() == []


# crypto helpers ---------------------------------------------------------------------------------


def test_rotate_token_moves_a_token_to_the_newest_key_and_keeps_its_payload() -> None:
    token = crypto.encrypt_bytes(b"payload")
    with override_settings(BTAM_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        assert not crypto.is_current(token)
        rotated = crypto.rotate_token(token)
        assert crypto.is_current(rotated)
    with override_settings(BTAM_ENCRYPTION_KEYS=[KEY_B]):
        assert crypto.decrypt_bytes(rotated) == b"payload"
        with pytest.raises(crypto.DecryptionError):
            crypto.rotate_token(token)


def test_decrypt_text_refuses_text_that_is_not_a_token() -> None:
    for junk in ("", "not a token", "é non-ascii", Fernet(KEY_B).encrypt(b"other key").decode()):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_text(junk)
