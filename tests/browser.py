"""The browser journeys' tools: Debian's Chromium with its pages watched for faults, a screenshot and the
accessibility checks of each step, logging in, and reading mail in the mail catcher.

The `browser`, `page` and `live_server` fixtures in tests/conftest.py use them.
"""

from __future__ import annotations

import re
from typing import Any

from tests.accessibility import check
from tests.environment import ROOT

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

# Run in every page: report a page wider than its window after each load and each in-place (htmx) update.
SIDEWAYS_WATCH = """
(() => {
  const check = () => {
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) window.bylineSideways(location.href, root.scrollWidth, root.clientWidth);
  };
  window.addEventListener("load", check);
  document.addEventListener("htmx:afterSettle", check);
})();
"""
# The browser's own line for an answer with an error status; the tests ask for some 4xx pages on purpose.
HTTP_STATUS_LINE = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})")


class PageProblems:
    """What went wrong in a test's pages (console errors, uncaught errors, pages wider than their window)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._answers: dict[str, int] = {}

    async def watch(self, context: Any) -> None:
        context.on("response", self._response)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.problems.append(f"uncaught error: {error.error}"))
        await context.expose_binding("bylineSideways", self._sideways)
        await context.add_init_script(SIDEWAYS_WATCH)

    def _response(self, response: Any) -> None:
        if response.request.resource_type in ("document", "xhr", "fetch"):
            self._answers[response.url] = response.status

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        status = HTTP_STATUS_LINE.match(message.text)
        # A page or htmx request answered 4xx by design (a form with errors, a conflict, a limit) is not a
        # fault of the page; a missing asset or any 5xx is.
        if status and 400 <= int(status.group(1)) < 500 and self._answers.get(url) == int(status.group(1)):
            return
        self.problems.append(f"console error at {url}: {message.text}")

    def _sideways(self, source: Any, url: str, scroll: int, client: int) -> None:
        self.problems.append(f"{url} scrolls sideways: {scroll} px wide in a {client} px window")


class WatchedBrowser:
    """One test's view of the browser: each new context is watched for console errors, page errors and
    sideways scrolling, and `close` closes the contexts the test opened (the browser serves the next test)."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._contexts: list[Any] = []
        self.watcher = PageProblems()

    async def new_context(self, **options: Any) -> Any:
        context = await self._browser.new_context(**options)
        self._contexts.append(context)
        await self.watcher.watch(context)
        return context

    async def close(self) -> None:
        for context in self._contexts:
            await context.close()
        self._contexts.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


async def shot(page: Any, name: str) -> None:
    """Save the page as a journey step and check it at its own width and at 375 px (tests/accessibility.py)."""
    ARTIFACTS.mkdir(exist_ok=True)
    # caret="initial": hiding the text caret writes inline styles into the page, which htmx would copy onto the
    # next page it swaps in, and the CSP refuses.
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")
    await check(page, name)


async def log_in(page: Any, base: str, email: str, password: str) -> None:
    """Log in on the login page and wait for the page it leads to."""
    await page.goto(base + "/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(lambda url: not url.endswith("/login"))


async def open_mail(page: Any, base: str, to: str, subject_part: str) -> str:
    """Wait for a message to `to` whose subject holds `subject_part` in the mail catcher; its text part."""
    for _ in range(100):
        await page.goto(f"{base}/mail-catcher?to={to}")
        link = page.locator("#caught a", has_text=subject_part)
        if await link.count():
            await link.first.click()
            return str(await page.locator("#text-part").inner_text())
        await page.wait_for_timeout(200)
    raise AssertionError(f"no mail to {to} about {subject_part!r}")
