"""The applicant's operations: submit an application, withdraw it."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications import spam, uploads
from app.applications.forms import ApplicantFields, ParsedForm, SampleSlot
from app.applications.queries import application_by_public_id
from app.core import counts, links, search, similarity
from app.core.db import delete_on_rollback
from app.core.errors import Invalid
from app.core.i18n import current_locale
from app.core.i18n import gettext as _
from app.core.moves import transition
from app.core.outbound import enqueue, enqueue_for_staff
from app.core.site import CONSENT_VERSION, consent
from app.core.text import normalize_email
from app.core.workflow import DEFAULT_DUE, Actor
from app.models import (
    Applicant,
    Application,
    ApplicationDepartment,
    ApplicationTopic,
    Department,
    Event,
    SampleKind,
    State,
    Topic,
    TrialPiece,
    User,
    UserDepartment,
    WorkSample,
)
from app.settings import Settings

TITLE_IN_MAIL = 80


def new_public_id() -> str:
    """An opaque, unguessable id for the status link (192 random bits)."""
    return secrets.token_urlsafe(24)


async def _store_files(
    session: AsyncSession, parsed: ParsedForm, settings: Settings
) -> dict[int, uploads.StoredFile]:
    """Stream every attached file to the upload folder; on any refusal say where (a rollback removes them)."""
    stored: dict[int, uploads.StoredFile] = {}
    errors: dict[str, str] = {}
    budget = settings.max_application_bytes
    status = 422
    for slot in parsed.slots:
        if slot.kind != "file" or slot.upload is None:
            continue
        try:
            item = await uploads.store_upload(
                slot.upload, filename=slot.file_name, settings=settings, budget_bytes=budget
            )
        except uploads.UploadRejected as exc:
            errors[f"sample-{slot.index}"] = exc.message
            if exc.status_code == 413:
                status = 413
            continue
        delete_on_rollback(session, item.path)
        stored[slot.index] = item
        budget -= item.size_bytes
    if errors:
        raise Invalid(_("Some work samples could not be accepted."), errors, status_code=status)
    return stored


def _remove(settings: Settings, stored: dict[int, uploads.StoredFile]) -> None:
    for item in stored.values():
        uploads.remove_stored(settings, item.storage_key)


def attach_file(row: WorkSample | TrialPiece, item: uploads.StoredFile) -> None:
    """Make `row` (a work sample or a trial piece) the file stored as `item`."""
    row.kind = SampleKind.file
    row.file_name = item.file_name
    row.storage_key = item.storage_key
    row.content_type = item.content_type
    row.detected_type = item.detected_type
    row.size_bytes = item.size_bytes
    row.sha256 = item.sha256
    row.word_count = item.word_count
    row.extracted_text = item.extracted_text


def _sample_row(
    slot: SampleSlot, stored: dict[int, uploads.StoredFile], *, application_id: int, position: int
) -> WorkSample:
    row = WorkSample(
        application_id=application_id, position=position, kind=slot.kind or SampleKind.text, title=slot.title
    )
    if slot.kind == SampleKind.file:
        attach_file(row, stored[slot.index])
    elif slot.kind == SampleKind.link:
        row.url = slot.url
    else:
        row.text = slot.text
        row.word_count = len(slot.text.split())
    return row


async def _lookup(
    session: AsyncSession, model: type[Department] | type[Topic], slugs: list[str]
) -> list[int]:
    stmt = select(col(model.id)).where(col(model.slug).in_(slugs))
    ids = [i for i in (await session.execute(stmt)).scalars().all() if i is not None]
    return ids if len(ids) == len(slugs) else []


async def _existing(session: AsyncSession, key: str | None) -> str | None:
    if key is None:
        return None
    stmt = select(col(Application.public_id)).where(col(Application.submission_key) == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def submit_application(
    session: AsyncSession, *, settings: Settings, parsed: ParsedForm, ip: str, now: datetime
) -> str:
    """Store a valid application with its samples and queue its mail; return its public id.

    A repeated post of the same rendered form returns the application the first post made.
    """
    if parsed.errors or parsed.fields is None:
        raise Invalid(_("Please correct the fields marked below."), parsed.errors)
    verdict = spam.screen(honeypot=parsed.honeypot, form_token=parsed.form_token, settings=settings, now=now)
    fields = parsed.fields

    # Files first: the database transaction (SQLite's write lock) starts only after they are on disk.
    stored = await _store_files(session, parsed, settings)
    try:
        if (existing := await _existing(session, verdict.submission_key)) is not None:
            _remove(settings, stored)
            return existing
        await spam.enforce_rate_limits(
            session, settings=settings, ip=ip, email=normalize_email(fields.email), now=now
        )
        department_ids = await _lookup(session, Department, fields.departments)
        topic_ids = await _lookup(session, Topic, fields.topics)
        errors = {}
        if not department_ids:
            errors["departments"] = _("Choose departments from the list.")
        if not topic_ids:
            errors["topics"] = _("Choose topics from the list.")
        if errors:
            raise Invalid(_("Please correct the fields marked below."), errors)
        application = await create_application(
            session,
            settings=settings,
            fields=fields,
            slots=parsed.slots,
            stored=stored,
            department_ids=department_ids,
            topic_ids=topic_ids,
            spam_reason=verdict.spam_reason,
            submission_key=verdict.submission_key,
            now=now,
        )
    except IntegrityError:
        # The same form posted twice at once: the other post won; show its application.
        await session.rollback()
        existing = await _existing(session, verdict.submission_key)
        if existing is None:
            raise
        return existing
    except BaseException:
        # Also when the request is cancelled, which ends no transaction to remove them with.
        _remove(settings, stored)
        raise
    return application.public_id


async def create_application(
    session: AsyncSession,
    *,
    settings: Settings,
    fields: ApplicantFields,
    slots: list[SampleSlot],
    stored: dict[int, uploads.StoredFile],
    department_ids: list[int],
    topic_ids: list[int],
    spam_reason: str | None,
    submission_key: str | None,
    now: datetime,
) -> Application:
    """Write the applicant, the application, its samples and events, and queue its mail."""
    email_key = normalize_email(fields.email)
    previous = (
        await session.execute(
            select(col(Application.id))
            .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
            .where(col(Applicant.email_normalized) == email_key)
            .order_by(col(Application.created_at).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    applicant = Applicant(
        name=fields.name,
        email=fields.email,
        email_normalized=email_key,
        phone=fields.phone,
        city=fields.city,
        country=fields.country,
        links=fields.profile_links,
        consent_text=(await consent(session, settings.publication_name)).text,
        consent_version=CONSENT_VERSION,
        consent_at=now,
        created_at=now,
    )
    session.add(applicant)
    await session.flush()
    state = State.spam if spam_reason else State.submitted
    application = Application(
        locale=current_locale(),
        public_id=new_public_id(),
        submission_key=submission_key,
        applicant_id=applicant.id,  # type: ignore[arg-type]
        motivation=fields.motivation,
        experience=fields.experience,
        availability=fields.availability,
        state=state,
        state_changed_at=now,
        due_at=now + DEFAULT_DUE[State.submitted] if state == State.submitted else None,
        spam_score=1.0 if spam_reason else 0.0,
        spam_reason=spam_reason,
        is_repeat=previous is not None,
        repeat_of_id=previous,
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    await session.flush()
    app_id = application.id
    assert app_id is not None
    session.add_all(ApplicationDepartment(application_id=app_id, department_id=d) for d in department_ids)
    session.add_all(ApplicationTopic(application_id=app_id, topic_id=t) for t in topic_ids)
    used = [slot for slot in slots if slot.kind is not None]
    samples = [
        _sample_row(slot, stored, application_id=app_id, position=position)
        for position, slot in enumerate(used)
    ]
    session.add_all(samples)
    received = Event(
        application_id=app_id,
        kind="submitted",
        actor=Actor.applicant.value,
        to_state=state,
        message="Application received",
        data={"samples": len(samples)},
        is_public=True,
        created_at=now,
    )
    session.add(received)
    if previous is not None:
        session.add(
            Event(
                application_id=app_id,
                kind="repeat_applicant",
                actor=Actor.system.value,
                message="This email address has applied before.",
                data={"previous_application_id": previous},
                created_at=now,
            )
        )
    if spam_reason:
        session.add(
            Event(
                application_id=app_id,
                kind="spam_flagged",
                actor=Actor.system.value,
                message=f"Held as spam: {spam_reason}",
                data={"reason": spam_reason},
                created_at=now,
            )
        )
    search.add_document(
        session,
        app_id,
        name=applicant.name,
        email=applicant.email,
        motivation=application.motivation,
        samples=[(row.title, row.text if row.kind == SampleKind.text else None) for row in samples],
    )
    await session.flush()
    await similarity.index_samples(session, samples)  # for the similarity checks of trial pieces
    await counts.shift(session, app_id, None, state)
    if not spam_reason:
        await _queue_submission_mail(
            session,
            settings=settings,
            application=application,
            applicant=applicant,
            samples=samples,
            department_ids=department_ids,
            event=received,
            now=now,
        )
    return application


async def _queue_submission_mail(
    session: AsyncSession,
    *,
    settings: Settings,
    application: Application,
    applicant: Applicant,
    samples: list[WorkSample],
    department_ids: list[int],
    event: Event,
    now: datetime,
) -> None:
    """The applicant's confirmation and the 'new application' note to editors covering its departments."""
    stmt = select(col(Department.name)).where(col(Department.id).in_(department_ids))
    departments = (await session.execute(stmt)).scalars().all()
    await enqueue(
        session,
        settings=settings,
        template="applicant_received",
        recipient=applicant.email,
        recipient_name=applicant.name,
        dedupe_key=f"event:{event.id}:applicant",
        context={
            "applicant_name": applicant.name,
            "status_url": links.status_url(settings, application.public_id),
            "departments": list(departments),
            "sample_titles": [s.title[:TITLE_IN_MAIL] for s in samples],
        },
        application_id=application.id,
        now=now,
        locale=application.locale,
    )
    editors = (
        (await session.execute(select(User).where(col(User.is_active), col(User.is_editor)))).scalars().all()
    )
    coverage: dict[int, set[int]] = {}
    for user_id, department_id in (
        await session.execute(select(col(UserDepartment.user_id), col(UserDepartment.department_id)))
    ).all():
        coverage.setdefault(user_id, set()).add(department_id)
    for editor in editors:
        covered = coverage.get(editor.id or 0)
        if covered and not covered.intersection(department_ids):
            continue
        await enqueue_for_staff(
            session,
            settings=settings,
            template="staff_new_application",
            user=editor,
            dedupe_key=f"event:{event.id}:user:{editor.id}",
            context={
                "applicant_name": applicant.name,
                "departments": list(departments),
                "application_url": links.absolute(settings, "application", application_id=application.id),
            },
            application_id=application.id,
            now=now,
        )
    await session.flush()


async def withdraw(
    session: AsyncSession, *, settings: Settings, public_id: str, reason: str, now: datetime
) -> None:
    """The applicant withdraws from the status page; final."""
    application, applicant = await application_by_public_id(session, public_id)
    await transition(
        session,
        settings=settings,
        application=application,
        applicant=applicant,
        to=State.withdrawn,
        actor=Actor.applicant,
        message=reason.strip()[:2000] or None,
        now=now,
    )
