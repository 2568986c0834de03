"""Work on a fact-check task: verdicts per claim with sources, then completion; editors reassign or cancel.

Each change that matters to someone else writes an event on the application's timeline and queues its email in
the same transaction. State changes are conditional updates, so two people acting at once cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar.datastructures import FormMultiDict
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import links
from app.core.errors import Conflict, Forbidden, Invalid
from app.core.forms import FormFields
from app.core.i18n import gettext as _
from app.core.i18n import ngettext
from app.core.limits import MAX_CLAIM_CHARS, MAX_CLAIMS, MAX_NOTE, MAX_SOURCES, MAX_SUMMARY, MAX_URL
from app.core.outbound import enqueue_for_staff
from app.core.staff import StaffUser
from app.models import Claim, Event, FactCheckTask, TaskState, User, Verdict
from app.settings import Settings

LIVE = (TaskState.open, TaskState.in_progress)


@dataclass(frozen=True)
class ClaimWork:
    claim_id: int
    verdict: str | None
    sources: list[str]
    note: str


@dataclass(frozen=True)
class TaskWork:
    claims: list[ClaimWork]
    overall_verdict: str | None
    summary: str


def _url_ok(url: str) -> bool:
    scheme, sep, rest = url.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https") and bool(rest.strip("/")) and " " not in url


def parse_work(form: FormMultiDict | Mapping[str, str], claims: list[Claim], *, complete: bool) -> TaskWork:
    """The verdicts, sources and notes of a task form; Invalid with a message at each field otherwise."""
    fields = FormFields(form)
    verdicts = ["", *Verdict]
    work: list[ClaimWork] = []
    for number, claim in enumerate(claims, start=1):
        key = str(claim.id)
        verdict = fields.choice(f"verdict-{key}", verdicts, message=_("Choose one of the verdicts.")) or None
        if verdict is None and complete:
            fields.fail(
                f"verdict-{key}",
                _("Give claim %(number)s a verdict before completing the task.", number=number),
            )
        sources = [line.strip() for line in fields.raw(f"sources-{key}").splitlines() if line.strip()]
        if len(sources) > MAX_SOURCES:
            fields.fail(
                f"sources-{key}",
                ngettext(
                    "At most %(num)s source per claim.", "At most %(num)s sources per claim.", MAX_SOURCES
                ),
            )
        elif any(len(url) > MAX_URL or not _url_ok(url) for url in sources):
            fields.fail(
                f"sources-{key}",
                _("Sources must be web addresses starting with http:// or https://, one per line."),
            )
        note = fields.text(f"note-{key}", limit=MAX_NOTE)
        work.append(ClaimWork(claim.id or 0, verdict, sources, note))
    overall = fields.choice("overall_verdict", verdicts, message=_("Choose one of the verdicts.")) or None
    if overall is None and complete:
        fields.fail("overall_verdict", _("Give an overall verdict before completing the task."))
    summary = fields.text("summary", limit=MAX_SUMMARY)
    fields.check(_("Some answers need another look."))
    return TaskWork(work, overall, summary)


def check_can_record(task: FactCheckTask, by: StaffUser) -> None:
    """Only the task's own fact-checker records verdicts, and only while the task is open."""
    if task.assignee_id is None:
        raise Forbidden(_("This task waits at the desk: take it first."))
    if task.assignee_id != by.id:
        raise Forbidden(_("Only the task's fact-checker records its verdicts."))
    if task.state not in LIVE:
        raise Conflict(_("This task is closed: it was completed or cancelled."))


