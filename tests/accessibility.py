"""The checks on every page a browser journey saves, at its own width and at a phone's (375 px): no sideways
scrolling, and no serious or critical axe-core violation (nor any breach of the landmark rules below).

axe-core comes from the npm registry, pinned, installed once under var/test-tools/ by the test setup.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import lru_cache
from typing import Any

from tests.environment import ROOT

AXE_VERSION = "4.14.1"
TOOLS = ROOT / "var" / "test-tools" / f"axe-core-{AXE_VERSION}"
AXE_JS = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# Rules held whatever impact axe gives them: screen readers list landmarks, regions and headings by their names
# and levels.
ALWAYS = ("landmark-unique", "landmark-one-main", "landmark-no-duplicate-main", "region", "heading-order")
PHONE_WIDTH = 375


@lru_cache(maxsize=1)
def axe_source() -> str:
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is missing: install Debian's npm package (.ci/run does)")
        TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(TOOLS),
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
        )
    return AXE_JS.read_text(encoding="utf-8")


async def audit(page: Any, name: str) -> None:
    """Run axe on the page as it is now; fail with the rules broken when any is serious or critical."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(axe_source())
    result = await page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    blocking = [v for v in result if v["impact"] in BLOCKING or v["id"] in ALWAYS]
    assert not blocking, f"{name}: accessibility violations\n{json.dumps(blocking, indent=1)}"


async def no_sideways_scroll(page: Any, name: str) -> None:
    """Fail when the page is wider than the window (it would scroll sideways)."""
    scroll, client = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client, f"{name} scrolls sideways: {scroll} px wide in a {client} px window"


async def check(page: Any, name: str) -> None:
    """Both checks at the page's own width, then at a phone's width (the window is put back after)."""
    await no_sideways_scroll(page, name)
    await audit(page, name)
    size = page.viewport_size
    if size is None or size["width"] == PHONE_WIDTH:
        return
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": size["height"]})
    try:
        await no_sideways_scroll(page, f"{name} at {PHONE_WIDTH} px")
        await audit(page, f"{name} at {PHONE_WIDTH} px")
    finally:
        await page.set_viewport_size(size)
