"""Applying through the public form: the happy path, every validation error, double and concurrent posts."""

from __future__ import annotations

import asyncio
import itertools
import re

import pytest
from sqlalchemy import select

from app.demo import make_docx, make_pdf
from app.models import Applicant, Application, Event, OutboxEmail, RateLimitCounter, WorkSample
from tests.environment import BASE_URL
from tests.factories import make_staff, open_form, post_application, read_samples, valid_fields
from tests.queries import count_rows

RECEIVED = re.compile(r"^/apply/received/([A-Za-z0-9_-]{32,})$")


async def test_applicant_applies_with_pdf_docx_link_and_text(app, client, db, settings):
    await make_staff(db, email="news.editor@desk.example", name="Eda Editor", departments=("news",))
    await make_staff(db, email="other.editor@desk.example", name="Eda Editor", departments=("analysis",))
    article = valid_fields()["sample-0-text"]
    data = valid_fields(
        departments=["news"],
        **{
            "sample-1-title": "The call, as PDF",
            "sample-2-title": "The call, as DOCX",
            "sample-3-title": "My portfolio",
            "sample-3-url": "https://portfolio.example/leyla/clips",
        },
    )
    files = [
        ("sample-1-file", ("karabakh call.pdf", make_pdf("Putin and Erdogan", article), "application/pdf")),
        (
            "sample-2-file",
            ("karabakh.docx", make_docx("Putin and Erdogan", article), "application/octet-stream"),
        ),
    ]
    response = await post_application(client, data, files)

    assert response.status_code == 303, response.text
    match = RECEIVED.match(response.headers["location"])
    assert match, response.headers["location"]
    public_id = match.group(1)

    thanks = await client.get(response.headers["location"])
    assert thanks.status_code == 200
    assert f"/status/{public_id}" in thanks.text
    assert data["email"] in thanks.text

    async with db.sessionmaker() as session:
        application = (await session.scalars(select(Application))).one()
        samples = (await session.scalars(select(WorkSample).order_by(WorkSample.position))).all()
        outbox = (await session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))).all()
        events = (await session.scalars(select(Event))).all()
    assert application.public_id == public_id
    assert application.state == "submitted"
    assert application.due_at is not None
    assert [s.kind for s in samples] == ["text", "file", "file", "link"]
    assert [s.detected_type for s in samples] == [None, "pdf", "docx", None]
    assert samples[0].word_count and samples[0].word_count > 200
    # The PDF was kept on its first bytes; its words are counted after the answer, by the reader.
    assert samples[1].word_count is None and samples[1].text_pending
    assert samples[2].word_count and not samples[2].text_pending
    assert await read_samples(app) == 3  # the PDF; the prints of the pasted text and of the DOCX
    async with db.sessionmaker() as session:
        samples = (await session.scalars(select(WorkSample).order_by(WorkSample.position))).all()
    assert samples[1].word_count and samples[1].word_count > 100
    assert not any(s.text_pending for s in samples)
    assert samples[1].file_name == "karabakh call.pdf"
    for sample in samples[1:3]:
        path = settings.uploads_path / sample.storage_key
        assert path.is_file() and path.stat().st_size == sample.size_bytes
        assert sample.storage_key not in sample.file_name
    assert [e.kind for e in events] == ["submitted"]
    # The applicant's confirmation and one note to the editor covering the news department.
    assert [(m.template, m.recipient) for m in outbox] == [
        ("applicant_received", data["email"]),
        ("staff_new_application", "news.editor@desk.example"),
    ]
    assert outbox[0].context["status_url"] == f"{settings.base_url}/status/{public_id}"
    assert outbox[0].status == "queued" and outbox[0].message_id.startswith("<")
    assert outbox[1].is_staff


async def test_form_page_lists_departments_topics_and_consent(client):
    response = await client.get("/apply")
    assert response.status_code == 200
    for expected in (
        'value="news"',
        'value="analysis"',
        'value="economics"',
        'name="consent"',
        'type="file"',
    ):
        assert expected in response.text
    home = await client.get("/")
    assert "quickly analyze the text and check the facts" in home.text
    assert 'href="/apply"' in home.text


