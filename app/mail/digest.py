"""The daily digest: one message a day per staff member with the notifications they chose to take in it
(everything since the last one) and their overdue work: applications assigned to them, tasks they hold.

Every worker runs `queue_daily_digests` once a minute (a job registered in app/main.py); from
`BYLINE_DIGEST_HOUR` (UTC) on, each person gets at most one digest that day (its dedupe key names the person
and the date), whatever the number of workers. The notifications it gathers are marked `digested` in the
same savepoint as the digest is queued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import links
from app.core.i18n import gettext as _
from app.core.i18n import use_locale
from app.core.outbound import EMAIL_TITLES, enqueue_for_staff
from app.core.workflow import OPEN_STATES, STAFF_LABELS
from app.models import Applicant, Application, EmailStatus, FactCheckTask, OutboxEmail, State, TaskState, User
from app.settings import Settings

MAX_ITEMS = 100


def _when(value: datetime | None) -> str:
    """A moment as ISO text; the message formats it in the reader's language and time zone."""
    return value.isoformat() if value else ""


async def _gathered(session: AsyncSession, user: User) -> tuple[list[int], list[dict[str, Any]]]:
    rows = (
        await session.scalars(
            select(OutboxEmail)
            .where(col(OutboxEmail.user_id) == user.id, col(OutboxEmail.status) == EmailStatus.digest)
            .order_by(col(OutboxEmail.created_at))
        )
    ).all()
    items = [
        {
            "title": _(EMAIL_TITLES[row.template]) if row.template in EMAIL_TITLES else row.template,
            "applicant_name": str(row.context.get("applicant_name", "")),
            "url": str(row.context.get("application_url") or row.context.get("task_url") or ""),
            "at": _when(row.created_at),
        }
        for row in rows
    ]
    return [row.id for row in rows if row.id is not None], items[:MAX_ITEMS]


async def _overdue_work(
    session: AsyncSession, user: User, settings: Settings, now: datetime
) -> dict[str, Any]:
    applications: list[dict[str, str]] = []
    if user.is_editor:
        found = await session.execute(
            select(col(Application.id), col(Applicant.name), col(Application.state), col(Application.due_at))
            .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
            .where(
                col(Application.assigned_editor_id) == user.id,
                col(Application.state).in_(sorted(OPEN_STATES)),
                col(Application.due_at) < now,
            )
            .order_by(col(Application.due_at))
            .limit(MAX_ITEMS)
        )
        applications = [
            {
                "name": name,
                "state": _(STAFF_LABELS[State(state)]) if state in set(State) else str(state),
                "due": _when(due),
                "url": links.absolute(settings, "application", application_id=app_id),
            }
            for app_id, name, state, due in found.all()
        ]
    tasks: list[dict[str, str]] = []
    if user.is_fact_checker:
        held = await session.execute(
            select(col(FactCheckTask.id), col(FactCheckTask.due_at))
            .where(
                col(FactCheckTask.assignee_id) == user.id,
                col(FactCheckTask.state).in_([TaskState.open, TaskState.in_progress]),
                col(FactCheckTask.due_at) < now,
            )
            .order_by(col(FactCheckTask.due_at))
            .limit(MAX_ITEMS)
        )
        tasks = [
            {
                "name": _("Task #%(id)s", id=task_id),
                "due": _when(due),
                "url": links.absolute(settings, "task_page", task_id=task_id),
            }
            for task_id, due in held.all()
        ]
    return {"overdue_applications": applications, "overdue_tasks": tasks}


async def queue_daily_digests(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Queue today's digest for everyone who has something in it and has none yet; returns how many."""
    if now.hour < settings.digest_hour:
        return 0
    day = now.date().isoformat()
    users = (
        await session.scalars(
            select(User).where(
                col(User.is_active), or_(col(User.is_editor), col(User.is_fact_checker), col(User.is_admin))
            )
        )
    ).all()
    keys = {user.id: f"digest:{user.id}:{day}" for user in users}
    done = set(
        (
            await session.scalars(
                select(col(OutboxEmail.dedupe_key)).where(
                    col(OutboxEmail.dedupe_key).in_(list(keys.values()))
                )
            )
        ).all()
    )
    count = 0
    for user in users:
        if keys[user.id] in done:
            continue
        # Titles and labels are written into the digest in the reader's language.
        with use_locale(user.locale or settings.default_locale, user.time_zone or settings.time_zone):
            gathered, items = await _gathered(session, user)
            work = await _overdue_work(session, user, settings, now)
        if not items and not work["overdue_applications"] and not work["overdue_tasks"]:
            continue
        try:
            async with session.begin_nested():
                row = await enqueue_for_staff(
                    session,
                    settings=settings,
                    template="staff_digest",
                    user=user,
                    dedupe_key=keys[user.id],
                    context={"day": day, "items": items, **work},
                    application_id=None,
                    now=now,
                )
                if gathered:
                    await session.execute(
                        update(OutboxEmail)
                        .where(
                            col(OutboxEmail.id).in_(gathered), col(OutboxEmail.status) == EmailStatus.digest
                        )
                        .values(
                            status=EmailStatus.digested if row is not None else EmailStatus.cancelled,
                            last_error=None if row is not None else "the daily digest is turned off",
                        )
                    )
        except IntegrityError:  # another worker queued it first
            continue
        count += row is not None
    return count
