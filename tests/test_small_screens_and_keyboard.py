"""Both sides at a phone's width (375 px) without sideways scrolling, and staff work by keyboard alone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.demo import load_demo
from app.models import Application, State
from tests.conftest import shot

pytestmark = pytest.mark.browser


async def demo(clean_db, settings) -> tuple[str, Application]:
    async with clean_db.write_session() as session:
        result = await load_demo(session, settings=settings)
    password = next(login.password for login in result.logins if login.role == "editor")
    async with clean_db.sessionmaker() as session:
        application = await session.scalar(
            select(Application).where(Application.state == State.submitted).order_by(Application.id)
        )
    assert application is not None
    return password, application


async def fits(page, name: str) -> None:
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 376, f"{name} is {width} px wide at a 375 px viewport"
    await shot(page, name)


async def test_pages_fit_a_phone_screen(clean_db, settings, live_server, browser):
    password, application = await demo(clean_db, settings)
    context = await browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True)
    page = await context.new_page()
    for path, name in (
        ("/", "phone-01-call"),
        ("/apply", "phone-02-apply"),
        (f"/status/{application.public_id}", "phone-03-status"),
        ("/login", "phone-04-login"),
    ):
        await page.goto(live_server + path)
        await fits(page, name)
    await page.get_by_label("Email").fill("editor@byline.example")
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/dashboard")
    await fits(page, "phone-05-queue")
    await page.goto(f"{live_server}/applications/{application.id}")
    await fits(page, "phone-06-application")
    await page.goto(f"{live_server}/tasks")
    await fits(page, "phone-07-tasks")


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