async def _claim_state(
    session: AsyncSession, task: FactCheckTask, to: TaskState, now: datetime, **values: Any
) -> None:
    """Move a live task to `to`; Conflict when it is no longer open (done or cancelled meanwhile)."""
    result = await session.execute(
        update(FactCheckTask)
        .where(col(FactCheckTask.id) == task.id, col(FactCheckTask.state).in_(LIVE))
        .values(state=to, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_("This task was completed or cancelled in the meantime."))
    task.state = to
    for name, value in values.items():
        setattr(task, name, value)


async def save_work(
    session: AsyncSession,
    *,
    settings: Settings,
    task: FactCheckTask,
    claims: list[Claim],
    work: TaskWork,
    by: StaffUser,
    complete: bool,
    now: datetime,
) -> None:
    """Store the verdicts; with `complete`, close the task, record it and tell the editor who created it."""
    if complete and not claims:
        raise Invalid(
            _("Pick at least one claim before completing the task."),
            {"claims": _("Pick at least one claim before completing the task.")},
        )
    by_id = {claim.id: claim for claim in claims}
    for item in work.claims:
        claim = by_id[item.claim_id]
        claim.verdict, claim.sources, claim.note = item.verdict, item.sources, item.note
        session.add(claim)
    values: dict[str, Any] = {"overall_verdict": work.overall_verdict, "summary": work.summary}
    if complete:
        await _claim_state(session, task, TaskState.done, now, completed_at=now, **values)
    else:
        await _claim_state(session, task, TaskState.in_progress, now, **values)
    await session.flush()
    if not complete:
        return
    tally = {verdict: sum(1 for c in work.claims if c.verdict == verdict) for verdict in Verdict}
    session.add(
        Event(
            application_id=task.application_id,
            kind="task_completed",
            actor="fact_checker",
            actor_user_id=by.id,
            message=f"Fact-check task #{task.id} completed by {by.name}: overall {work.overall_verdict}",
            data={"task_id": task.id, "overall_verdict": work.overall_verdict, "verdicts": tally},
            created_at=now,
        )
    )
    creator = await session.get(User, task.creator_id)
    if creator is not None and creator.is_active:
        await enqueue_for_staff(
            session,
            settings=settings,
            template="staff_task_completed",
            user=creator,
            dedupe_key=f"task:{task.id}:completed",
            context={
                "task_url": links.absolute(settings, "task_page", task_id=task.id),
                "application_url": links.absolute(
                    settings, "application", application_id=task.application_id
                ),
                "checker_name": by.name,
                "overall_verdict": work.overall_verdict or "",
                "verdicts": {str(k): v for k, v in tally.items() if v},
                "summary": work.summary,
            },
            application_id=task.application_id,
            now=now,
        )


async def reassign(
    session: AsyncSession,
    *,
    settings: Settings,
    task: FactCheckTask,
    assignee_id: int | None,
    by: StaffUser,
    now: datetime,
) -> None:
    """Give a live task to another fact-checker, who is emailed; the timeline says who had it."""
    assignee = await session.get(User, assignee_id) if assignee_id else None
    if assignee is None or not assignee.is_active or not assignee.is_fact_checker:
        raise Invalid(_("Choose a fact-checker."), {"assignee": _("Choose a fact-checker.")})
    if assignee.id == task.assignee_id:
        raise Invalid(_("The task is already theirs."), {"assignee": _("Choose someone else.")})
    previous = await session.get(User, task.assignee_id) if task.assignee_id else None
    await _claim_state(session, task, TaskState(task.state), now, assignee_id=assignee.id)
    from_name = previous.name if previous else "nobody"
    event = Event(
        application_id=task.application_id,
        kind="task_reassigned",
        actor="editor",
        actor_user_id=by.id,
        message=f"Fact-check task #{task.id} handed from {from_name} to {assignee.name}",
        data={
            "task_id": task.id,
            "from": previous.id if previous else None,
            "to": assignee.id,
            "from_name": previous.name if previous else None,
            "to_name": assignee.name,
        },
        created_at=now,
    )
    session.add(event)
    await session.flush()
    claims = await session.scalar(select(func.count()).where(col(Claim.task_id) == task.id))
    await enqueue_for_staff(
        session,
        settings=settings,
        template="staff_task_assigned",
        user=assignee,
        dedupe_key=f"task:{task.id}:assigned:event:{event.id}",
        context={
            "task_url": links.absolute(settings, "task_page", task_id=task.id),
            "claims": claims or 0,
            "due_at": task.due_at.isoformat(),
            "creator_name": by.name,
        },
        application_id=task.application_id,
        now=now,
    )


async def cancel(
    session: AsyncSession,
    *,
    settings: Settings,
    task: FactCheckTask,
    reason: str,
    by: StaffUser,
    now: datetime,
) -> None:
    """Cancel a live task; its fact-checker is told. A cancelled task no longer holds up the workflow."""
    reason = reason.strip()[:2000]
    await _claim_state(session, task, TaskState.cancelled, now, completed_at=now)
    session.add(
        Event(
            application_id=task.application_id,
            kind="task_cancelled",
            actor="editor",
            actor_user_id=by.id,
            message=f"Fact-check task #{task.id} cancelled" + (f": {reason}" if reason else ""),
            data={"task_id": task.id, "reason": reason},
            created_at=now,
        )
    )
    assignee = await session.get(User, task.assignee_id) if task.assignee_id else None
    if assignee is not None and assignee.is_active and assignee.id != by.id:
        await enqueue_for_staff(
            session,
            settings=settings,
            template="staff_task_cancelled",
            user=assignee,
            dedupe_key=f"task:{task.id}:cancelled",
            context={
                "task_url": links.absolute(settings, "task_page", task_id=task.id),
                "editor_name": by.name,
                "reason": reason,
            },
            application_id=task.application_id,
            now=now,
        )


def taken_first() -> Conflict:
    return Conflict(
        _("Another fact-checker took this task first, or it was closed. It is no longer at the desk.")
    )


async def was_at_desk(session: AsyncSession, task: FactCheckTask) -> bool:
    """Whether the task waited at the desk once (so a late "Take" hears it is gone, not that it never was)."""
    events = await session.scalars(
        select(Event).where(
            col(Event.application_id) == task.application_id,
            col(Event.kind).in_(["task_taken", "trial_task_created"]),
        )
    )
    return any(
        event.data.get("task_id") == task.id
        and (event.kind == "task_taken" or event.data.get("assignee_id") is None)
        for event in events.all()
    )


async def take(session: AsyncSession, *, task: FactCheckTask, by: StaffUser, now: datetime) -> None:
    """A fact-checker takes a task waiting at the desk. One conditional update: when two press "Take" at
    once, one gets the task and the other a Conflict saying someone was first."""
    if not by.is_fact_checker:
        raise Forbidden(_("Only fact-checkers take tasks from the desk."))
    result = await session.execute(
        update(FactCheckTask)
        .where(
            col(FactCheckTask.id) == task.id,
            col(FactCheckTask.assignee_id).is_(None),
            col(FactCheckTask.state).in_(LIVE),
        )
        .values(assignee_id=by.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise taken_first()
    task.assignee_id = by.id
    session.add(
        Event(
            application_id=task.application_id,
            kind="task_taken",
            actor="fact_checker",
            actor_user_id=by.id,
            message=f"Fact-check task #{task.id} taken from the desk by {by.name}",
            data={"task_id": task.id, "assignee_id": by.id, "assignee_name": by.name},
            created_at=now,
        )
    )
    await session.flush()


def picked_claims(form: FormMultiDict, already: int) -> list[str]:
    """The sentences ticked (and claims typed, one per line) to add to a task that has `already` claims."""
    fields = FormFields(form)
    picked = [" ".join(value.split()) for value in fields.values("sentence")]
    typed = [" ".join(line.split()) for line in fields.raw("task_claims").splitlines()]
    claims = list(dict.fromkeys(claim for claim in [*picked, *typed] if claim))
    if not claims:
        fields.fail("task_claims", _("Tick at least one sentence or type a claim."))
    elif already + len(claims) > MAX_CLAIMS:
        fields.fail(
            "task_claims",
            ngettext("At most %(num)s claim per task.", "At most %(num)s claims per task.", MAX_CLAIMS),
        )
    elif any(len(claim) > MAX_CLAIM_CHARS for claim in claims):
        fields.fail(
            "task_claims",
            ngettext(
                "Each claim can be at most %(num)s character long.",
                "Each claim can be at most %(num)s characters long.",
                MAX_CLAIM_CHARS,
            ),
        )
    fields.check(_("No claims were added."))
    return claims


async def add_claims(
    session: AsyncSession,
    *,
    task: FactCheckTask,
    claims: list[Claim],
    quotes: list[str],
    by: StaffUser,
    now: datetime,
) -> None:
    """Append claims (picked from a trial piece's sentences) to a live task: its fact-checker or an editor."""
    if not by.is_editor:
        check_can_record(task, by)
    await _claim_state(session, task, TaskState(task.state), now)
    start = max((claim.position for claim in claims), default=-1) + 1
    for offset, quote in enumerate(quotes):
        session.add(Claim(task_id=task.id or 0, position=start + offset, quote=quote))
    await session.flush()
