"""Applying through the public form: the happy path, every validation error, double and concurrent posts."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select

from app.db import Database
from app.demo import make_docx, make_pdf
from app.models import Applicant, Application, Event, OutboxEmail, User, UserDepartment, WorkSample
from tests.conftest import open_form, post_application, valid_fields

RECEIVED = re.compile(r"^/apply/received/([A-Za-z0-9_-]{32,})$")


async def count(db: Database, model: type) -> int:
    async with db.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def add_editor(db: Database, *, email: str, department_slug: str | None = None) -> None:
    from app.models import Department

    async with db.write_session() as session:
        editor = User(email=email, name="Eda Editor", password_hash="x", is_editor=True)
        session.add(editor)
        await session.flush()
        if department_slug:
            department = (
                await session.scalars(select(Department).where(Department.slug == department_slug))
            ).one()
            session.add(UserDepartment(user_id=editor.id, department_id=department.id))


async def test_applicant_applies_with_pdf_docx_link_and_text(client, db, settings):
    await add_editor(db, email="news.editor@desk.example", department_slug="news")
    await add_editor(db, email="other.editor@desk.example", department_slug="analysis")
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
    assert samples[1].word_count and samples[1].word_count > 100
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
    ("email", {"email": "not-an-email"}, "valid email"),
    ("email", {"email": "eve@example.org\r\nBcc: victim@example.org"}, "valid email"),
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
    assert await count(db, Application) == 0
    assert await count(db, Applicant) == 0


async def test_file_that_must_be_attached_again_is_named(client, db):
    pdf = make_pdf("Title", "Body text of the sample.")
    response = await post_application(
        client,
        valid_fields(name="", **{"sample-1-title": "As PDF"}),
        [("sample-1-file", ("my-article.pdf", pdf, "application/pdf"))],
    )
    assert response.status_code == 422
    assert "attach “my-article.pdf” again" in response.text
    assert await count(db, WorkSample) == 0


async def test_double_submit_of_one_form_makes_one_application(client, db):
    tokens = await open_form(client)
    data = valid_fields()
    first = await post_application(client, data, tokens=tokens)
    second = await post_application(client, data, tokens=tokens)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await count(db, Application) == 1
    assert await count(db, OutboxEmail) == 1


async def test_simultaneous_double_submit_makes_one_application(client, db):
    tokens = await open_form(client)
    data = valid_fields()
    responses = await asyncio.gather(*(post_application(client, data, tokens=tokens) for _ in range(3)))
    assert {r.status_code for r in responses} == {303}
    assert len({r.headers["location"] for r in responses}) == 1
    assert await count(db, Application) == 1


async def test_hundred_concurrent_submissions_are_all_stored(client, db):
    tokens = [await open_form(client) for _ in range(100)]
    responses = await asyncio.gather(*(post_application(client, valid_fields(), tokens=t) for t in tokens))
    statuses = [r.status_code for r in responses]
    assert statuses == [303] * 100, {s: statuses.count(s) for s in set(statuses)}
    assert not any("database is locked" in r.text for r in responses)
    assert await count(db, Application) == 100
    assert await count(db, OutboxEmail) == 100
