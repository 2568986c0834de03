"""What staff do with queued mail: release held messages (after editing them), retry failed ones, cancel."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import Conflict, Invalid, NotFound
from app.core.i18n import format_number, ngettext
from app.core.i18n import gettext as _
from app.core.limits import MESSAGE_LIMIT
from app.core.staff import StaffUser
from app.models import EmailStatus, Event, OutboxEmail

EDITABLE_KEY = "message"


async def get_message(session: AsyncSession, message_id: int) -> OutboxEmail:
    row = await session.get(OutboxEmail, message_id)
    if row is None:
        raise NotFound(_("There is no such message."))
    return row


def text_stamp(row: OutboxEmail) -> str:
    """A short fingerprint of the message's editable text, carried by the forms of its page."""
    text = str(row.context.get(EDITABLE_KEY, ""))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_stamp(row: OutboxEmail, seen: str) -> None:
    """Conflict when the text changed after the page that sends `seen` was rendered."""
    if seen != text_stamp(row):
        raise Conflict(
            _(
                "Someone else changed the text of this message after you opened it. Nothing was saved or "
                "sent: read the message again, then try again."
            )
        )


async def edit_held(session: AsyncSession, *, row: OutboxEmail, message: str, seen: str) -> None:
    """Change the editable text of a held message before it is released."""
    check_stamp(row, seen)
    if row.status != EmailStatus.held:
        raise Conflict(_("Only held messages can be edited; this one has left the queue already."))
    if EDITABLE_KEY not in row.context:
        raise Invalid(_("This message has no text to edit."), {"message": _("Nothing to edit here.")})
    message = message.strip()
    if not message:
        raise Invalid(_("The message is empty."), {"message": _("Write the message.")})
    if len(message) > MESSAGE_LIMIT:
        limit = ngettext(
            "At most %(num)s character.",
            "At most %(num)s characters.",
            MESSAGE_LIMIT,
            num=format_number(MESSAGE_LIMIT),
        )
        raise Invalid(_("The message is too long."), {"message": limit})
    row.context = {**row.context, EDITABLE_KEY: message}
    session.add(row)
    await session.flush()


async def _change(
    session: AsyncSession,
    *,
    ids: list[int],
    when: list[EmailStatus],
    values: dict[str, Any],
    verb: str,
    by: StaffUser,
    now: datetime,
) -> int:
    """One conditional UPDATE, so a row a worker has just claimed is never changed under it."""
    rows = (
        await session.execute(
            update(OutboxEmail)
            .where(col(OutboxEmail.id).in_(ids), col(OutboxEmail.status).in_(when))
            .values(**values)
            .returning(col(OutboxEmail.id), col(OutboxEmail.recipient), col(OutboxEmail.application_id))
        )
    ).all()
    for outbox_id, recipient, application_id in rows:
        if application_id is not None:
            session.add(
                Event(
                    application_id=application_id,
                    kind="email_action",
                    actor="editor",
                    actor_user_id=by.id,
                    message=f"{verb} the email to {recipient}",
                    data={"outbox_id": outbox_id, "action": verb.lower(), "recipient": recipient},
                    created_at=now,
                )
            )
    await session.flush()
    return len(rows)


async def release(session: AsyncSession, *, ids: list[int], by: StaffUser, now: datetime) -> int:
    """Send held messages; returns how many were released (others had left the held state)."""
    values = {"status": EmailStatus.queued, "next_attempt_at": now}
    return await _change(
        session, ids=ids, when=[EmailStatus.held], values=values, verb="Released", by=by, now=now
    )


async def retry(session: AsyncSession, *, ids: list[int], by: StaffUser, now: datetime) -> int:
    """Queue failed or dead messages again, with a fresh allowance of attempts."""
    values = {
        "status": EmailStatus.queued,
        "attempts": 0,
        "next_attempt_at": now,
        "locked_by": None,
        "locked_until": None,
    }
    when = [EmailStatus.failed, EmailStatus.dead]
    return await _change(session, ids=ids, when=when, values=values, verb="Retried", by=by, now=now)


async def cancel(session: AsyncSession, *, ids: list[int], by: StaffUser, now: datetime) -> int:
    """Never send these held, queued, failed or dead messages."""
    when = [EmailStatus.held, EmailStatus.queued, EmailStatus.failed, EmailStatus.dead]
    values = {"status": EmailStatus.cancelled}
    return await _change(session, ids=ids, when=when, values=values, verb="Cancelled", by=by, now=now)
