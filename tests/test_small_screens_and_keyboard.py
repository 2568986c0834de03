"""Both sides at a phone's width (375 px) without sideways scrolling, and staff work by keyboard alone.

`shot` checks each page for sideways scrolling and with axe-core; the browser fixture fails the test on any
console error.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.demo import load_demo
from app.models import Application, EmailStatus, OutboxEmail, State
from tests.conftest import shot

pytestmark = pytest.mark.browser


async def demo(clean_db, settings, role: str = "editor") -> tuple[str, Application]:
    """The demo data; returns the password of the demo staff member with `role` and a submitted application."""
    async with clean_db.write_session() as session:
        result = await load_demo(session, settings=settings)
    password = next(login.password for login in result.logins if login.role == role)
    async with clean_db.sessionmaker() as session:
        application = await session.scalar(
            select(Application).where(Application.state == State.submitted).order_by(Application.id)
        )
    assert application is not None
    return password, application


async def test_pages_fit_a_phone_screen(clean_db, settings, live_server_with_mail, browser):
    password, application = await demo(clean_db, settings, role="admin")
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
        (f"/status/{application.public_id}", "phone-03-status"),
        ("/api/v1/docs", "phone-04-api-reference"),
        ("/login", "phone-05-login"),
    ):
        await page.goto(base + path)
        await shot(page, name)
    await page.get_by_label("Email").fill("admin@byline.example")
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/dashboard")
    await shot(page, "phone-06-queue")
    for path, name in (
        (f"/applications/{application.id}", "phone-07-application"),
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


async def test_an_editor_works_by_keyboard_alone(clean_db, settings, live_server, page):
    password, application = await demo(clean_db, settings)
    await page.goto(live_server + "/login")
    await press_tab_until(page, "#email")
    await page.keyboard.type("editor@byline.example")
    await page.keyboard.press("Tab")
    await page.keyboard.type(password)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/dashboard")
    await press_tab_until(page, f'a[href="/applications/{application.id}"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/applications/{application.id}")
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
