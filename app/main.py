"""The composition root: `create_app(settings)` wires plugins, middleware, routes and error handlers, and
`background_work` what runs beside the pages (in the web process or `byline worker`): the outbound senders
with their channels and the features' scheduled jobs, registered in `scheduled_jobs` and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
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
from app.api.delivery import WebhookChannel
from app.api.openapi import openapi_config
from app.api.routes import create_router as api_router
from app.api.token_routes import create_router as api_tokens_router
from app.api.webhook_routes import create_router as webhooks_router
from app.applications.reading import Reader
from app.applications.routes import create_router as applications_router
from app.core import i18n, links, similarity
from app.core.background import Loop, running
from app.core.db import Database
from app.core.errors import EXCEPTION_HANDLERS
from app.core.jobs import JobRunner, Jobs
from app.core.outbound import Sender
from app.core.web import (
    STATIC_DIR,
    Clock,
    htmx_history,
    language,
    language_headers,
    security_headers,
    template_config,
)
from app.factcheck import api as factcheck_api
from app.factcheck.reminders import queue_task_reminders
from app.factcheck.routes import create_router as factcheck_router
from app.mail import api as mail_api
from app.mail import catcher
from app.mail.catcher_routes import create_router as catcher_router
from app.mail.delivery import smtp_channel
from app.mail.digest import queue_daily_digests
from app.mail.routes import create_router as outbox_router
from app.models import OutboxEmail, WebhookDelivery, utcnow
from app.ops.logs import configure_logging
from app.ops.metrics import Metrics
from app.ops.observe import count_unrouted, observe
from app.ops.routes import create_router as ops_router
from app.privacy.routes import create_router as privacy_router
from app.privacy.service import forget_confirmation_addresses
from app.reports.routes import create_router as reports_router
from app.review import api as review_api
from app.review.dashboard import create_router as dashboard_router
from app.review.routes import create_router as review_router
from app.settings import Settings
from app.trials import api as trials_api
from app.trials.reminders import queue_trial_reminders
from app.trials.routes import create_router as trials_router

log = logging.getLogger("byline")
Now = Callable[[], datetime]


def scheduled_jobs() -> Jobs:
    """Every feature's scheduled work; each job queues what it queues once, whatever the number of workers."""
    jobs = Jobs()
    jobs.add("fact-check reminders", every=60, run=queue_task_reminders)
    jobs.add("daily digests", every=60, run=queue_daily_digests)
    jobs.add("trial reminders", every=60, run=queue_trial_reminders)
    jobs.add("similarity backfill", every=60, run=similarity.index_earlier_samples)
    return jobs


def mail_sender(db: Database, settings: Settings, *, clock: Now = utcnow) -> Sender[OutboxEmail] | None:
    """The outbox's sender over SMTP, or None without a relay or the mail catcher (mail waits then).

    An erasure confirmation loses its address in the transaction that records it sent or given up on.
    """
    channel = smtp_channel(settings)
    if channel is None:
        return None
    return Sender(db, settings, channel, clock=clock, after_outcomes=[forget_confirmation_addresses])


def webhook_sender(db: Database, settings: Settings, *, clock: Now = utcnow) -> Sender[WebhookDelivery]:
    return Sender(db, settings, WebhookChannel(settings, clock=clock), clock=clock)


def background_work(
    db: Database, settings: Settings, *, clock: Now = utcnow, jobs: Jobs | None = None
) -> list[Loop]:
    """The senders of mail and webhook deliveries, the reader of the PDFs sent with the form, and the runner
    of the scheduled jobs."""
    loops: list[Loop] = []
    mail = mail_sender(db, settings, clock=clock)
    if mail is None:
        log.warning("no SMTP relay configured (BYLINE_SMTP_HOST): mail stays queued in the outbox")
    else:
        loops.append(mail)
    loops.append(webhook_sender(db, settings, clock=clock))
    loops.append(Reader(db, settings, clock=clock))
    loops.append(JobRunner(db, settings, jobs if jobs is not None else scheduled_jobs(), clock=clock))
    return loops


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
        loops = background_work(db, settings, clock=clock) if settings.worker_inprocess else []
        try:
            async with catcher.serving(settings), running(loops):
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
            trials_router(),
            api_router([*review_api.ROUTES, *factcheck_api.ROUTES, *mail_api.ROUTES, *trials_api.ROUTES]),
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
