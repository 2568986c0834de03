"""Editors' operations on one application: their moves, assignment, notes, labels and scores.

State changes themselves go through `app.core.moves.transition`; an editor's move may first create the
fact-check task a move to fact check needs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import col

from app.core import moves
from app.core.errors import Invalid
from app.core.i18n import N_
from app.core.moves import check_version, load_facts, notify_user, transition
from app.core.staff import StaffUser
from app.core.workflow import Actor
from app.factcheck.service import TaskInput, create_task
from app.models import (
    Applicant,
    Application,
    ApplicationLabel,
    Event,
    Label,
    Score,
    State,
    User,
    utcnow,
)
from app.settings import Settings

CRITERIA = ("analysis", "fact_accuracy", "concision", "interest_style", "topic_knowledge")


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
    await moves.flush_versioned(session)
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
        await notify_user(
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
    await moves.flush_versioned(session)
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
