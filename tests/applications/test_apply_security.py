"""docs/security.md items of the public side, each written to fail if its protection goes (C1, C3, D1-D4, E1-E4, F2-F4, G1-G4)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.demo import make_pdf
from app.main import create_app
from app.models import Applicant, Application, OutboxEmail, WorkSample
from tests.applications.support import files_in
from tests.factories import make_client, open_form, post_application, valid_fields
from tests.queries import count_rows


async def rows(db, model):
    async with db.sessionmaker() as session:
        return (await session.scalars(select(model))).all()


async def assert_nothing_stored(db, settings) -> None:
    assert await count_rows(db, Application) == 0
    assert await count_rows(db, Applicant) == 0
    assert await count_rows(db, WorkSample) == 0
    assert await count_rows(db, OutboxEmail) == 0
    assert files_in(settings.uploads_path) == []


# --- E1-E4 uploads through the form -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("cv.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200),
        ("cv.docx", b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
        ("cv.html", b"<html><script>alert(1)</script></html>"),
        ("cv.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        ("cv.txt", b"<!doctype html><html><script>alert(1)</script></html>"),
        ("cv.html.pdf", b"%PDF-1.4\n%%EOF\n"),
    ],
)
async def test_refused_file_types_store_nothing(client, db, settings, filename, content):
    data = valid_fields(**{"sample-1-title": "Upload"})
    response = await post_application(
        client, data, [("sample-1-file", (filename, content, "application/pdf"))]
    )
    assert response.status_code == 422
    assert 'id="sample-1-error"' in response.text
    await assert_nothing_stored(db, settings)


async def test_file_over_the_size_limit_is_413_and_leaves_nothing(app, db, settings):
    settings.max_file_bytes = 2048
    async with make_client(app) as client:
        data = valid_fields(**{"sample-1-title": "Big"})
        big = b"word " * 1000
        response = await post_application(client, data, [("sample-1-file", ("big.txt", big, "text/plain"))])
    assert response.status_code == 413
    assert "larger than" in response.text
    await assert_nothing_stored(db, settings)


async def test_samples_over_the_application_limit_are_refused(app, db, settings):
    settings.max_application_bytes = 6000
    async with make_client(app) as client:
        data = valid_fields(**{"sample-1-title": "One", "sample-2-title": "Two"})
        part = b"word " * 800
        files = [
            ("sample-1-file", ("one.txt", part, "text/plain")),
            ("sample-2-file", ("two.txt", part, "text/plain")),
        ]
        response = await post_application(client, data, files)
    assert response.status_code == 413
    assert 'id="sample-2-error"' in response.text
    await assert_nothing_stored(db, settings)


async def test_body_over_the_route_limit_gets_a_readable_413_page(db, settings):
    settings.max_application_bytes = 1024
    app = create_app(settings)
    async with make_client(app) as client:
        data = valid_fields(**{"sample-1-title": "Huge"})
        huge = b"a" * (3 * 1024 * 1024)
        response = await post_application(client, data, [("sample-1-file", ("huge.txt", huge, "text/plain"))])
    assert response.status_code == 413
    assert "<h1" in response.text and "larger than this site accepts" in response.text
    await assert_nothing_stored(db, settings)


async def test_client_filename_never_decides_where_a_file_is_stored(client, db, settings):
    data = valid_fields(**{"sample-1-title": "Traversal"})
    pdf = make_pdf("T", "Some words here.")
    response = await post_application(
        client, data, [("sample-1-file", ("../../etc/passwd.pdf", pdf, "application/pdf"))]
    )
    assert response.status_code == 303
    (sample,) = [s for s in await rows(db, WorkSample) if s.kind == "file"]
    assert sample.file_name == "passwd.pdf"
    assert re.fullmatch(r"[0-9a-f]{32}", sample.storage_key)
    assert files_in(settings.uploads_path) == [settings.uploads_path / sample.storage_key]


# --- C1 public ids ---------------------------------------------------------------------------------------


async def test_status_pages_are_reached_only_by_random_ids(client, db):
    for _ in range(2):
        assert (await post_application(client)).status_code == 303
    applications = await rows(db, Application)
    ids = [a.public_id for a in applications]
    assert all(len(i) >= 32 for i in ids) and ids[0] != ids[1]
    for guess in [str(applications[0].id), ids[0][:-1] + ("A" if ids[0][-1] != "A" else "B"), "x" * 65]:
        response = await client.get(f"/status/{guess}")
        assert response.status_code == 404
        assert "no application at this address" in response.text
    assert (await client.get(f"/status/{ids[0]}")).status_code == 200


# --- C3 mass assignment ------------------------------------------------------------------------------------


async def test_extra_form_fields_are_ignored(client, db):
    data = valid_fields(
        state="accepted",
        assigned_editor_id="1",
        version="99",
        created_at="2001-01-01T00:00:00",
        spam_score="-5",
    )
    response = await post_application(client, data)
    assert response.status_code == 303
    (application,) = await rows(db, Application)
    assert application.state == "submitted"
    assert application.assigned_editor_id is None
    assert application.version == 1
    assert application.created_at.year == datetime.now(UTC).year
    assert application.spam_score == 0


# --- D2 / D4 escaping and bound parameters -----------------------------------------------------------------


async def test_markup_in_user_input_is_shown_escaped(client, db):
    evil = "<script>alert('x')</script>"
    data = valid_fields(name=f"Eve {evil}", **{"sample-0-title": f"Title {evil}"})
    response = await post_application(client, data)
    assert response.status_code == 303
    for url in (response.headers["location"], f"/status/{(await rows(db, Application))[0].public_id}"):
        page = await client.get(url)
        assert evil not in page.text
        assert "&lt;script&gt;" in page.text


async def test_sql_in_fields_is_stored_as_plain_text(client, db):
    name = "Robert'); DROP TABLE application;--"
    response = await post_application(client, valid_fields(name=name))
    assert response.status_code == 303
    (applicant,) = await rows(db, Applicant)
    assert applicant.name == name
    assert await count_rows(db, Application) == 1


# --- F2-F4 CSRF, headers, hosts ------------------------------------------------------------------------


async def test_form_post_without_csrf_token_is_refused(client, db, settings):
    tokens = await open_form(client)
    tokens.pop("_csrf_token")
    response = await post_application(client, tokens=tokens)
    assert response.status_code == 403
    assert "reload the page" in response.text
    await assert_nothing_stored(db, settings)


async def test_form_post_with_another_sessions_token_is_refused(client, db, settings):
    tokens = await open_form(client)
    client.cookies.clear()
    await client.get("/")  # a fresh CSRF cookie that does not match the token in the form
    response = await post_application(client, tokens=tokens)
    assert response.status_code == 403
    await assert_nothing_stored(db, settings)


@pytest.mark.parametrize("path", ["/", "/apply", "/status/unknown", "/no-such-page"])
async def test_every_html_response_carries_security_headers(client, path):
    response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


async def test_unknown_host_header_is_refused(client):
    response = await client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400


async def test_email_links_use_the_configured_base_url_not_the_request_host(client, db, settings):
    response = await post_application(client, headers={"host": "localhost"})
    assert response.status_code == 303
    (mail,) = await rows(db, OutboxEmail)
    assert mail.context["status_url"].startswith(settings.base_url + "/status/")


# --- G1 honeypot and timing -------------------------------------------------------------------------------


async def test_filled_honeypot_looks_accepted_but_is_spam_and_sends_nothing(client, db):
    response = await post_application(client, valid_fields(website="https://spam.example"))
    assert response.status_code == 303
    thanks = await client.get(response.headers["location"])
    assert thanks.status_code == 200 and "Thank you" in thanks.text
    (application,) = await rows(db, Application)
    assert application.state == "spam"
    assert application.spam_reason == "honeypot field filled"
    assert await count_rows(db, OutboxEmail) == 0
    status = await client.get(f"/status/{application.public_id}")
    assert "Received" in status.text and "spam" not in status.text.lower()


async def test_form_sent_faster_than_a_person_is_spam(app, db):
    app.state.clock.frozen = None  # the real time: the post follows the render within a second
    async with make_client(app) as client:
        response = await post_application(client)
    assert response.status_code == 303
    (application,) = await rows(db, Application)
    assert application.state == "spam"
    assert "faster" in (application.spam_reason or "")
    assert await count_rows(db, OutboxEmail) == 0


async def test_forged_form_token_is_spam(client, db):
    tokens = await open_form(client)
    tokens["form_token"] = "forged." + tokens["form_token"][-10:]
    response = await post_application(client, tokens=tokens)
    assert response.status_code == 303
    (application,) = await rows(db, Application)
    assert application.state == "spam"
    assert await count_rows(db, OutboxEmail) == 0


# --- G2 / G3 rate limits ----------------------------------------------------------------------------------


async def test_per_ip_limit_answers_429_with_a_readable_page(app, db, settings):
    settings.rate_apply_per_ip = 2
    async with make_client(app) as client:
        statuses = [(await post_application(client)).status_code for _ in range(2)]
        third = await post_application(client)
    assert statuses == [303, 303]
    assert third.status_code == 429
    assert "wait" in third.text and "<h1" in third.text
    assert int(third.headers["retry-after"]) > 0
    assert await count_rows(db, Application) == 2


async def test_per_email_limit_caps_mail_to_one_recipient(app, db, settings):
    settings.rate_apply_per_email = 2
    async with make_client(app) as client:
        results = [
            (await post_application(client, valid_fields(email=address))).status_code
            for address in ("same@applicant.example", "SAME@applicant.example", "same@applicant.example")
        ]
    assert results == [303, 303, 429]
    mails = await rows(db, OutboxEmail)
    assert [m.recipient for m in mails] == ["same@applicant.example", "SAME@applicant.example"]


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(app, settings):
    settings.rate_apply_per_ip = 1
    async with make_client(app) as client:
        first = await post_application(client, headers={"x-forwarded-for": "203.0.113.1"})
        second = await post_application(client, headers={"x-forwarded-for": "203.0.113.2"})
        assert (first.status_code, second.status_code) == (303, 429)
        settings.trusted_proxies = ["testclient", "127.0.0.1"]
        third = await post_application(client, headers={"x-forwarded-for": "203.0.113.3"})
        assert third.status_code == 303


async def test_confirmation_goes_only_to_the_submitted_address_with_little_free_text(client, db):
    data = valid_fields(email="only.me@applicant.example")
    assert (await post_application(client, data)).status_code == 303
    (mail,) = await rows(db, OutboxEmail)
    assert mail.recipient == "only.me@applicant.example"
    flat = repr(mail.context)
    assert data["motivation"] not in flat and data["sample-0-text"][:200] not in flat


# --- G4 repeat applicants ----------------------------------------------------------------------------------


async def test_repeat_application_is_linked_and_flagged_not_merged(client, db):
    first = await post_application(client, valid_fields(email="again@applicant.example", name="First Name"))
    second = await post_application(client, valid_fields(email="Again@Applicant.example", name="Second Name"))
    assert first.status_code == second.status_code == 303
    async with db.sessionmaker() as session:
        result = (
            await session.execute(select(Application, Applicant).join(Applicant).order_by(Application.id))
        ).all()
    (a1, p1), (a2, p2) = result
    assert not a1.is_repeat and a2.is_repeat and a2.repeat_of_id == a1.id
    assert p1.name == "First Name" and p2.name == "Second Name"
    assert p1.email_normalized == p2.email_normalized == "again@applicant.example"