INVALID_CASES = [
    ("name", {"name": ""}, "Enter your name"),
    ("name", {"name": "Eve\r\nBcc: victim@example.org"}, "single line"),
    ("name", {"name": "x" * 201}, "at most 200"),
    ("email", {"email": "not-an-email"}, "like name@example.com"),
    ("email", {"email": "eve@example.org\r\nBcc: victim@example.org"}, "like name@example.com"),
    ("phone", {"phone": "call me maybe"}, "phone number"),
    ("country", {"country": ""}, "country"),
    ("profile_links", {"profile_links": ["javascript:alert(1)"]}, "http"),
    ("profile_links", {"profile_links": ["data:text/html,hi"]}, "http"),
    ("profile_links", {"profile_links": [f"https://x.example/{i}" for i in range(4)]}, "at most 3"),
    ("departments", {"departments": None}, "at least one department"),
    ("departments", {"departments": ["sport"]}, "from the list"),
    ("topics", {"topics": None}, "at least one topic"),
    ("motivation", {"motivation": "Too short."}, "at least 50"),
    ("motivation", {"motivation": "x" * 5001}, "at most 5000"),
    ("experience", {"experience": "  "}, "experience"),
    ("availability", {"availability": ""}, "when and how much"),
    ("consent", {"consent": None}, "agree"),
    ("samples", {"sample-0-title": None, "sample-0-text": None}, "at least one work sample"),
    ("sample-0", {"sample-0-title": ""}, "title"),
    ("sample-0", {"sample-0-url": "https://example.org/a"}, "only one of"),
    ("sample-1", {"sample-1-title": "Link", "sample-1-url": "javascript:alert(1)"}, "http"),
    ("sample-1", {"sample-1-title": "Long", "sample-1-text": "word " * 10_001}, "at most 50000"),
]


@pytest.mark.parametrize(
    ("field", "overrides", "message"), INVALID_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(INVALID_CASES)]
)
async def test_invalid_input_rerenders_form_with_values_and_message_at_field(
    client, db, field, overrides, message
):
    data = valid_fields(**overrides)
    response = await post_application(client, data)

    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{re.escape(field)}-error">([^<]*)</p>', response.text)
    assert error, f"no message at {field}"
    assert message.lower() in error.group(1).lower()
    # What was typed is still there.
    if field != "availability":
        assert 'value="Two pieces a week"' in response.text
    if field != "country":
        assert 'value="Azerbaijan"' in response.text
    assert await count_rows(db, Application) == 0
    assert await count_rows(db, Applicant) == 0


async def test_file_that_must_be_attached_again_is_named(client, db):
    pdf = make_pdf("Title", "Body text of the sample.")
    response = await post_application(
        client,
        valid_fields(name="", **{"sample-1-title": "As PDF"}),
        [("sample-1-file", ("my-article.pdf", pdf, "application/pdf"))],
    )
    assert response.status_code == 422
    assert "attach “my-article.pdf” again" in response.text
    assert await count_rows(db, WorkSample) == 0


@pytest.mark.parametrize(
    ("later_error", "field"),
    [("a sibling file refused", "sample-2"), ("a department that does not exist", "departments")],
)
async def test_a_submission_that_fails_after_its_files_are_stored_leaves_no_file_and_no_row(
    client, db, settings, later_error, field
):
    folder = settings.uploads_path
    before = set(folder.iterdir())
    pdf = make_pdf("Title", "Body text of the sample.")
    files = [("sample-1-file", ("my-article.pdf", pdf, "application/pdf"))]
    overrides: dict[str, object] = {"sample-1-title": "As PDF"}
    if later_error == "a sibling file refused":
        # Refused after the first file is stored: an empty file is only found empty once it is read.
        files.append(("sample-2-file", ("empty.txt", b"", "text/plain")))
        overrides["sample-2-title"] = "Empty"
    else:
        # Only the database knows the department slugs: the files and the rate-limit counts are written by
        # then, and rolled back with the rest.
        overrides["departments"] = ["news", "no-such-desk"]
    response = await post_application(client, valid_fields(**overrides), files)

    assert response.status_code == 422, response.text
    assert f'id="{field}-error"' in response.text
    assert set(folder.iterdir()) == before
    for model in (Application, Applicant, WorkSample, RateLimitCounter):
        assert await count_rows(db, model) == 0, model


