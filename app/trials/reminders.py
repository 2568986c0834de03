"""Deadline reminders to the applicant, 48 hours and 6 hours before a trial's deadline, each sent once.

Every worker runs `queue_trial_reminders` once a minute (a job registered in app/main.py). Each reminder is an
outbox row whose dedupe key names the trial, the reminder and the deadline, so it is queued once: across
restarts, with several workers at once (a second insert of the same key is skipped in its own savepoint), and
again only if an editor moves the deadline. None goes out once the piece is in, or the trial was declined or
cancelled, or the application left `trial`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.outbound import enqueue
from app.models import Applicant, Application, OutboxEmail, State, Trial, TrialState
from app.settings import Settings
from app.trials.service import brief_context, trial_links

# Hours before the deadline, the earliest first.
REMINDERS = (48, 6)


def dedupe_key(trial: Trial, hours: int) -> str:
    return f"trial:{trial.id}:reminder:{hours}h:{int(trial.deadline_at.timestamp())}"


def reminder_due(trial: Trial, now: datetime) -> int | None:
    """The reminder a trial has earned by `now` (the nearer one when both have: one message, not two)."""
    left = trial.deadline_at - now
    if left <= timedelta(0):
        return None
    due = [hours for hours in REMINDERS if left <= timedelta(hours=hours)]
    return min(due) if due else None


async def queue_trial_reminders(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Queue every reminder that is due and not yet queued; returns how many were queued now."""
    horizon = now + timedelta(hours=max(REMINDERS))
    rows = (
        await session.execute(
            select(Trial, Application, Applicant)
            .join(Application, col(Application.id) == col(Trial.application_id))
            .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
            .where(
                col(Trial.state) == TrialState.offered,
                col(Application.state) == State.trial,
                col(Application.erased_at).is_(None),
                col(Trial.deadline_at) > now,
                col(Trial.deadline_at) <= horizon,
            )
        )
    ).all()
    due = [
        (trial, application, applicant, hours)
        for trial, application, applicant in rows
        if (hours := reminder_due(trial, now)) is not None
    ]
    if not due:
        return 0
    queued = set(
        (
            await session.scalars(
                select(col(OutboxEmail.dedupe_key)).where(
                    col(OutboxEmail.dedupe_key).in_([dedupe_key(t, h) for t, _, _, h in due])
                )
            )
        ).all()
    )
    count = 0
    for trial, application, applicant, hours in due:
        key = dedupe_key(trial, hours)
        if key in queued:
            continue
        try:
            async with session.begin_nested():
                await enqueue(
                    session,
                    settings=settings,
                    template="applicant_trial_reminder",
                    recipient=applicant.email,
                    recipient_name=applicant.name,
                    dedupe_key=key,
                    context={
                        "applicant_name": applicant.name,
                        "hours": hours,
                        **trial_links(settings, application),
                        **brief_context(trial),
                    },
                    application_id=application.id,
                    now=now,
                    locale=trial.locale,
                )
        except IntegrityError:  # another worker queued it first
            continue
        count += 1
    return count
