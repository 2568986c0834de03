"""`byline serve` on a port of one's choosing: its pages answer there and its links point there."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlmodel import col

from app.models import OutboxEmail
from tests.ops.support import apply_over_http, in_thread, serving


def _browse(base_url: str) -> tuple[list[int], httpx.Response]:
    """The home page under both local names, as a browser sends them, then an application."""
    address = base_url.removeprefix("http://")
    port = address.rsplit(":", 1)[1]
    with httpx.Client(base_url=base_url, timeout=30) as client:
        pages = [
            client.get("/", headers={"host": f"{name}:{port}"}).status_code
            for name in ("127.0.0.1", "localhost")
        ]
        applied = apply_over_http(client)
    return pages, applied


async def test_a_port_chosen_in_the_environment_is_the_one_served_logged_and_linked(
    clean_db, settings, tmp_path
):
    log = tmp_path / "serve.log"
    with serving(settings, log, port_by_env=True) as base_url:
        pages, applied = await in_thread(_browse, base_url)
    assert pages == [200, 200]
    assert applied.status_code == 303, applied.text
    assert f"Byline is serving {base_url} " in log.read_text()
    public_id = applied.headers["location"].rsplit("/", 1)[-1]
    async with clean_db.write_session() as session:
        contexts = (await session.scalars(select(col(OutboxEmail.context)))).all()
    links = [context["status_url"] for context in contexts if "status_url" in context]
    assert links == [f"{base_url}/status/{public_id}"]
