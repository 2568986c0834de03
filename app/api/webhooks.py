"""Outgoing webhooks: addresses an admin registers, told by a signed POST of the events each one chose (state
changes, trial events; none chosen: every event).

Moves and trial steps queue one delivery per active webhook told of the event in their own transaction
(`queue_state_change`, `queue_event` in app/core/outbound/webhooks.py); the outbound sender sends them with
the HTTP channel of app/api/delivery.py. Each delivery is signed: `X-Byline-Signature: sha256=<hex>` is
HMAC-SHA256 with the webhook's secret over `<X-Byline-Timestamp>.<raw body>`, so a receiver can check both the
body and how fresh the attempt is.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.api import destinations
from app.core.errors import Invalid, NotFound
from app.core.i18n import N_, ngettext
from app.core.i18n import gettext as _
from app.core.outbound import EVENTS
from app.core.staff import StaffUser
from app.models import EmailStatus, Webhook, WebhookDelivery
from app.settings import Settings

SIGNATURE_HEADER = "X-Byline-Signature"
TIMESTAMP_HEADER = "X-Byline-Timestamp"
DELIVERY_HEADER = "X-Byline-Delivery"
EVENT_HEADER = "X-Byline-Event"
MAX_WEBHOOKS = 20
MAX_URL = 2000


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


async def _checked_url(url: str, settings: Settings) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket
        parts = urlsplit("")
    schemes = ("https",) if not settings.is_dev else ("http", "https")
    spaced = any(c.isspace() for c in url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    if len(url) > MAX_URL or parts.scheme not in schemes or not parts.hostname or spaced or not port:
        wanted = (
            _("Give the receiver's address, starting with https://.")
            if not settings.is_dev
            else _("Give the receiver's address, starting with http:// or https://.")
        )
        raise Invalid(_("Check the address."), {"url": wanted})
    if problem := await destinations.problem_when_saving(settings, parts.hostname, port):
        raise Invalid(_("Check the address."), {"url": problem})
    return url


async def list_webhooks(session: AsyncSession) -> list[tuple[Webhook, dict[str, int]]]:
    """Every webhook with its deliveries counted by status."""
    hooks = (await session.scalars(select(Webhook).order_by(col(Webhook.id)))).all()
    counts: dict[int, dict[str, int]] = {}
    rows = await session.execute(
        select(col(WebhookDelivery.webhook_id), col(WebhookDelivery.status), func.count()).group_by(
            col(WebhookDelivery.webhook_id), col(WebhookDelivery.status)
        )
    )
    for webhook_id, status, n in rows.all():
        counts.setdefault(webhook_id, {})[status] = int(n)
    return [(hook, counts.get(hook.id or 0, {})) for hook in hooks]


async def recent_deliveries(session: AsyncSession, limit: int = 50) -> list[WebhookDelivery]:
    """The latest deliveries of every webhook, newest first."""
    newest = select(WebhookDelivery).order_by(col(WebhookDelivery.id).desc()).limit(limit)
    rows = await session.scalars(newest)
    return list(rows.all())


def chosen_events(names: list[str]) -> list[str]:
    """The known event names among `names`, in the order of EVENTS (none: every event)."""
    return [name for name in EVENTS if name in names]


async def create_webhook(
    session: AsyncSession,
    *,
    settings: Settings,
    url: str,
    by: StaffUser,
    now: datetime,
    events: list[str] | None = None,
) -> tuple[Webhook, str]:
    """A new active webhook told of `events` (none: every event) and its secret (generated here, shown to the
    admin once)."""
    url = await _checked_url(url, settings)
    if (await session.scalar(select(func.count()).select_from(Webhook)) or 0) >= MAX_WEBHOOKS:
        raise Invalid(
            _("Too many webhooks."),
            {
                "url": ngettext(
                    "At most %(num)s webhook: delete it first.",
                    "At most %(num)s webhooks: delete one first.",
                    MAX_WEBHOOKS,
                )
            },
        )
    secret = secrets.token_urlsafe(32)
    hook = Webhook(
        url=url,
        secret=secret,
        is_active=True,
        events=chosen_events(events or []),
        created_by_id=by.id,
        created_at=now,
    )
    session.add(hook)
    await session.flush()
    return hook, secret


async def _hook(session: AsyncSession, webhook_id: int) -> Webhook:
    hook = await session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(N_("There is no such webhook."))
    return hook


async def set_active(session: AsyncSession, *, webhook_id: int, active: bool) -> None:
    """Turn a webhook on or off; deliveries queued for it fail while it is off (and can be retried)."""
    hook = await _hook(session, webhook_id)
    hook.is_active = active
    session.add(hook)
    await session.flush()


async def set_events(session: AsyncSession, *, webhook_id: int, events: list[str]) -> None:
    """Choose the events a webhook is told of (none: every event); deliveries already queued stay."""
    hook = await _hook(session, webhook_id)
    hook.events = chosen_events(events)
    session.add(hook)
    await session.flush()


async def delete_webhook(session: AsyncSession, *, webhook_id: int) -> None:
    """Delete a webhook with its deliveries."""
    await _hook(session, webhook_id)
    await session.execute(delete(Webhook).where(col(Webhook.id) == webhook_id))


async def retry_delivery(session: AsyncSession, *, delivery_id: int, now: datetime) -> bool:
    """Queue a failed or dead delivery again with a fresh allowance of attempts; False if it had moved on."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.status).in_([EmailStatus.failed, EmailStatus.dead]),
        )
        .values(status=EmailStatus.queued, attempts=0, next_attempt_at=now, locked_by=None, locked_until=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
