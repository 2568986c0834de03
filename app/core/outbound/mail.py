"""Queueing mail: writing messages to the outbox in the caller's transaction (docs/email.md), and the kinds
of message there are, with the notifications staff may take in a digest or turn off.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid, parseaddr
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.i18n import N_, supported, valid_time_zone
from app.models import EmailStatus, NotifyMode, OutboxEmail, User, utcnow
from app.settings import Settings

# Messages carrying a sign-in link (joining, a new password): the outbox lists them, never shows their text.
SEALED = frozenset({"staff_invitation", "staff_password_reset"})

# Staff notifications a person may take in their daily digest instead of one by one.
DIGESTIBLE = frozenset(
    {
        "staff_new_application",
        "staff_assigned",
        "staff_applicant_replied",
        "staff_applicant_withdrew",
        "staff_task_completed",
    }
)
# Staff notifications that carry List-Unsubscribe and can be turned off; task work and account mail cannot.
MUTABLE = DIGESTIBLE | {"staff_digest"}

# What each message template is, as staff see it in lists and timelines (translated where shown).
EMAIL_TITLES = {
    "applicant_received": N_("Confirmation to the applicant"),
    "applicant_info_requested": N_("Information request to the applicant"),
    "applicant_status": N_("Status update to the applicant"),
    "applicant_decision": N_("Decision to the applicant"),
    "applicant_withdrawn": N_("Withdrawal confirmation to the applicant"),
    "applicant_erased": N_("Erasure confirmation to the applicant"),
    "staff_new_application": N_("New application notice"),
    "staff_assigned": N_("Assignment notice"),
    "staff_applicant_replied": N_("Reply notice"),
    "staff_applicant_withdrew": N_("Withdrawal notice"),
    "staff_task_assigned": N_("Fact-check task notice"),
    "staff_task_completed": N_("Fact-check result notice"),
    "staff_task_cancelled": N_("Fact-check cancellation notice"),
    "staff_task_reminder": N_("Fact-check reminder"),
    "staff_fee_agreed": N_("Trial fee notice"),
    "staff_digest": N_("Daily digest"),
    "staff_invitation": N_("Staff invitation"),
    "staff_password_reset": N_("Password reset link"),
    "applicant_trial_offered": N_("Trial brief to the applicant"),
    "applicant_trial_extended": N_("Trial deadline extension to the applicant"),
    "applicant_trial_cancelled": N_("Trial cancellation to the applicant"),
    "applicant_trial_reminder": N_("Trial deadline reminder to the applicant"),
    "staff_trial_submitted": N_("Trial piece notice"),
    "staff_trial_more_time": N_("Trial: more time asked"),
    "staff_trial_declined": N_("Trial declined notice"),
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
    digest: bool = False,
    now: datetime | None = None,
    locale: str | None = None,
    time_zone: str | None = None,
) -> OutboxEmail:
    """Queue one message to one recipient; its Message-ID is fixed here and reused on every retry.

    It is written in `locale` and `time_zone` (the recipient's), or the site's when they have none.
    """
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
        status=EmailStatus.held if hold else EmailStatus.digest if digest else EmailStatus.queued,
        next_attempt_at=now or utcnow(),
        created_at=now or utcnow(),
        locale=supported(locale) or settings.default_locale,
        time_zone=valid_time_zone(time_zone) or settings.time_zone,
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
) -> OutboxEmail | None:
    """Queue a notification to a staff member as they chose it: instant, in their daily digest, or none."""
    if template in MUTABLE and template in (user.muted or []):
        return None
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
        digest=user.notify == NotifyMode.digest and template in DIGESTIBLE,
        now=now,
        locale=user.locale,
        time_zone=user.time_zone,
    )
