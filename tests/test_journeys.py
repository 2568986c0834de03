"""User journeys in a real browser: Debian's Chromium driven by Playwright against a real server process."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from app.demo import make_pdf
from app.models import Application, OutboxEmail
from tests.browser import shot
from tests.environment import SAMPLES

pytestmark = pytest.mark.browser


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
    status_url = await page.locator("#status-link").get_attribute("href")
    assert status_url and status_url.startswith(live_server + "/status/")
    assert await page.get_by_label("Your status link").input_value() == status_url
    await page.get_by_role("button", name="Copy link").click()  # shown only when the script runs
    await expect(page.locator("#copy-status")).to_have_text(re.compile(r"Link copied|The link is selected"))
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
    # Focus moves to the summary of errors, so a keyboard or screen reader user starts there.
    await expect(page.locator("[data-error-summary]")).to_be_focused()
    assert await page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    await shot(page, "applicant-06-invalid-form")


async def test_the_browser_fixture_reports_console_errors_uncaught_errors_and_wide_pages(
    live_server, browser
):
    context = await browser.new_context(viewport={"width": 375, "height": 700})
    page = await context.new_page()
    await page.goto(live_server + "/")
    await page.evaluate("document.body.setAttribute('style', 'color: red')")  # refused by the CSP
    await page.evaluate("setTimeout(() => { throw new Error('thrown by the page') })")
    await page.evaluate(
        "() => { const wide = document.createElement('pre'); wide.textContent = 'x'.repeat(120);"
        " document.body.append(wide); document.dispatchEvent(new Event('htmx:afterSettle')); }"
    )
    problems = browser.watcher.problems
    for _ in range(50):
        if len(problems) >= 3:
            break
        await page.wait_for_timeout(100)
    assert any("Content Security Policy" in p for p in problems), problems
    assert any("uncaught error" in p and "thrown by the page" in p for p in problems), problems
    assert any("scrolls sideways" in p and "in a 375 px window" in p for p in problems), problems
    problems.clear()  # seen: the fixture's own check at the end must pass
