"""What editors and applicants do with a trial: offer it (the move to `trial` with its brief), extend its
deadline, cancel it; save a draft of the piece and send it for good, ask for more time, decline. Each writes
its timeline event, queues its mail and webhook deliveries in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications.queries import application_by_public_id
from app.core import links
from app.core.errors import Conflict, Invalid, NotFound
from app.core.forms import FormFields
from app.core.i18n import N_, use_locale
from app.core.moves import check_version, transition
from app.core.outbound import enqueue, enqueue_for_staff
from app.core.staff import StaffUser
from app.core.workflow import Actor
from app.models import Applicant, Application, Event, State, Trial, TrialPiece, TrialState, User
from app.settings import Settings
from app.trials import brief as briefs
from app.trials import checks, events, fact_check
from app.trials.piece import PieceInput, piece_of, save_draft

REASON_LIMIT = 2000
REQUEST_LIMIT = 5000


async def latest_trial(session: AsyncSession, application_id: int) -> Trial | None:
    """The application's latest trial, or None."""
    return (
        await session.scalars(
            select(Trial)
            .where(col(Trial.application_id) == application_id)
            .order_by(col(Trial.id).desc())
            .limit(1)
        )
    ).first()


async def trial_of_status_link(session: AsyncSession, public_id: str) -> tuple[Application, Applicant, Trial]:
    """The application behind a status link and its latest trial; NotFound without one."""
    application, applicant = await application_by_public_id(session, public_id)
    assert application.id is not None
    trial = await latest_trial(session, application.id)
    if trial is None or application.erased_at is not None:
        raise NotFound(N_("There is no trial assignment for this application."))
    return application, applicant, trial


def trial_links(settings: Settings, application: Application) -> dict[str, str]:
    return {
        "status_url": links.status_url(settings, application.public_id),
        "trial_url": links.absolute(settings, "trial_page", public_id=application.public_id),
        "ics_url": links.absolute(settings, "trial_ics", public_id=application.public_id),
    }


def brief_context(trial: Trial) -> dict[str, Any]:
    with use_locale(trial.locale):
        fee = briefs.fee_text(trial)
    return {
        "topic": trial.topic,
        "sources": trial.sources,
        "style_notes": trial.style_notes,
        "min_words": trial.min_words,
        "max_words": trial.max_words,
        "deadline_at": trial.deadline_at.isoformat(),
        "deadline_firm": trial.deadline_firm,
        "fee": fee,
    }


async def _event(
    session: AsyncSession,
    *,
    trial: Trial,
    kind: str,
    actor: Actor,
    user: StaffUser | None = None,
    message: str | None = None,
    data: dict[str, Any] | None = None,
    now: datetime,
) -> Event:
    event = Event(
        application_id=trial.application_id,
        kind=kind,
        actor=actor.value,
        actor_user_id=user.id if user else None,
        message=message or None,
        data={"trial_id": trial.id, **(data or {})},
        created_at=now,
    )
    session.add(event)
    await session.flush()
    return event


