"""What the public report path keeps between requests, and what it must not: the rendered parts of
the form and the receipt (never a token or a code), remembered schools (never trusted to file a
report), and the text signature (the same values as the first, slower implementation)."""

from __future__ import annotations

import hashlib
import pickle
import random
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from btam.intake import features
from btam.intake.models import Report
from btam.intake.receipt import keyed_hash
from btam.intake.tests.public_helpers import (
    csrf_token,
    form_url,
    isolated,
    make_school,
    receipt_code,
    report_data,
    submit,
)
from btam.orgs.models import District, School
from btam.people.search import normalize
from btam.testing import DistrictFactory

pytestmark = pytest.mark.django_db

_TOKEN = re.compile(r'name="submission_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path) -> Iterator[None]:
    caches["local"].clear()
    with isolated(tmp_path):
        yield
    caches["local"].clear()


@pytest.fixture
def school() -> School:
    return make_school()


def _kept() -> str:
    """Everything the process keeps in its local cache, as text."""
    values = caches["local"]._cache.values()  # type: ignore[attr-defined]
    return "".join(str(pickle.loads(value)) for value in values)  # noqa: S301 (our own cache)


def _masked(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
    return _TOKEN.sub("TOKEN", html)


# The form ---------------------------------------------------------------------------------------------


def test_every_visitor_gets_the_same_form_with_their_own_tokens(school: School) -> None:
    first, second = Client(), Client()
    one = first.get(form_url(school)).content.decode()
    two = second.get(form_url(school)).content.decode()

    assert _masked(one) == _masked(two)
    assert _TOKEN.search(one).group(1) != _TOKEN.search(two).group(1)  # type: ignore[union-attr]
    assert csrf_token(one) != csrf_token(two)
    kept = _kept()
    assert "North Test High" in kept and "What happened?" in kept  # the form was kept ...
    for page in (one, two):  # ... but neither token
        assert _TOKEN.search(page).group(1) not in kept  # type: ignore[union-attr]
        assert csrf_token(page) not in kept


def test_each_token_of_a_kept_form_takes_one_report(school: School) -> None:
    client = Client()
    for _ in range(2):
        page = client.get(form_url(school)).content.decode()
        token = _TOKEN.search(page).group(1)  # type: ignore[union-attr]
        response = submit(client, school, report_data(submission_token=token))
        assert receipt_code(response)
    assert Report.objects.count() == 2


def test_the_kept_form_is_per_language(client: Client, school: School) -> None:
    english = client.get(form_url(school), headers={"Accept-Language": "en"}).content.decode()
    spanish = client.get(form_url(school), headers={"Accept-Language": "es"}).content.decode()
    again = client.get(form_url(school), headers={"Accept-Language": "en"}).content.decode()

    assert "What happened?" in english and "What happened?" not in spanish
    assert _masked(english) == _masked(again)


def test_a_new_name_or_crisis_line_shows_at_once(client: Client, school: School) -> None:
    assert "North Test High" in client.get(form_url(school)).content.decode()

    school.name = "Renamed Test High"
    school.save()
    district = school.district
    district.crisis_line = "1-800-555-0123"
    district.save()

    html = client.get(form_url(school)).content.decode()
    assert "Renamed Test High" in html and "North Test High" not in html
    assert "1-800-555-0123" in html and "1-800-555-0199" not in html
    assert "Renamed Test High" in client.get(reverse("report:school", args=[school.slug])).content.decode()


@override_settings(DEBUG=True)
def test_while_developing_the_pages_are_rendered_in_full(client: Client, school: School) -> None:
    page = client.get(form_url(school)).content.decode()
    code = receipt_code(submit(client, school))

    assert _TOKEN.search(page) and code
    kept = _kept()  # no rendered part kept: an edited template shows at once
    assert "What happened?" not in kept and "Write this code down now." not in kept


def test_a_form_given_back_with_errors_is_never_the_kept_one(client: Client, school: School) -> None:
    client.get(form_url(school))  # keeps the empty form

    response = submit(client, school, report_data(narrative="", location="Room 12"))

    assert response.status_code == 400
    html = response.content.decode()
    assert "Tell us what happened." in html and 'value="Room 12"' in html


# The school: remembered to show the form, checked to file a report -------------------------------------


def test_a_report_is_not_taken_for_a_school_closed_since_its_form_was_shown(client: Client, school: School) -> None:
    client.get(form_url(school))
    School.objects.filter(pk=school.pk).update(is_active=False)  # another process: no signal here

    response = submit(client, school)

    assert response.status_code == 404
    assert not Report.objects.exists()


def test_a_report_is_not_filed_under_the_former_district_of_a_moved_school(client: Client, school: School) -> None:
    elsewhere = DistrictFactory.create()
    client.get(form_url(school))
    School.objects.filter(pk=school.pk).update(district=elsewhere)  # another process: no signal here

    response = submit(client, school)  # to the old address

    assert response.status_code == 404
    assert not Report.objects.exists()
    moved = School.objects.select_related("district").get(pk=school.pk)
    assert receipt_code(submit(client, moved))
    assert Report.objects.get().district_id == elsewhere.pk


def test_a_school_opened_in_another_process_takes_reports_at_once(client: Client) -> None:
    district = DistrictFactory.create()
    url = reverse("report:school_in_district", args=[district.slug, "new-high"])
    assert client.get(url).status_code == 404
    School.objects.bulk_create([School(district=district, slug="new-high", name="New Test High")])  # no signal

    assert client.get(url).status_code == 200
    response = client.post(url, report_data())

    assert response.status_code == 200 and receipt_code(response)
    assert Report.objects.get().school.slug == "new-high"


def test_saving_a_school_or_district_forgets_what_was_kept(school: School) -> None:
    caches["local"].set("anything", 1)
    School.objects.get(pk=school.pk).save()
    assert caches["local"].get("anything") is None
    caches["local"].set("anything", 1)
    District.objects.get(pk=school.district_id).save()
    assert caches["local"].get("anything") is None


# The receipt ------------------------------------------------------------------------------------------


def test_receipts_share_their_text_but_never_their_code(client: Client, school: School) -> None:
    first = submit(client, school)
    second = submit(client, school)
    one, two = receipt_code(first), receipt_code(second)

    assert one != two
    html = second.content.decode()
    assert html.count(two) == 2 and one not in html  # shown, and in the download form
    assert f'<input type="hidden" name="code" value="{two}">' in html
    kept = _kept()
    assert "Write this code down now." in kept
    assert one not in kept and two not in kept
    assert _masked(first.content.decode()).replace(one, "CODE") == _masked(html).replace(two, "CODE")


@override_settings(BTAM_PUBLIC_BASE_URL="https://reports.example.test")
def test_the_receipt_shows_the_current_follow_up_address(client: Client, school: School) -> None:
    assert "https://reports.example.test/report/follow-up/" in submit(client, school).content.decode()


def test_a_resent_form_is_recognised_by_its_token(client: Client, school: School) -> None:
    data = report_data()
    assert receipt_code(submit(client, school, data))

    again = submit(client, school, data)

    assert "We already have this report." in again.content.decode()
    assert Report.objects.count() == 1
    assert Report.objects.get().submission_key == keyed_hash(data["submission_token"], purpose="submission")


# The text signature -----------------------------------------------------------------------------------


def _first_simhash(text: str) -> int | None:
    """The signature as first written (one keyed BLAKE2b per word and part, a running minimum)."""
    words = normalize(text).split()
    if len(words) < 5:
        return None
    key = bytes.fromhex(keyed_hash("", purpose="text-signature"))
    mins = [(1 << 32) - 1] * 64
    for word in set(words):
        data = word.encode()
        digest = b"".join(
            hashlib.blake2b(data, key=key, digest_size=64, person=b"btam-textsig-%d" % part).digest()
            for part in range(4)
        )
        mins = list(map(min, mins, struct.unpack(">64I", digest)))
    value = sum(1 << bit for bit, smallest in enumerate(mins) if smallest & 1)
    return value - (1 << 64) if value >= 1 << 63 else value


def test_the_signature_is_the_same_as_first_written(settings: object) -> None:
    rng = random.Random(7)
    vocabulary = "he said bring knife gun school Friday hurt José Núñez Łukasz 🙂 bus gym 中文 ÆØ ß straße".split()
    texts = ["", "one two three four", "one two three four five", "ONE, two! three? four five", "x " * 300]
    texts += [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 40))) for _ in range(300)]
    texts += [" ".join(f"word{rng.randrange(10**6)}" for _ in range(n)) for n in (255, 256, 257, 511, 512, 3000)]
    common = sorted(features.COMMON_WORDS)  # their hashes are kept, the others made for each text
    texts += [" ".join(common[i : i + 7]) for i in range(0, len(common), 7)]
    texts += [" ".join(common[i : i + 5] + [f"word{i}"]) for i in range(0, len(common), 5)]
    for key in ("a-first-receipt-key-0123456789abcdef", "another-receipt-key-0123456789abcdef"):
        with override_settings(BTAM_RECEIPT_KEY=key):
            assert [features.simhash(t) for t in texts] == [_first_simhash(t) for t in texts]


