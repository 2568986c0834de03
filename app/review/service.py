"""Editors' operations on one application: workflow moves, assignment, notes, labels and scores.

Every state change goes through `transition`, which checks the workflow table, writes exactly one event and
queues the mail the move's policy asks for and the webhook deliveries, all in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from app.accounts.sessions import StaffUser
from app.core import site, workflow
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.core.outbound import enqueue, enqueue_for_staff, queue_state_change
from app.core.workflow import Actor, Facts
from app.factcheck.service import TaskInput, create_task
from app.models import (
    Applicant,
    Application,
    ApplicationLabel,
    Event,
    FactCheckTask,
    Label,
    Score,
    State,
    TaskState,
    User,
    utcnow,
)
from app.review import counts
from app.settings import Settings

CRITERIA = ("analysis", "fact_accuracy", "concision", "interest_style", "topic_knowledge")


class StaleForm(Conflict):
    """A form rendered from an older version of the application; the page shows what changed since."""

    template = "review/conflict.html"


async def load_facts(session: AsyncSession, application_id: int) -> Facts:
    """What the workflow guards need: the application's live fact-check tasks and how many are still open."""
    rows = (
        await session.execute(
            select(col(FactCheckTask.state), func.count())
            .where(col(FactCheckTask.application_id) == application_id)
            .group_by(col(FactCheckTask.state))
        )
    ).all()
    counts = {state: int(n) for state, n in rows}
    open_tasks = counts.get(TaskState.open, 0) + counts.get(TaskState.in_progress, 0)
    return Facts(tasks=open_tasks + counts.get(TaskState.done, 0), open_tasks=open_tasks)


async def load_application(session: AsyncSession, application_id: int) -> tuple[Application, Applicant]:
    row = (
        await session.execute(
            select(Application, Applicant)
            .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
            .where(col(Application.id) == application_id)
        )
    ).first()
    if row is None:
        raise NotFound(N_("There is no application with this number."))
    return row[0], row[1]


async def check_version(session: AsyncSession, application: Application, seen_version: int | None) -> None:
    """StaleForm when the form was rendered from another version than the one stored now."""
    if seen_version is None or seen_version == application.version:
        return
    events = (
        await session.scalars(
            select(Event)
            .where(col(Event.application_id) == application.id)
            .order_by(col(Event.created_at), col(Event.id))
        )
    ).all()
    changes = [event for event in events if int(event.data.get("version", 0)) > seen_version]
    raise StaleForm(
        N_(
            "Someone else changed this application after you opened it. Nothing was saved: "
            "look at what changed, then try again."
        ),
        application=application,
        changes=changes,
    )


def _stale() -> Conflict:
    return Conflict(N_("Someone else changed this application at the same time. Reload it and try again."))


