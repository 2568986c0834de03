"""The reports page and the queue's export in Chromium, checked with axe-core."""

from __future__ import annotations

import pytest

from tests.browser import log_in, shot

pytestmark = pytest.mark.browser


async def test_editor_reads_the_reports_and_exports_the_filtered_queue(demo_desk, live_server, page):
    editor = demo_desk.logins["editor"]
    await log_in(page, live_server, editor.email, editor.password)
    await page.wait_for_function("window.htmx !== undefined")

    await page.get_by_label("Department").select_option("news")  # the list reloads in place
    await page.wait_for_url("**/dashboard?*department=news*")
    link = page.get_by_role("link", name="Export as CSV")
    await page.locator('#queue-export[href="/dashboard/export?department=news"]').wait_for()
    async with page.expect_download() as download:
        await link.click()
    export = await download.value
    assert export.suggested_filename.startswith("byline-queue-")
    lines = (await export.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("id,applicant,email,state,departments")
    assert len(lines) > 1 and all("News" in line for line in lines[1:])

    await page.get_by_role("link", name="Reports").click()
    await page.get_by_role("heading", name="Funnel and acceptance").wait_for()
    await page.get_by_role("img", name="Applications that reached each state").wait_for()
    await shot(page, "reports-01-all")
    await page.locator("#report-filters").get_by_label("Department").select_option("analysis")
    await page.get_by_label("Per", exact=True).select_option("month")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url("**/reports?*department=analysis*")
    assert await page.locator("#r-department").input_value() == "analysis"
    assert await page.locator("#r-period").input_value() == "month"
    await page.get_by_role("img", name="Applications received per month").wait_for()
    await shot(page, "reports-02-analysis-by-month")