async def test_the_form_answered_after_a_partial_write_keeps_nothing_of_it(client, db):
    # The rate-limit counts are written before the department slugs are looked up: the form comes back with the
    # message at the field, and the failed post counted for nothing.
    data = valid_fields(departments=["news", "no-such-desk"])
    refused = await post_application(client, data)
    assert refused.status_code == 422
    assert 'id="departments-error"' in refused.text and 'value="Two pieces a week"' in refused.text
    assert await count_rows(db, RateLimitCounter) == 0

    accepted = await post_application(client, {**data, "departments": ["news"]})
    assert accepted.status_code == 303, accepted.text
    async with db.sessionmaker() as session:
        counts = (await session.scalars(select(RateLimitCounter.count))).all()
    assert counts == [1, 1]  # this address and this email, once each


async def test_double_submit_of_one_form_makes_one_application(client, db):
    tokens = await open_form(client)
    data = valid_fields()
    first = await post_application(client, data, tokens=tokens)
    second = await post_application(client, data, tokens=tokens)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await count_rows(db, Application) == 1
    assert await count_rows(db, OutboxEmail) == 1


async def test_simultaneous_double_submit_makes_one_application(client, db):
    tokens = await open_form(client)
    data = valid_fields()
    responses = await asyncio.gather(*(post_application(client, data, tokens=tokens) for _ in range(3)))
    assert {r.status_code for r in responses} == {303}
    assert len({r.headers["location"] for r in responses}) == 1
    assert await count_rows(db, Application) == 1


async def test_hundred_concurrent_submissions_are_all_stored(client, db):
    tokens = [await open_form(client) for _ in range(100)]
    responses = await asyncio.gather(*(post_application(client, valid_fields(), tokens=t) for t in tokens))
    statuses = [r.status_code for r in responses]
    assert statuses == [303] * 100, {s: statuses.count(s) for s in set(statuses)}
    assert not any("database is locked" in r.text for r in responses)
    assert await count_rows(db, Application) == 100
    assert await count_rows(db, OutboxEmail) == 100


async def test_bidi_controls_are_removed_from_names_and_titles(client, db):
    response = await post_application(
        client,
        valid_fields(
            name="Leyla \u202emoc.live\u202c Mammadova\u2066\u200f",
            city="Ba\u061cku",
            **{"sample-0-title": "\u202aOn the call\u2069"},
        ),
    )
    assert response.status_code == 303, response.text
    async with db.sessionmaker() as session:
        applicant = (await session.scalars(select(Applicant))).one()
        sample = (await session.scalars(select(WorkSample))).one()
    assert applicant.name == "Leyla moc.live Mammadova"
    assert applicant.city == "Baku"
    assert sample.title == "On the call"


async def test_a_name_of_nothing_but_bidi_controls_is_refused(client, db):
    response = await post_application(client, valid_fields(name="\u202e\u2067"))
    assert response.status_code == 422
    assert 'id="name-error">Enter your name.' in response.text
    assert await count_rows(db, Application) == 0


async def test_a_sixth_sample_is_refused_with_a_message_at_the_samples(client, db, settings):
    extra = {f"sample-{i}-title": f"Piece {i}" for i in range(1, 6)} | {
        f"sample-{i}-url": f"https://paper.example/{i}" for i in range(1, 6)
    }
    response = await post_application(client, valid_fields(**extra))
    assert response.status_code == 422
    error = re.search(r'<p class="field-error" id="samples-error">([^<]*)</p>', response.text)
    assert error and f"at most {settings.max_samples} work samples" in error.group(1)
    assert await count_rows(db, Application) == 0 and await count_rows(db, WorkSample) == 0
    # Five samples are fine, and a sixth slot sent empty is no sample at all.
    five = {k: v for k, v in extra.items() if not k.startswith("sample-5-")} | {"sample-5-title": " "}
    assert (await post_application(client, valid_fields(**five))).status_code == 303
    assert await count_rows(db, WorkSample) == 5


async def test_a_sixth_sample_file_is_refused_too(client, db):
    response = await post_application(
        client,
        valid_fields(**{"sample-7-title": "Extra"}),
        [("sample-7-file", ("extra.txt", b"An extra piece of writing.", "text/plain"))],
    )
    assert response.status_code == 422 and 'id="samples-error"' in response.text
    assert await count_rows(db, Application) == 0