async def _tell_applicant(
    session: AsyncSession,
    settings: Settings,
    *,
    template: str,
    trial: Trial,
    application: Application,
    applicant: Applicant,
    event: Event,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    await enqueue(
        session,
        settings=settings,
        template=template,
        recipient=applicant.email,
        recipient_name=applicant.name,
        dedupe_key=f"event:{event.id}:applicant",
        context={
            "applicant_name": applicant.name,
            **trial_links(settings, application),
            **brief_context(trial),
            **(extra or {}),
        },
        application_id=application.id,
        now=now,
        locale=trial.locale,
    )


async def _tell_editors(
    session: AsyncSession,
    settings: Settings,
    *,
    template: str,
    trial: Trial,
    application: Application,
    applicant: Applicant,
    event: Event,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    """A staff notice to the editor who offered the trial and to the application's assignee (once each)."""
    ids = {i for i in (trial.offered_by_id, application.assigned_editor_id) if i is not None}
    if not ids:
        return
    people = (await session.scalars(select(User).where(col(User.id).in_(ids)))).all()
    for user in people:
        if not user.is_active:
            continue
        await enqueue_for_staff(
            session,
            settings=settings,
            template=template,
            user=user,
            dedupe_key=f"event:{event.id}:user:{user.id}",
            context={
                "applicant_name": applicant.name,
                "application_url": links.absolute(settings, "application", application_id=application.id),
                "message": event.message or "",
                "deadline_at": trial.deadline_at.isoformat(),
                **(extra or {}),
            },
            application_id=application.id,
            now=now,
        )


# --- the editors' side ------------------------------------------------------------------------------------


async def offer(
    session: AsyncSession,
    settings: Settings,
    *,
    application: Application,
    applicant: Applicant,
    user: StaffUser,
    brief: briefs.Brief,
    version: int,
    now: datetime,
) -> Trial:
    """Write the trial with its brief and make the move to `trial` (which needs it); email the brief."""
    assert application.id is not None
    trial = Trial(
        application_id=application.id,
        locale=application.locale or settings.default_locale,
        topic=brief.topic,
        sources=brief.sources,
        style_notes=brief.style_notes,
        min_words=brief.min_words,
        max_words=brief.max_words,
        deadline_at=brief.deadline_at,
        deadline_firm=brief.deadline_firm,
        fee_kind=brief.fee_kind,
        fee_amount_minor=brief.fee_amount_minor,
        fee_cap_minor=brief.fee_cap_minor,
        currency=brief.currency,
        fact_checker_id=brief.fact_checker_id,
        offered_by_id=user.id,
        created_at=now,
        updated_at=now,
    )
    session.add(trial)
    await session.flush()
    event = await transition(
        session,
        settings=settings,
        application=application,
        applicant=applicant,
        to=State.trial,
        actor=Actor.editor,
        user=user,
        message=brief.message,
        expected_version=version,
        data={"trial_id": trial.id},
        now=now,
    )
    await _tell_applicant(
        session,
        settings,
        template="applicant_trial_offered",
        trial=trial,
        application=application,
        applicant=applicant,
        event=event,
        now=now,
        extra={"message": brief.message},
    )
    await events.trial_event(session, settings, trial=trial, name="trial.offered")
    return trial


def _running(trial: Trial) -> None:
    if trial.state != TrialState.offered:
        raise Conflict(
            N_("This trial is no longer running: the piece is in, or it was declined or cancelled.")
        )


async def extend(
    session: AsyncSession,
    settings: Settings,
    *,
    application: Application,
    applicant: Applicant,
    trial: Trial,
    user: StaffUser,
    fields: FormFields,
    version: int | None,
    now: datetime,
    time_zone: str,
) -> None:
    """Move the deadline later (a firm deadline that passed opens the form again); the applicant is told."""
    await check_version(session, application, version)
    _running(trial)
    deadline = briefs.read_deadline(fields, time_zone=time_zone, now=now)
    if "deadline" not in fields.errors and deadline <= trial.deadline_at:
        fields.fail("deadline", N_("The new deadline must be later than the current one."))
    fields.check(N_("The deadline was not changed: see the marked field."))
    before = trial.deadline_at
    trial.deadline_at = deadline
    trial.updated_at = now
    session.add(trial)
    event = await _event(
        session,
        trial=trial,
        kind="trial_extended",
        actor=Actor.editor,
        user=user,
        data={"from": before.isoformat(), "to": deadline.isoformat()},
        now=now,
    )
    await _tell_applicant(
        session,
        settings,
        template="applicant_trial_extended",
        trial=trial,
        application=application,
        applicant=applicant,
        event=event,
        now=now,
    )
    await events.trial_event(
        session, settings, trial=trial, name="trial.extended", data={"previous_deadline": before.isoformat()}
    )


async def cancel(
    session: AsyncSession,
    settings: Settings,
    *,
    application: Application,
    applicant: Applicant,
    trial: Trial,
    user: StaffUser,
    version: int | None,
    now: datetime,
) -> None:
    """Call the trial off (the application stays in `trial` for the decision); the applicant is told."""
    await check_version(session, application, version)
    _running(trial)
    trial.state = TrialState.cancelled
    trial.updated_at = now
    session.add(trial)
    event = await _event(session, trial=trial, kind="trial_cancelled", actor=Actor.editor, user=user, now=now)
    await _tell_applicant(
        session,
        settings,
        template="applicant_trial_cancelled",
        trial=trial,
        application=application,
        applicant=applicant,
        event=event,
        now=now,
    )
    await events.trial_event(session, settings, trial=trial, name="trial.cancelled")


# --- the applicant's side ---------------------------------------------------------------------------------


def _waiting(application: Application, trial: Trial) -> None:
    """Refuse unless the trial runs and the application still waits for its piece."""
    _running(trial)
    if application.state != State.trial:
        raise Conflict(N_("This application is no longer waiting for a trial piece."))


def _open_for_piece(application: Application, trial: Trial, now: datetime) -> None:
    _waiting(application, trial)
    if briefs.is_locked(trial, now):
        raise Conflict(N_("The deadline of this trial has passed: the piece can no longer be sent."))


async def save_piece(
    session: AsyncSession,
    settings: Settings,
    *,
    public_id: str,
    data: PieceInput,
    now: datetime,
) -> TrialPiece:
    """Keep the applicant's draft (replacing the one before) while the trial runs."""
    application, _, trial = await trial_of_status_link(session, public_id)
    _open_for_piece(application, trial, now)
    piece = await save_draft(session, settings, trial=trial, data=data, now=now)
    return piece


async def send_piece(session: AsyncSession, settings: Settings, *, public_id: str, now: datetime) -> Trial:
    """The final send: the draft becomes the piece, checked and given to the fact check; editors are told."""
    application, applicant, trial = await trial_of_status_link(session, public_id)
    _open_for_piece(application, trial, now)
    piece = await piece_of(session, trial)
    if piece is None:
        raise Invalid(
            N_("Save your piece first."), {"text": N_("Paste your piece here or attach it as a file.")}
        )
    late = briefs.is_late(trial, now)
    piece.is_final = True
    piece.submitted_at = now
    piece.updated_at = now
    trial.state = TrialState.submitted
    trial.submitted_at = now
    trial.late = late
    trial.updated_at = now
    session.add_all([piece, trial])
    await session.flush()
    await checks.run_checks(session, settings, trial=trial, piece=piece, now=now)
    await fact_check.create_piece_task(session, settings, trial=trial, piece=piece, now=now)
    event = await _event(
        session,
        trial=trial,
        kind="trial_submitted",
        actor=Actor.applicant,
        data={"late": late, "word_count": piece.word_count},
        now=now,
    )
    await _tell_editors(
        session,
        settings,
        template="staff_trial_submitted",
        trial=trial,
        application=application,
        applicant=applicant,
        event=event,
        now=now,
        extra={"late": late, "word_count": piece.word_count},
    )
    await events.trial_event(
        session,
        settings,
        trial=trial,
        name="trial.submitted",
        data={"late": late, "word_count": piece.word_count},
    )
    return trial


def _typed(fields: FormFields, name: str, limit: int, required: str | None = None) -> str:
    text = fields.text(name, limit=limit, required=required)
    fields.check(N_("Please check the form."))
    return text


async def _editors_told(
    session: AsyncSession,
    settings: Settings,
    *,
    application: Application,
    applicant: Applicant,
    trial: Trial,
    kind: str,
    message: str,
    template: str,
    webhook: str,
    now: datetime,
) -> None:
    """What the applicant did, on the timeline, in the editors' mail and to the webhooks."""
    event = await _event(session, trial=trial, kind=kind, actor=Actor.applicant, message=message, now=now)
    await _tell_editors(
        session,
        settings,
        template=template,
        trial=trial,
        application=application,
        applicant=applicant,
        event=event,
        now=now,
    )
    await events.trial_event(session, settings, trial=trial, name=webhook)


async def request_more_time(
    session: AsyncSession, settings: Settings, *, public_id: str, fields: FormFields, now: datetime
) -> None:
    """The applicant's message asking for a later deadline, to the editors (timeline, email, webhook)."""
    application, applicant, trial = await trial_of_status_link(session, public_id)
    _waiting(application, trial)
    message = _typed(fields, "request", REQUEST_LIMIT, N_("Say how much more time you need, and why."))
    await _editors_told(
        session,
        settings,
        application=application,
        applicant=applicant,
        trial=trial,
        kind="trial_more_time",
        message=message,
        template="staff_trial_more_time",
        webhook="trial.more_time_requested",
        now=now,
    )


async def decline(
    session: AsyncSession, settings: Settings, *, public_id: str, fields: FormFields, now: datetime
) -> None:
    """The applicant turns the trial down (with an optional reason); the editors are told."""
    application, applicant, trial = await trial_of_status_link(session, public_id)
    _waiting(application, trial)
    reason = _typed(fields, "reason", REASON_LIMIT)
    trial.state = TrialState.declined
    trial.declined_at = now
    trial.decline_reason = reason
    trial.updated_at = now
    session.add(trial)
    await _editors_told(
        session,
        settings,
        application=application,
        applicant=applicant,
        trial=trial,
        kind="trial_declined",
        message=reason,
        template="staff_trial_declined",
        webhook="trial.declined",
        now=now,
    )
