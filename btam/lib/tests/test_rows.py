"""Rows written together (btam.lib.rows): the same values and signals as save(), all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save, pre_save

from btam.lib import rows
from btam.lib.tests.encryptedapp.models import Note, OtherNote

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def _stored(model: Any, pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite only")
def test_elsewhere_nothing_is_reserved_and_nothing_written_together() -> None:
    assert not rows.supported()
    assert rows.reserve_ids(Note) is None
    with pytest.raises(ValueError, match="PostgreSQL"):
        rows.insert_together([Note(title="x")])


@postgresql_only
def test_rows_are_written_as_save_writes_them_with_the_same_signals() -> None:
    seen: list[tuple[str, str, bool]] = []

    def before(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(("pre", sender.__name__, instance._state.adding))
        if sender is Note:
            instance.title = instance.title.upper()  # a receiver's change is written

    def after(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        seen.append(("post", sender.__name__, created))

    pre_save.connect(before, dispatch_uid="test-rows-pre")
    post_save.connect(after, dispatch_uid="test-rows-post")
    try:
        note_id, other_id = rows.reserve_ids(Note, OtherNote) or []
        note = Note(pk=note_id, title="first", narrative="Said he would bring a knife.")
        numbered = Note(title="second", follow_up=None)  # no key reserved: the database numbers it
        other = OtherNote(pk=other_id, body=f"about note {note_id}")
        rows.insert_together([note, numbered, other])
    finally:
        pre_save.disconnect(dispatch_uid="test-rows-pre")
        post_save.disconnect(dispatch_uid="test-rows-post")

    assert [s for s in seen if s[0] == "pre"] == [
        ("pre", "Note", True),
        ("pre", "Note", True),
        ("pre", "OtherNote", True),
    ]
    assert [s for s in seen if s[0] == "post"] == [
        ("post", "Note", True),
        ("post", "Note", True),
        ("post", "OtherNote", True),
    ]
    assert not note._state.adding and note._state.db == "default"
    stored = Note.objects.get(pk=note_id)
    assert (stored.title, stored.narrative, stored.follow_up) == ("FIRST", "Said he would bring a knife.", None)
    assert "knife" not in _stored(Note, note_id, "narrative")  # encrypted at rest, as save() stores it
    assert Note.objects.get(title="SECOND").narrative == ""
    assert OtherNote.objects.get(pk=other_id).body == f"about note {note_id}"


@postgresql_only
def test_a_failing_row_keeps_none_of_them() -> None:
    (taken,) = rows.reserve_ids(Note) or []
    Note.objects.create(pk=taken, title="already there")
    (other_id,) = rows.reserve_ids(OtherNote) or []

    with pytest.raises(IntegrityError):
        rows.insert_together([OtherNote(pk=other_id, body="kept?"), Note(pk=taken, title="clash")])

    assert not OtherNote.objects.exists()
    assert Note.objects.get().title == "already there"


@postgresql_only
def test_in_a_transaction_a_failure_leaves_the_transaction_usable() -> None:
    (taken,) = rows.reserve_ids(Note) or []
    with transaction.atomic():
        Note.objects.create(pk=taken, title="first")
        with pytest.raises(IntegrityError):
            rows.insert_together([Note(pk=taken, title="clash")])
        Note.objects.create(title="after the failure")  # the transaction goes on
    assert sorted(Note.objects.values_list("title", flat=True)) == ["after the failure", "first"]


@postgresql_only
def test_a_model_keyed_otherwise_needs_its_key() -> None:
    from django_tasks_db.models import DBTaskResult

    row: Any = DBTaskResult(args_kwargs={}, task_path="x", backend_name="default")
    row.pk = None
    with pytest.raises(ValueError, match="primary key set"):
        rows.insert_together([row])


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_rows_are_one_implicit_transaction() -> None:
    assert not connection.in_atomic_block
    (taken,) = rows.reserve_ids(Note) or []
    Note.objects.create(pk=taken, title="already there")
    other_id, note_id = rows.reserve_ids(OtherNote, Note) or []

    with pytest.raises(IntegrityError):  # the second statement fails: the first is not kept either
        rows.insert_together([OtherNote(pk=other_id, body="kept?"), Note(pk=taken, title="clash")])
    assert not OtherNote.objects.exists()

    rows.insert_together([OtherNote(pk=other_id, body="kept"), Note(pk=note_id, title="new")])  # usable after
    assert OtherNote.objects.get().body == "kept" and Note.objects.count() == 2


@postgresql_only
def test_psycopg_keeps_the_split_of_a_query_of_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    from psycopg import _queries

    uncached: list[bytes] = []
    split = _queries._query2pg_client_nocache

    def counted(query: bytes, *args: Any) -> Any:
        uncached.append(query)
        return split(query, *args)

    monkeypatch.setattr(_queries, "_query2pg_client_nocache", counted)  # the path of uncached queries

    ids = rows.reserve_ids(*[Note] * 30) or []
    rows.insert_together([Note(pk=pk, title=f"n{pk}") for pk in ids])  # 30 rows x 5 columns

    assert Note.objects.count() == 30
    assert not [q for q in uncached if q.startswith(b"INSERT")]