# The form's fields, shared between forms ----------------------------------------------------------------


def _field_state() -> list[tuple[str, object, object, object]]:
    from btam.intake.public_forms import ReportForm

    return [
        (name, repr(field.widget.attrs), repr(getattr(field, "choices", None)), repr(field.error_messages))
        for name, field in ReportForm.base_fields.items()
    ]


def test_forms_share_the_fields_and_rendering_or_cleaning_changes_none_of_them(client: Client, school: School) -> None:
    from btam.intake.public_forms import ReportForm

    before = _field_state()
    one, two = ReportForm(), ReportForm({"narrative": ""})
    assert one.fields["narrative"] is two.fields["narrative"] is ReportForm.base_fields["narrative"]
    assert not two.is_valid()
    str(one), str(two)  # every widget rendered, one form with errors

    bad = submit(client, school, report_data(narrative="", location="Room 12", weapon="maybe"))
    good = client.get(form_url(school)).content.decode()

    assert bad.status_code == 400 and 'value="Room 12"' in bad.content.decode()
    assert "Room 12" not in good and "usa-error-message" not in good  # nothing of one form in the next
    assert _field_state() == before


def test_a_school_closed_between_its_lookup_and_the_report_gets_not_found(
    client: Client, school: School, monkeypatch: pytest.MonkeyPatch
) -> None:
    from btam.intake import public_views

    stale = School.objects.select_related("district").get(pk=school.pk)
    School.objects.filter(pk=school.pk).update(is_active=False)
    monkeypatch.setattr(public_views, "_schools_named", lambda slug: [stale])  # looked up just before

    response = client.post(reverse("report:school", args=[school.slug]), report_data())

    assert response.status_code == 404
    assert not Report.objects.exists()


def test_help_texts_are_shown_in_the_visitors_language_and_described_by(client: Client, school: School) -> None:
    english = client.get(form_url(school), headers={"Accept-Language": "en"}).content.decode()
    spanish = client.get(form_url(school), headers={"Accept-Language": "es"}).content.decode()
    bad = submit(client, school, report_data(narrative=""), headers={"Accept-Language": "es"}).content.decode()

    assert "Tell us in your own words" in english and "Cuéntanos con tus propias palabras" in spanish
    assert "Cuéntanos con tus propias palabras" in bad  # a form given back, rendered in full
    for html in (english, spanish):
        assert 'id="id_narrative_helptext"' in html and 'aria-describedby="id_narrative_helptext"' in html
