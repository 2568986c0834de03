"""User journeys in a real browser: Debian's Chromium driven by Playwright against a real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.db import Database
from app.demo import make_pdf
from app.models import Application, OutboxEmail
from app.settings import Settings
from tests.conftest import ROOT, SAMPLES, _empty_tables

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """Byline served by uvicorn in its own process on a free loopback port."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "BYLINE_ENV": "test",
        "BYLINE_DATABASE_URL": settings.db_url,
        "BYLINE_VAR_DIR": str(settings.var_dir),
        "BYLINE_BASE_URL": base_url,
        "BYLINE_SPAM_MIN_FORM_SECONDS": "0",
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(base_url + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError((tmp_path / "server.log").read_text())
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
async def clean_db(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings)
    await _empty_tables(db)
    yield db
    await db.dispose()


@pytest.fixture
async def page() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1100, "height": 900})
        yield await context.new_page()
        await browser.close()


async def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_applicant_applies_follows_status_and_withdraws_in_a_browser(
    clean_db, live_server, page, tmp_path
):
    pdf = tmp_path / "karabakh-analysis.pdf"
    article = (SAMPLES / "work-sample-news.txt").read_text(encoding="utf-8")
    pdf.write_bytes(make_pdf("Putin and Erdogan on Karabakh", article))

    await page.goto(live_server + "/")
    await shot(page, "applicant-01-home")
    await page.get_by_role("link", name="Apply now").click()
    await page.get_by_label("Full name").fill("Leyla Mammadova")
    await page.get_by_label("Email").fill("leyla@applicant.example")
    await page.get_by_label("Country").fill("Azerbaijan")
    await page.get_by_label("News").check()
    await page.get_by_label("Politics").check()
    await page.get_by_label("Cover letter").fill(
        "I analyse regional politics quickly and check each claim against primary sources before writing."
    )
    await page.get_by_label("Experience").fill("Four years at a regional daily.")
    await page.get_by_label("Availability").fill("Two pieces a week")
    await page.locator("#sample-0-title").fill("Putin and Erdogan on Karabakh (PDF)")
    await page.locator("#sample-0-file").set_input_files(str(pdf))
    await page.get_by_text("Add sample 2").click()
    await page.locator("#sample-1-title").fill("Portfolio")
    await page.locator("#sample-1-url").fill("https://portfolio.example/leyla")
    await page.get_by_text("Add sample 3").click()
    await page.locator("#sample-2-title").fill("The same piece, pasted")
    await page.locator("#sample-2-text").fill(article)
    await page.get_by_label("I agree").check()
    await shot(page, "applicant-02-form-filled")
    await page.get_by_role("button", name="Send my application").click()

    await page.get_by_role("heading", name="Thank you, Leyla Mammadova").wait_for()
    await shot(page, "applicant-03-thank-you")
    await page.locator("#status-link").click()
    await page.get_by_role("heading", name="Status: Received").wait_for()
    assert await page.get_by_text("karabakh-analysis.pdf").count() == 1
    await shot(page, "applicant-04-status")

    await page.get_by_role("link", name="Withdraw my application").click()
    await page.get_by_label("Reason (optional, seen by our editors)").fill("Took a staff job.")
    await page.get_by_role("button", name="Yes, withdraw my application").click()
    await page.get_by_role("heading", name="Status: Withdrawn").wait_for()
    await shot(page, "applicant-05-withdrawn")

    async with clean_db.sessionmaker() as session:
        application = (await session.scalars(select(Application))).one()
        templates = (await session.scalars(select(OutboxEmail.template).order_by(OutboxEmail.id))).all()
    assert application.state == "withdrawn"
    assert templates == ["applicant_received", "applicant_withdrawn"]


async def test_invalid_form_keeps_values_in_the_browser(clean_db, live_server, page):
    await page.goto(live_server + "/apply")
    await page.get_by_label("Full name").fill("Ana Ribeiro")
    await page.get_by_label("Email").fill("not-an-email")
    await page.get_by_role("button", name="Send my application").click()
    await page.get_by_role("heading", name="Please check the form").wait_for()
    assert await page.get_by_label("Full name").input_value() == "Ana Ribeiro"
    assert await page.locator("#email-error").is_visible()
    await shot(page, "applicant-06-invalid-form")
