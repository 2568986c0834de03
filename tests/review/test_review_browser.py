"""The application page in Chromium: with htmx the page updates in place; without JavaScript it still works."""

from __future__ import annotations

import pytest

from tests.browser import log_in, shot

pytestmark = pytest.mark.browser


async def test_editor_works_an_application_in_place_with_htmx(demo_desk, live_server, page):
    editor = demo_desk.logins["editor"]
    await log_in(page, live_server, editor.email, editor.password)
    await page.goto(f"{live_server}/applications/{demo_desk.application.id}")
    await page.wait_for_function("window.htmx !== undefined")
    await page.evaluate("window.sameDocument = true")

    await page.get_by_label("Internal note").fill("Worth a closer look at the economy pieces.")
    await page.get_by_role("button", name="Add note").click()
    await page.locator("#timeline").get_by_text("Worth a closer look at the economy pieces.").wait_for()
    await page.get_by_role("button", name="Add note").click()  # empty: refused at the field
    await page.locator("#note-error").wait_for()
    assert page.url.endswith(f"/applications/{demo_desk.application.id}")

    await page.get_by_role("button", name="Start screening").click()
    await page.locator("#state", has_text="Screening").wait_for()
    await page.locator("summary", has_text="Request information").click()
    await page.locator("#message-info_requested").fill("Could you send a piece on the economy?")
    await page.locator("#moves").get_by_role("button", name="Request information").click()
    await page.locator("#state", has_text="Info requested").wait_for()
    await shot(page, "editor-01-info-requested")
    assert await page.evaluate("window.sameDocument") is True  # never a full page load
    assert page.url.endswith(f"/applications/{demo_desk.application.id}")


async def test_the_application_page_works_without_javascript(demo_desk, live_server, browser):
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    editor = demo_desk.logins["editor"]
    await log_in(page, live_server, editor.email, editor.password)
    await page.goto(f"{live_server}/applications/{demo_desk.application.id}")
    await page.get_by_label("Internal note").fill("Checked without scripts.")
    await page.get_by_role("button", name="Add note").click()
    await page.get_by_text("Checked without scripts.").wait_for()
    await page.get_by_role("button", name="Assign to me").click()
    await page.locator("#state", has_text="Screening").wait_for()
    assert await page.locator("#assignee").inner_text() == "Demo Editor"


async def test_editor_filters_the_queue_in_place_and_ticks_rows_for_a_bulk_action(
    demo_desk, live_server, page
):
    editor = demo_desk.logins["editor"]
    await log_in(page, live_server, editor.email, editor.password)
    await page.wait_for_function("window.htmx !== undefined")
    await page.evaluate("window.sameDocument = true")
    rows = page.locator("#queue-table tbody tr")
    everyone = await rows.count()
    assert everyone > 1

    first_name = (await rows.first.locator("td a").first.inner_text()).split()[0]
    await page.get_by_label("Search").fill(first_name)
    await page.wait_for_url(f"**q={first_name}**")
    await page.wait_for_function(f"document.querySelectorAll('#queue-table tbody tr').length < {everyone}")
    await shot(page, "editor-02-queue-search")
    await page.get_by_label("Search").fill("")
    await page.get_by_label("Department").select_option("analysis")
    await page.wait_for_url("**department=analysis**")
    assert await page.evaluate("window.sameDocument") is True  # only the list was reloaded

    await rows.nth(0).get_by_role("checkbox").check()
    await page.get_by_label("Action").select_option("assign")
    await page.get_by_role("button", name="Preview").click()
    await page.get_by_role("heading", name="Check before you confirm").wait_for()
    await shot(page, "editor-03-bulk-preview")


async def test_the_queue_filters_without_javascript(demo_desk, live_server, browser):
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    editor = demo_desk.logins["editor"]
    await log_in(page, live_server, editor.email, editor.password)
    await page.get_by_label("Overdue", exact=True).check()
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_url("**overdue=1**")
    await page.locator("#queue").wait_for()
