"""Both sides at a phone's width (375 px) without sideways scrolling, and staff work by keyboard alone.

`shot` checks each page for sideways scrolling and with axe-core; the browser fixture fails the test on any
console error.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import EmailStatus, OutboxEmail
from tests.browser import log_in, shot

pytestmark = pytest.mark.browser


async def test_pages_fit_a_phone_screen(demo_desk, clean_db, live_server_with_mail, browser):
    async with clean_db.sessionmaker() as session:
        held = await session.scalar(
            select(OutboxEmail.id).where(OutboxEmail.status == EmailStatus.held).order_by(OutboxEmail.id)
        )
    assert held is not None
    base = live_server_with_mail
    context = await browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True)
    page = await context.new_page()
    for path, name in (
        ("/", "phone-01-call"),
        ("/apply", "phone-02-apply"),
        (f"/status/{demo_desk.application.public_id}", "phone-03-status"),
        ("/api/v1/docs", "phone-04-api-reference"),
        ("/login", "phone-05-login"),
    ):
        await page.goto(base + path)
        await shot(page, name)
    admin = demo_desk.logins["admin"]
    await log_in(page, base, admin.email, admin.password)
    assert page.url.endswith("/dashboard")
    await shot(page, "phone-06-queue")
    for path, name in (
        (f"/applications/{demo_desk.application.id}", "phone-07-application"),
        ("/tasks", "phone-08-tasks"),
        ("/outbox", "phone-09-outbox"),
        (f"/outbox/{held}", "phone-10-held-decision"),
        ("/reports", "phone-11-reports"),
        ("/admin/users", "phone-12-staff"),
    ):
        await page.goto(base + path)
        await shot(page, name)
    # The in-process worker delivers the demo's mail to the mail catcher.
    for _ in range(100):
        await page.goto(base + "/mail-catcher")
        if await page.locator("#caught a").count():
            break
        await page.wait_for_timeout(200)
    await shot(page, "phone-13-mail-catcher")
    await page.locator("#caught a").first.click()
    await page.locator("#text-part").wait_for()
    await shot(page, "phone-14-caught-message")


async def press_tab_until(page, selector: str, limit: int = 120) -> None:
    """Tab through the page until `selector` has the focus (it must be reachable by keyboard)."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(
            f"() => document.activeElement && document.activeElement.matches({selector!r})"
        ):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


async def test_an_editor_works_by_keyboard_alone(demo_desk, live_server, page):
    await page.goto(live_server + "/login")
    await press_tab_until(page, "#email")
    await page.keyboard.type("editor@byline.example")
    await page.keyboard.press("Tab")
    await page.keyboard.type(demo_desk.logins["editor"].password)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/dashboard")
    await press_tab_until(page, f'a[href="/applications/{demo_desk.application.id}"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/applications/{demo_desk.application.id}")
    await press_tab_until(page, "#note")
    await page.keyboard.type("Read by keyboard.")
    await press_tab_until(page, 'form[action$="/notes"] button')
    await page.keyboard.press("Enter")
    await page.locator("#timeline").get_by_text("Read by keyboard.").wait_for()
    await press_tab_until(page, "#moves button:not([disabled])")
    await page.keyboard.press("Enter")
    await page.locator("#state", has_text="Screening").wait_for()
    await shot(page, "keyboard-01-screening")
    # A disclosure's summary shows the site's focus ring, like links and buttons.
    await press_tab_until(page, "summary")
    outline = await page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    assert outline == ["solid", "3px", "rgb(26, 95, 180)"], outline
