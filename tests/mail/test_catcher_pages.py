"""The mail catcher's pages: listed, read, the HTML part sandboxed; absent unless configured, refused in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.main import create_app
from app.settings import Settings
from tests.factories import make_client

MESSAGE = (
    b"From: Desk <desk@meridian.example>\r\nTo: Leyla <leyla@applicant.example>\r\nSubject: We received it\r\n"
    b"Message-ID: <1@meridian.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour status: http://127.0.0.1:8000/status/abc\r\n"
    b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hi</p><script>alert(1)</script></body></html>\r\n"
    b"--b--\r\n"
)


async def test_caught_mail_is_listed_and_read_with_the_html_part_sandboxed(settings):
    on = settings.model_copy(update={"mail_catcher": True})
    on.mail_catcher_dir.mkdir(parents=True, exist_ok=True)
    (on.mail_catcher_dir / "20261125T080000-000001-0123abcd.eml").write_bytes(MESSAGE)
    app = create_app(on)
    async with make_client(app) as client:
        listing = await client.get("/mail-catcher")
        assert listing.status_code == 200 and "We received it" in listing.text
        assert "Mail catcher" in (await client.get("/")).text  # linked from every page while it is on
        page = await client.get("/mail-catcher/20261125T080000-000001-0123abcd")
        assert page.status_code == 200 and "/status/abc" in page.text and "<script>alert" not in page.text
        html = await client.get("/mail-catcher/20261125T080000-000001-0123abcd/html")
        assert html.status_code == 200 and html.headers["content-security-policy"].startswith("sandbox;")
        assert "script-src" not in html.headers["content-security-policy"]  # default-src none covers it
        assert (await client.get("/mail-catcher/..%2F..%2Fetc%2Fpasswd")).status_code == 404
        ru = {"Accept-Language": "ru"}
        russian = (await client.get("/mail-catcher", headers=ru)).text
        assert "<h1>Перехватчик почты</h1>" in russian and "Mail catcher</h1>" not in russian
        read = (await client.get("/mail-catcher/20261125T080000-000001-0123abcd", headers=ru)).text
        assert "Текстовая часть" in read and "Открыть HTML-часть" in read and "Text part" not in read
    await app.state.db.dispose()


async def test_the_catcher_is_absent_unless_configured(client):
    assert (await client.get("/mail-catcher")).status_code == 404


def test_production_refuses_the_mail_catcher():
    with pytest.raises(ValidationError, match="MAIL_CATCHER"):
        Settings(env="production", secret_key="x" * 40, base_url="https://desk.example", mail_catcher=True)
