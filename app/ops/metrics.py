"""Prometheus metrics: request counters kept by each process, queue gauges read from the database per scrape.

With `BYLINE_METRICS_DIR` every process of the machine (uvicorn workers, several `byline serve`) writes its
counters to files there and a scrape of any process sums them all (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import OPEN_STATE_VALUES, Application, EmailStatus, OutboxEmail, WebhookDelivery
from app.settings import Settings

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The counters one process keeps, and the text a scrape returns."""

    def __init__(self, settings: Settings) -> None:
        self.directory = settings.metrics_dir
        self.registry = CollectorRegistry()
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            # prometheus-client reads the folder from its own variable when it writes a value, and picks the
            # file-backed value class once per process: a process serves one configuration.
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(self.directory)
            if not getattr(values.ValueClass, "_multiprocess", False):
                values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
        owner = None if self.directory is not None else self.registry
        self.requests = Counter(
            "byline_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=owner,
        )
        self.duration = Histogram(
            "byline_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=owner,
        )

    def observe(self, method: str, route: str, status: int, seconds: float | None) -> None:
        self.requests.labels(method, route, str(status)).inc()
        if seconds is not None:
            self.duration.labels(method, route).observe(seconds)

    def exposition(self, families: Iterable[Metric]) -> bytes:
        """Every process's counters (or this one's) followed by the gauges read for this scrape."""
        if self.directory is not None:
            counters = CollectorRegistry()
            MultiProcessCollector(counters, path=str(self.directory))  # type: ignore[no-untyped-call]
        else:
            counters = self.registry
        gauges = CollectorRegistry()
        gauges.register(_Fixed(list(families)))
        return generate_latest(counters) + generate_latest(gauges)


class _Fixed(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


async def queue_gauges(session: AsyncSession, now: datetime) -> list[Metric]:
    """Outbox and webhook queues by status, the oldest queued message's age, overdue applications."""
    outbox = await _by_status(session, OutboxEmail, "byline_outbox_messages", "Outbox messages by status.")
    oldest = await session.scalar(
        select(func.min(OutboxEmail.created_at)).where(col(OutboxEmail.status) == EmailStatus.queued)
    )
    age = GaugeMetricFamily(
        "byline_outbox_oldest_queued_age_seconds",
        "Seconds since the oldest message still queued was written (0 when none is).",
        value=max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
    )
    hooks = await _by_status(
        session, WebhookDelivery, "byline_webhook_deliveries", "Webhook deliveries by status."
    )
    overdue = await session.scalar(
        select(func.count())
        .select_from(Application)
        .where(col(Application.state).in_(OPEN_STATE_VALUES), col(Application.due_at) < now)
    )
    late = GaugeMetricFamily(
        "byline_applications_overdue", "Open applications past their due time.", value=int(overdue or 0)
    )
    return [outbox, age, hooks, late]


async def _by_status(
    session: AsyncSession, model: type[OutboxEmail] | type[WebhookDelivery], name: str, doc: str
) -> GaugeMetricFamily:
    """Rows per status, every status listed (0 included) so that a graph has no gaps."""
    rows = await session.execute(select(col(model.status), func.count()).group_by(col(model.status)))
    counts = {str(status): int(n) for status, n in rows.all()}
    family = GaugeMetricFamily(name, doc, labels=["status"])
    for status in sorted({*(s.value for s in EmailStatus), *counts}):
        family.add_metric([status], counts.get(status, 0))
    return family


def may_scrape(settings: Settings, client: str, authorization: str) -> bool:
    """A scrape is allowed with the metrics token, or from an address in BYLINE_METRICS_NETWORKS."""
    token = settings.metrics_token.get_secret_value()
    if token and secrets.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.metrics_networks)
