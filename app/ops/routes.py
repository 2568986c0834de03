"""Health checks and the metrics scrape: /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.script import ScriptDirectory
from litestar import MediaType, Request, Router, get
from litestar.response import Response
from sqlalchemy import text

from app.core.db import Database
from app.core.migrate import alembic_config
from app.core.web import AppClock, AppSettings, client_ip
from app.ops.metrics import CONTENT_TYPE, Metrics, may_scrape, queue_gauges
from app.settings import Settings

READY_TIMEOUT_SECONDS = 3.0


def expected_revisions(settings: Settings) -> set[str]:
    """The migration heads this code expects the database to be at."""
    return set(ScriptDirectory.from_config(alembic_config(settings.db_url)).get_heads())


async def readiness(db: Database, heads: set[str]) -> str | None:
    """None when the database answers and is at the expected migration; otherwise why not, in a sentence."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except TimeoutError:
        return f"the database did not answer within {READY_TIMEOUT_SECONDS:g} seconds"
    except Exception as error:  # any failure to reach the database means not ready
        return f"the database cannot be queried ({type(error).__name__}); is it up and migrated?"
    if set(rows) != heads:
        found, wanted = ", ".join(sorted(rows)) or "none", ", ".join(sorted(heads))
        return f"the database is at migration {found}, this code expects {wanted}: run `byline migrate`"
    return None


def create_router(db: Database, settings: Settings, metrics: Metrics) -> Router:
    heads = expected_revisions(settings)

    @get("/healthz", name="healthz", media_type=MediaType.TEXT)
    async def healthz() -> str:
        """The process is up and answering; nothing else is checked."""
        return "ok\n"

    @get("/readyz", name="readyz", media_type=MediaType.TEXT)
    async def readyz() -> Response[str]:
        """Ready to serve: the database answers and its schema is the one this code expects."""
        reason = await readiness(db, heads)
        if reason is None:
            return Response("ready\n", status_code=200)
        return Response(f"not ready: {reason}\n", status_code=503)

    @get("/metrics", name="metrics")
    async def scrape(
        request: Request[Any, Any, Any], settings: AppSettings, clock: AppClock
    ) -> Response[bytes]:
        """Prometheus text format; only with the metrics token or from BYLINE_METRICS_NETWORKS."""
        if not may_scrape(settings, client_ip(request, settings), request.headers.get("authorization", "")):
            return Response(
                b"Metrics are read from the configured networks or with the metrics token only.\n",
                status_code=403,
                media_type=MediaType.TEXT,
            )
        async with db.sessionmaker() as session:
            families = await queue_gauges(session, clock())
        return Response(metrics.exposition(families), media_type=CONTENT_TYPE)

    return Router(path="/", route_handlers=[healthz, readyz, scrape])