def _tag_with_id(html: str, element_id: str) -> str | None:
    match = re.search(rf'<(input|textarea|select)\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    return match.group(0) if match else None


def _label_for(html: str, element_id: str) -> str:
    match = re.search(rf'<label[^>]*for="{re.escape(element_id)}"[^>]*>(.*?)</label>', html, re.S)
    if match:
        return match.group(1)
    wrapped = re.search(
        rf'<label[^>]*>(?:(?!</label>).)*\bid="{re.escape(element_id)}".*?</label>', html, re.S
    )
    assert wrapped, f"no label for {element_id}"
    return wrapped.group(0)


async def test_every_field_the_server_requires_is_marked_required_on_the_form(client):
    form = await client.get("/apply")
    response = await post_application(client, {})
    assert response.status_code == 422
    required_by_server = re.findall(r'<p class="field-error" id="([^"]+)-error">', response.text)
    assert {"name", "email", "country", "availability", "consent", "samples"} <= set(required_by_server)
    for key in required_by_server:
        control = _tag_with_id(form.text, key)
        if control is not None:  # a single input: the attribute for browsers and assistive technology
            assert re.search(r"\srequired(\s|>|=)", control), f"{key} lacks the required attribute"
            assert "(required)" in _label_for(form.text, key), f"{key}'s label does not say it is required"
        else:  # a group of choices: its legend says so
            group = re.search(
                rf"<fieldset[^>]*{re.escape(key)}-error[^>]*>\s*<legend>(.*?)</legend>", response.text, re.S
            )
            assert group, f"no input or group for {key}"
            assert "(required" in group.group(1), f"{key}'s group does not say it is required"
    # Optional fields are not marked required.
    for key in ("phone", "city", "profile-link-0"):
        control = _tag_with_id(form.text, key)
        assert control and " required" not in control


async def test_the_error_summary_follows_the_order_of_the_form(client):
    response = await post_application(
        client, valid_fields(name="", consent=None, availability="", **{"sample-1-title": "No content"})
    )
    assert response.status_code == 422
    summary = re.search(r"<div[^>]*data-error-summary[^>]*>(.*?)</div>", response.text, re.S)
    assert summary
    listed = re.findall(r'href="#([^"]+)-error"', summary.group(1))
    on_page = re.findall(r'<p class="field-error" id="([^"]+)-error">', response.text)
    assert listed == on_page == ["name", "availability", "sample-1", "consent"]


async def test_the_email_error_is_in_our_words(client):
    for address in ("leyla.example.org", "leyla@", "leyla@@example.org"):
        response = await post_application(client, valid_fields(email=address))
        assert response.status_code == 422
        error = re.search(r'<p class="field-error" id="email-error">([^<]*)</p>', response.text)
        assert error and error.group(1) == "Enter an email address like name@example.com."
        assert "sign" not in response.text and "(The" not in response.text


def _heading_levels(html: str) -> list[int]:
    return [int(level) for level in re.findall(r"<h([1-6])\b", html.split("<main", 1)[1])]


async def test_headings_on_the_form_go_down_one_level_at_a_time(client):
    for page in ((await client.get("/apply")).text, (await post_application(client, {})).text):
        levels = _heading_levels(page)
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels


async def test_the_thank_you_page_shows_the_full_status_link_to_copy(client):
    response = await post_application(client)
    assert response.status_code == 303
    public_id = RECEIVED.match(response.headers["location"]).group(1)
    thanks = await client.get(response.headers["location"])
    status_url = f"{BASE_URL}/status/{public_id}"
    assert f'<a href="{status_url}" id="status-link">{status_url}</a>' in thanks.text
    # Without JavaScript the link can be selected in a read-only field; the script adds a copy button.
    field = _tag_with_id(thanks.text, "status-url")
    assert field and f'value="{status_url}"' in field and "readonly" in field
    assert 'data-copy="status-url"' in thanks.text
    script = re.search(r'<script src="(/static/[^"]+\.js)"', thanks.text)
    assert script and (await client.get(script.group(1))).status_code == 200
