"""Read side of the outbox page: messages by status, newest first, with only the columns the list shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.models import Applicant, Application, EmailStatus, OutboxEmail

PAGE_SIZE = 50
# Each status as the outbox page names it.
STATUS_LABELS = {
    EmailStatus.queued: N_("Queued"),
    EmailStatus.held: N_("Held"),
    EmailStatus.sending: N_("Sending"),
    EmailStatus.sent: N_("Sent"),
    EmailStatus.failed: N_("Failed"),
    EmailStatus.dead: N_("Dead"),
    EmailStatus.cancelled: N_("Cancelled"),
    EmailStatus.digest: N_("Digest"),
    EmailStatus.digested: N_("Digested"),
}


def status_label(status: str) -> str:
    """A message's status in the reader's language."""
    label = STATUS_LABELS.get(EmailStatus(status)) if status in set(EmailStatus) else None
    return _(label) if label else status


def _id(value: str) -> int | None:
    """A row id from the query string; longer numbers than ids can be would overflow PostgreSQL's integer."""
    return int(value) if value.isdigit() and len(value) < 10 else None


@dataclass(frozen=True)
class OutboxFilters:
    status: str = ""
    template: str = ""
    recipient: str = ""
    application_id: int | None = None
    before_id: int | None = None

    @classmethod
    def from_query(cls, params: dict[str, str]) -> OutboxFilters:
        status = params.get("status", "")
        application = params.get("application", "")
        before = params.get("before", "")
        return cls(
            status=status if status in set(EmailStatus) else "",
            template=params.get("template", "")[:80],
            recipient=params.get("recipient", "").strip()[:320],
            application_id=_id(application),
            before_id=_id(before),
        )


@dataclass(frozen=True)
class OutboxRow:
    id: int
    created_at: datetime
    recipient: str
    template: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    application_id: int | None
    name: str | None


async def list_messages(session: AsyncSession, filters: OutboxFilters) -> tuple[list[OutboxRow], int | None]:
    """One page of messages (keyset on id, newest first) and the id to continue from, if any."""
    conditions = []
    if filters.status:
        conditions.append(col(OutboxEmail.status) == filters.status)
    if filters.template:
        conditions.append(col(OutboxEmail.template) == filters.template)
    if filters.recipient:
        conditions.append(
            func.lower(col(OutboxEmail.recipient)).contains(filters.recipient.lower(), autoescape=True)
        )
    if filters.application_id is not None:
        conditions.append(col(OutboxEmail.application_id) == filters.application_id)
    if filters.before_id is not None:
        conditions.append(col(OutboxEmail.id) < filters.before_id)
    stmt = (
        select(
            col(OutboxEmail.id),
            col(OutboxEmail.created_at),
            col(OutboxEmail.recipient),
            col(OutboxEmail.template),
            col(OutboxEmail.status),
            col(OutboxEmail.attempts),
            col(OutboxEmail.last_error),
            col(OutboxEmail.sent_at),
            col(OutboxEmail.application_id),
            col(Applicant.name),
        )
        .outerjoin(Application, col(Application.id) == col(OutboxEmail.application_id))
        .outerjoin(Applicant, col(Applicant.id) == col(Application.applicant_id))
        .where(*conditions)
        .order_by(col(OutboxEmail.id).desc())
        .limit(PAGE_SIZE + 1)
    )
    rows = [OutboxRow(**row._asdict()) for row in (await session.execute(stmt)).all()]
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].id if more else None)


async def status_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(col(OutboxEmail.status), func.count()).group_by(col(OutboxEmail.status))
    )
    return {status: int(count) for status, count in rows.all()}
