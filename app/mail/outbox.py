"""Writing messages to the outbox, in the caller's transaction (EMAIL.md)."""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid, parseaddr
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import EmailStatus, OutboxEmail, User, utcnow
from app.settings import Settings

# What each message template is, as staff see it in lists and timelines.
EMAIL_TITLES = {
    "applicant_received": "Confirmation to the applicant",
    "applicant_info_requested": "Information request to the applicant",
    "applicant_status": "Status update to the applicant",
    "applicant_decision": "Decision to the applicant",
    "applicant_withdrawn": "Withdrawal confirmation to the applicant",
    "staff_new_application": "New application notice",
    "staff_assigned": "Assignment notice",
    "staff_applicant_replied": "Reply notice",
    "staff_applicant_withdrew": "Withdrawal notice",
    "staff_task_assigned": "Fact-check task notice",
    "staff_task_completed": "Fact-check result notice",
    "staff_task_cancelled": "Fact-check cancellation notice",
    "staff_task_reminder": "Fact-check reminder",
}


def _msgid_domain(settings: Settings) -> str:
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "byline.invalid"


async def enqueue(
    session: AsyncSession,
    *,
    settings: Settings,
    template: str,
    recipient: str,
    dedupe_key: str,
    context: dict[str, Any],
    recipient_name: str = "",
    application_id: int | None = None,
    user_id: int | None = None,
    is_staff: bool = False,
    hold: bool = False,
    now: datetime | None = None,
) -> OutboxEmail:
    """Queue one message to one recipient; its Message-ID is fixed here and reused on every retry."""
    row = OutboxEmail(
        application_id=application_id,
        user_id=user_id,
        recipient=recipient,
        recipient_name=recipient_name,
        is_staff=is_staff,
        template=template,
        context=context,
        message_id=make_msgid(domain=_msgid_domain(settings)),
        dedupe_key=dedupe_key,
        status=EmailStatus.held if hold else EmailStatus.queued,
        next_attempt_at=now or utcnow(),
        created_at=now or utcnow(),
    )
    session.add(row)
    return row


async def enqueue_for_staff(
    session: AsyncSession,
    *,
    settings: Settings,
    template: str,
    user: User,
    dedupe_key: str,
    context: dict[str, Any],
    application_id: int | None,
    now: datetime,
) -> OutboxEmail:
    """Queue a notification to a staff member."""
    return await enqueue(
        session,
        settings=settings,
        template=template,
        recipient=user.email,
        recipient_name=user.name,
        dedupe_key=dedupe_key,
        context=context,
        application_id=application_id,
        user_id=user.id,
        is_staff=True,
        now=now,
    )