async def _flush_versioned(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError:
        raise _stale() from None


async def transition(
    session: AsyncSession,
    *,
    settings: Settings,
    application: Application,
    applicant: Applicant,
    to: State,
    actor: Actor,
    user: StaffUser | None = None,
    reason: str | None = None,
    message: str | None = None,
    expected_version: int | None = None,
    data: dict[str, object] | None = None,
    now: datetime | None = None,
) -> Event:
    """Make one workflow move if the table, the person's role and the guards allow it; Conflict otherwise."""
    now = now or utcnow()
    if application.erased_at is not None:
        raise Conflict(N_("This application's personal data was erased: it can no longer be moved."))
    source = State(application.state)
    move = workflow.find_move(source, to, actor)
    if move is None:
        raise Conflict(
            _(
                "This application is at “%(state)s” and cannot be moved to “%(target)s” now.",
                state=_(workflow.STAFF_LABELS[source]),
                target=_(workflow.STAFF_LABELS[to]),
            )
        )
    if move.role is not None and (user is None or not workflow.may_make(move, user.roles)):
        raise Forbidden(N_("Your role does not allow this move."))
    await check_version(session, application, expected_version)
    assert application.id is not None
    problems = workflow.problems(move, await load_facts(session, application.id))
    if problems:
        raise Conflict(" ".join(problems))
    message = (message or "").strip() or None
    reason = (reason or "").strip() or None
    if move.message_required and not message:
        raise Invalid(N_("A message to the applicant is required."), {"message": N_("Write a message.")})
    if move.reason_required and not reason:
        raise Invalid(N_("A reason is required."), {"reason": N_("Give a reason (kept internal).")})

    application.state = to
    application.state_changed_at = now
    application.updated_at = now
    due = workflow.due_after(to, await site.due_days(session))
    application.due_at = now + due if due else None
    application.decided_at = now if workflow.is_final(to) else None
    session.add(application)
    await _flush_versioned(session)
    await counts.shift(session, application.id, source, to)
    event = Event(
        application_id=application.id,
        kind="state_changed",
        actor=actor.value,
        actor_user_id=user.id if user else None,
        from_state=source,
        to_state=to,
        message=message,
        data={"version": application.version, **(data or {}), **({"reason": reason} if reason else {})},
        is_public=workflow.PUBLIC_LABELS[source] != workflow.PUBLIC_LABELS[to],
        created_at=now,
    )
    session.add(event)
    await session.flush()
    await queue_state_change(session, settings=settings, event=event)

    # Spam looks like a received application to its sender: leaving spam tells them nothing.
    if move.notify.template and source != State.spam:
        await enqueue(
            session,
            settings=settings,
            template=move.notify.template,
            recipient=applicant.email,
            recipient_name=applicant.name,
            dedupe_key=f"event:{event.id}:applicant",
            context={
                "applicant_name": applicant.name,
                "status_url": f"{settings.base_url}/status/{application.public_id}",
                "state": to.value,
                "state_label": workflow.PUBLIC_LABELS[to],
                "message": message or "",
            },
            application_id=application.id,
            hold=move.notify.hold,
            now=now,
            locale=application.locale,
        )
    if actor == Actor.applicant and application.assigned_editor_id is not None:
        await _notify_user(
            session,
            settings=settings,
            user_id=application.assigned_editor_id,
            template="staff_applicant_withdrew" if to == State.withdrawn else "staff_applicant_replied",
            event=event,
            application=application,
            applicant=applicant,
            now=now,
        )
    await session.flush()
    return event


async def make_move(
    session: AsyncSession,
    *,
    settings: Settings,
    application: Application,
    applicant: Applicant,
    user: StaffUser,
    to: State,
    version: int | None,
    message: str,
    reason: str,
    task: TaskInput | None,
    now: datetime,
) -> Event:
    """An editor's move (the application page, the API); a move to fact check may bring its first task."""
    await check_version(session, application, version)
    assert application.id is not None
    if task is not None and to != State.fact_check:
        raise Invalid(N_("Only a move to fact check creates a task."), {"task": N_("Leave the task out.")})
    if to == State.fact_check and task is None and not (await load_facts(session, application.id)).tasks:
        raise Invalid(
            N_("Sending to fact check needs a task."),
            {"task_claims": N_("Choose a fact-checker and give the claims to check, one per line.")},
        )
    if task is not None:
        await create_task(
            session,
            settings=settings,
            application=application,
            by=user,
            assignee_id=task.assignee_id,
            sample_id=task.sample_id,
            claims=task.claims,
            due_at=task.due_at,
            now=now,
        )
    return await transition(
        session,
        settings=settings,
        application=application,
        applicant=applicant,
        to=to,
        actor=Actor.editor,
        user=user,
        reason=reason,
        message=message,
        expected_version=version,
        now=now,
    )


async def _notify_user(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: int,
    template: str,
    event: Event,
    application: Application,
    applicant: Applicant,
    now: datetime,
) -> None:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        return
    await enqueue_for_staff(
        session,
        settings=settings,
        template=template,
        user=user,
        dedupe_key=f"event:{event.id}:user:{user.id}",
        context={
            "applicant_name": applicant.name,
            "application_url": f"{settings.base_url}/applications/{application.id}",
            "message": event.message or "",
        },
        application_id=application.id,
        now=now,
    )


async def assign(
    session: AsyncSession,
    *,
    settings: Settings,
    application: Application,
    applicant: Applicant,
    assignee_id: int | None,
    by: StaffUser,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Event | None:
    """Give the application to an editor (or to nobody); a submitted one taken up moves on to screening."""
    now = now or utcnow()
    await check_version(session, application, expected_version)
    if assignee_id == application.assigned_editor_id:
        return None
    assignee: User | None = None
    if assignee_id is not None:
        assignee = await session.get(User, assignee_id)
        if assignee is None or not assignee.is_active or not assignee.is_editor:
            raise Invalid(N_("Choose an active editor."), {"assignee": N_("Choose an active editor.")})
    application.assigned_editor_id = assignee_id
    application.updated_at = now
    session.add(application)
    await _flush_versioned(session)
    event = Event(
        application_id=application.id,  # type: ignore[arg-type]
        kind="assigned",
        actor=Actor.editor.value,
        actor_user_id=by.id,
        message=f"Assigned to {assignee.name}" if assignee else "Unassigned",
        data={
            "version": application.version,
            "assignee_id": assignee_id,
            "assignee_name": assignee.name if assignee else None,
        },
        created_at=now,
    )
    session.add(event)
    await session.flush()
    if assignee is not None and assignee.id != by.id:
        await _notify_user(
            session,
            settings=settings,
            user_id=assignee.id,  # type: ignore[arg-type]
            template="staff_assigned",
            event=event,
            application=application,
            applicant=applicant,
            now=now,
        )
    if assignee is not None and application.state == State.submitted:
        await transition(
            session,
            settings=settings,
            application=application,
            applicant=applicant,
            to=State.screening,
            actor=Actor.editor,
            user=by,
            now=now,
        )
    return event


async def add_note(
    session: AsyncSession, *, application: Application, text: str, by: StaffUser, now: datetime | None = None
) -> Event:
    """An internal note on the timeline; applicants never see notes."""
    # A note only adds to the timeline and overwrites nothing, so it neither checks nor changes the version:
    # the page adds notes in place, and its other forms keep the version they were rendered from.
    text = text.strip()
    if not text:
        raise Invalid(N_("The note is empty."), {"note": N_("Write the note first.")})
    if len(text) > 10_000:
        raise Invalid(N_("The note is too long."), {"note": N_("Keep notes under 10,000 characters.")})
    event = Event(
        application_id=application.id,  # type: ignore[arg-type]
        kind="note",
        actor=Actor.editor.value,
        actor_user_id=by.id,
        message=text,
        created_at=now or utcnow(),
    )
    session.add(event)
    await session.flush()
    return event


async def set_labels(
    session: AsyncSession,
    *,
    application: Application,
    names: list[str],
    by: StaffUser,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Event | None:
    """Replace the application's labels (a new version of it); unknown names become new labels."""
    now = now or utcnow()
    await check_version(session, application, expected_version)
    wanted = sorted({" ".join(name.split())[:40] for name in names if name.strip()}, key=str.lower)
    if len(wanted) > 20:
        raise Invalid(N_("Too many labels."), {"labels": N_("Use at most 20 labels.")})
    assert application.id is not None
    current = (
        await session.scalars(
            select(col(Label.name))
            .join(ApplicationLabel, col(ApplicationLabel.label_id) == col(Label.id))
            .where(col(ApplicationLabel.application_id) == application.id)
        )
    ).all()
    if sorted(current, key=str.lower) == wanted:
        return None
    labels = []
    for name in wanted:
        label = (
            await session.scalars(select(Label).where(func.lower(col(Label.name)) == name.lower()))
        ).first()
        if label is None:
            label = Label(name=name)
            session.add(label)
            await session.flush()
        labels.append(label)
    await session.execute(
        delete(ApplicationLabel).where(col(ApplicationLabel.application_id) == application.id)
    )
    for label in labels:
        session.add(ApplicationLabel(application_id=application.id, label_id=label.id))  # type: ignore[arg-type]
    # Labels are part of the application: a form rendered before this change is stale. The row is written
    # even when the time is unchanged, so its version moves on.
    application.updated_at = now
    flag_modified(application, "updated_at")
    session.add(application)
    await _flush_versioned(session)
    event = Event(
        application_id=application.id,
        kind="labels_changed",
        actor=Actor.editor.value,
        actor_user_id=by.id,
        message=", ".join(label.name for label in labels) or "No labels",
        data={"version": application.version, "labels": [label.name for label in labels]},
        created_at=now,
    )
    session.add(event)
    await session.flush()
    return event


async def save_score(
    session: AsyncSession,
    *,
    application: Application,
    by: StaffUser,
    marks: dict[str, int],
    recommendation: str,
    comment: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Score:
    """Record or update this editor's rubric for the application, if it is still the version they scored."""
    now = now or utcnow()
    # Each editor's score is their own row: saving it overwrites nobody else's and leaves the version alone.
    await check_version(session, application, expected_version)
    assert application.id is not None
    score = (
        await session.scalars(
            select(Score).where(col(Score.application_id) == application.id, col(Score.user_id) == by.id)
        )
    ).first()
    if score is None:
        score = Score(
            application_id=application.id,
            user_id=by.id,
            analysis=0,
            fact_accuracy=0,
            concision=0,
            interest_style=0,
            topic_knowledge=0,
            created_at=now,
        )
    for name, value in marks.items():
        setattr(score, name, value)
    score.recommendation = recommendation
    score.comment = comment
    score.updated_at = now
    session.add(score)
    average = sum(marks.values()) / len(marks)
    session.add(
        Event(
            application_id=application.id,
            kind="scored",
            actor=Actor.editor.value,
            actor_user_id=by.id,
            message=f"Scored {average:.1f} of 5, recommends {recommendation}",
            data={"average": round(average, 2), "recommendation": recommendation},
            created_at=now,
        )
    )
    await session.flush()
    return score
