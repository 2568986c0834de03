"""The finance list in Chromium: the demo finance login lands on it, moves a fee to paid with its buttons and
downloads the month's CSV; the page passes axe and fits a phone's width."""

from __future__ import annotations

import httpx
import pytest

from tests.browser import log_in, shot
from tests.factories import CSRF_RE, insert_trial

pytestmark = pytest.mark.browser


async def accept_over_http(base_url: str, email: str, password: str, trial_id: int) -> None:
    """The demo editor presses "Accept for payment" (the form the trial panel shows), over HTTP."""
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False) as editor:
        page = await editor.get("/login")
        token = CSRF_RE.search(page.text).group(1)
        logged_in = await editor.post(
            "/login", data={"_csrf_token": token, "email": email, "password": password}
        )
        assert logged_in.status_code == 303
        account = await editor.get("/account")
        token = CSRF_RE.search(account.text).group(1)
        accepted = await editor.post(f"/trials/{trial_id}/fee", data={"_csrf_token": token})
        assert accepted.status_code == 303, accepted.text


async def test_finance_moves_a_fee_to_paid_and_exports_the_month(app, demo_desk, clean_db, live_server, page):
    # `app` first: building it registers the routes the demo data's links are made from.
    del app
    trial_id = await insert_trial(clean_db, demo_desk.application.id)
    editor = demo_desk.logins["editor"]
    await accept_over_http(live_server, editor.email, editor.password, trial_id)

    finance = demo_desk.logins["finance"]
    await log_in(page, live_server, finance.email, finance.password)
    await page.wait_for_url("**/fees")
    await page.get_by_role("heading", name="Trial fees").wait_for()
    await shot(page, "fees-01-agreed")
    for step in ("Mark as invoiced", "Approve for payment", "Mark as paid"):
        await page.locator("#fees-table").get_by_role("button", name=step).click()
        await page.locator("#fees-table").get_by_role("button", name=step).wait_for(state="detached")
    await page.locator("#fees-table .fee-paid").wait_for()
    await shot(page, "fees-02-paid")

    async with page.expect_download() as download:
        await page.get_by_role("link", name="Export the month as CSV").click()
    export = await download.value
    assert export.suggested_filename.startswith("byline-fees-")
    lines = (await export.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("applicant,email,application number,trial topic,words,amount,currency,status")
    assert len(lines) == 2 and ",15000.00,RUB,paid," in lines[1]
