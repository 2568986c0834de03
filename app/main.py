"""The composition root: `create_app(settings)` wires plugins, middleware, routes and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.account_routes import create_router as account_router
from app.accounts.admin_routes import create_router as admin_router
from app.accounts.guards import provide_staff
from app.accounts.routes import create_router as accounts_router
from app.accounts.sessions import staff_auth
from app.api.auth import token_auth
from app.api.openapi import openapi_config
from app.api.routes import create_router as api_router
from app.api.token_routes import create_router as api_tokens_router
from app.api.webhook_routes import create_router as webhooks_router
from app.applications.routes import create_router as applications_router
from app.core import i18n, links
from app.core.db import Database
from app.core.errors import EXCEPTION_HANDLERS
from app.core.web import (
    STATIC_DIR,
    Clock,
    htmx_history,
    language,
    language_headers,
    security_headers,
    template_config,
)
from app.factcheck.routes import create_router as factcheck_router
from app.mail.catcher_routes import create_router as catcher_router
from app.mail.inprocess import running as mail_in_process
from app.mail.routes import create_router as outbox_router
from app.ops.logs import configure_logging
from app.ops.metrics import Metrics
from app.ops.observe import count_unrouted, observe
from app.ops.routes import create_router as ops_router
from app.privacy.routes import create_router as privacy_router
from app.reports.routes import create_router as reports_router
from app.review.dashboard import create_router as dashboard_router
from app.review.routes import create_router as review_router
from app.settings import Settings


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the Byline application for `settings` (read from the environment when omitted)."""
    settings = settings or Settings()
    configure_logging(settings)
    i18n.configure(settings.default_locale, settings.time_zone)
    db = Database(settings)
    metrics = Metrics(settings)
    clock = Clock()
    settings.uploads_path.mkdir(parents=True, exist_ok=True)

    def provide_session(request: Request[Any, Any, Any]) -> AsyncSession:
        return db.request_session(request.scope)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            async with mail_in_process(db, settings, clock):
                yield
        finally:
            await db.dispose()

    app = Litestar(
        route_handlers=[
            applications_router(settings),
            accounts_router(),
            account_router(),
            admin_router(),
            dashboard_router(),
            review_router(),
            outbox_router(),
            reports_router(),
            catcher_router(),
            factcheck_router(),
            api_tokens_router(),
            webhooks_router(),
            privacy_router(),
            api_router(),
            ops_router(db, settings, metrics),
            create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
        ],
        dependencies={
            "session": Provide(provide_session, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
            "clock": Provide(lambda: clock, sync_to_thread=False, use_cache=True),
            "staff": Provide(provide_staff, sync_to_thread=False),
        },
        before_send=[
            db.end_request,
            security_headers(settings),
            language_headers(settings),
            htmx_history,
            count_unrouted(metrics),
        ],
        template_config=template_config(settings),
        csrf_config=CSRFConfig(
            secret=settings.secret_key.get_secret_value(),
            cookie_name="byline_csrf",
            cookie_secure=not settings.is_dev,
            cookie_httponly=True,
            cookie_samesite="lax",
            # The API takes bearer tokens only, never the session cookie: a forged request has nothing to use.
            exclude=["^/api/"],
        ),
        allowed_hosts=AllowedHostsConfig(
            allowed_hosts=settings.hosts,
            www_redirect=False,
            # Probes and scrapers call these by address (Host: 10.0.0.5:8000); they build no links.
            exclude=["^/healthz$", "^/readyz$", "^/metrics$"],
        ),
        middleware=[
            observe(settings, metrics),
            staff_auth(db, settings, clock),
            language(settings),
            token_auth(db, clock),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        # The OpenAPI document covers the JSON API only: its router opts back in.
        openapi_config=openapi_config(),
        include_in_schema=False,
        lifespan=[lifespan],
        # Logging is configure_logging's alone (Litestar's default would add a handler of its own).
        logging_config=None,
        debug=False,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock
    app.state.metrics = metrics
    # Emails and the API build absolute links from route names (app/core/links.py).
    links.register(app.route_reverse)
    return app
