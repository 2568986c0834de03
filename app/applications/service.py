"""The applicant's operations: submit an application, withdraw it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, literal_column, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.applications import spam, uploads
from app.applications.forms import ApplicantFields, ParsedForm, SampleSlot
from app.applications.queries import application_by_public_id
from app.core import counts, links, search
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
    ApplicationSearch,
    ApplicationTopic,
    Department,
    Event,
    OutboxEmail,
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
                slot.upload,
                filename=slot.file_name,
                settings=settings,
                budget_bytes=budget,
                read_pdf_later=True,
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


def file_values(item: uploads.StoredFile) -> dict[str, Any]:
    """The columns of a work sample or trial piece that make it the file stored as `item`."""
    return {
        "kind": SampleKind.file,
        "file_name": item.file_name,
        "storage_key": item.storage_key,
        "content_type": item.content_type,
        "detected_type": item.detected_type,
        "size_bytes": item.size_bytes,
        "sha256": item.sha256,
        "word_count": item.word_count,
        "extracted_text": item.extracted_text,
    }


def attach_file(row: WorkSample | TrialPiece, item: uploads.StoredFile) -> None:
    """Make `row` (a work sample or a trial piece) the file stored as `item`."""
    for name, value in file_values(item).items():
        setattr(row, name, value)


# --- a new application's rows ---------------------------------------------------------------------------
#
# A form post writes some fifteen rows. They are written as plain rows, the rows of each table in one
# statement, with statements built once (the compiled form is then reused without rebuilding its cache key);
# no ORM object is made or flushed for them.


def _table(model: type[SQLModel]) -> Any:
    return model.__table__  # type: ignore[attr-defined]


def _new_row(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """A new row of `model`: the values given, the model's defaults for its other columns (its id left to the
    database)."""
    fields = model.model_fields
    row: dict[str, Any] = {}
    for column in _table(model).columns:
        key = column.key
        if key in values:
            row[key] = values[key]
        elif key != "id":
            field = fields.get(key)
            row[key] = field.get_default(call_default_factory=True) if field is not None else None
    return row


def _values(row: SQLModel) -> dict[str, Any]:
    """An ORM object's column values, to write it as a plain row (its id left to the database)."""
    return {
        column.key: getattr(row, column.key)
        for column in _table(type(row)).columns
        if not (column.key == "id" and getattr(row, "id", None) is None)
    }


@cache
def _insert(model: type[SQLModel], *returning: str) -> Any:
    table = _table(model)
    stmt = insert(table)
    return stmt.returning(*(table.c[name] for name in returning)) if returning else stmt


@cache
def _previous_application() -> Any:
    """The latest earlier application from the address bound as `email`."""
    return (
        select(col(Application.id))
        .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
        .where(col(Applicant.email_normalized) == bindparam("email"))
        .order_by(col(Application.created_at).desc())
        .limit(1)
    )


@cache
def _lookup_statement() -> Any:
    """The chosen departments (kind 0: id, name) and topics (kind 1: id), and the latest earlier application
    from the same address (kind 2, its id or NULL), in one statement."""
    return union_all(
        select(literal_column("0").label("kind"), col(Department.id), col(Department.name)).where(
            col(Department.slug).in_(bindparam("departments", expanding=True))
        ),
        select(literal_column("1"), col(Topic.id), literal_column("''")).where(
            col(Topic.slug).in_(bindparam("topics", expanding=True))
        ),
        select(literal_column("2"), _previous_application().scalar_subquery(), literal_column("''")),
    )


@cache
def _department_names_statement() -> Any:
    return (
        select(col(Department.name))
        .where(col(Department.id).in_(bindparam("ids", expanding=True)))
        .order_by(col(Department.id))
    )


@cache
def _editors_statement() -> Any:
    """Every active editor with each department they cover (none: NULL, they cover all)."""
    return (
        select(User, col(UserDepartment.department_id))
        .outerjoin(UserDepartment, col(UserDepartment.user_id) == col(User.id))
        .where(col(User.is_active), col(User.is_editor))
        .order_by(col(User.id))
    )


@dataclass(frozen=True)
class Lookup:
    """What a new application refers to: its departments and topics as stored (ids, and the departments'
    names for the mail) and the latest earlier application from the same address."""

    department_ids: list[int]
    department_names: list[str]
    topic_ids: list[int]
    previous: int | None


async def _lookup(session: AsyncSession, departments: list[str], topics: list[str], email_key: str) -> Lookup:
    """The chosen departments and topics (a list is empty when any of it is unknown) and the earlier
    application, in one statement."""
    rows = (
        await session.execute(
            _lookup_statement(), {"departments": departments, "topics": topics, "email": email_key}
        )
    ).all()
    found_departments = sorted((i, name) for kind, i, name in rows if kind == 0)
    found_topics = sorted(i for kind, i, _name in rows if kind == 1)
    previous = next((i for kind, i, _name in rows if kind == 2), None)
    if len(found_departments) != len(departments):
        found_departments = []
    return Lookup(
        department_ids=[i for i, _name in found_departments],
        department_names=[name for _i, name in found_departments],
        topic_ids=found_topics if len(found_topics) == len(topics) else [],
        previous=previous,
    )


def _sample_values(
    slot: SampleSlot,
    stored: dict[int, uploads.StoredFile],
    *,
    application_id: int,
    position: int,
    now: datetime,
) -> dict[str, Any]:
    values: dict[str, Any] = {"kind": slot.kind or SampleKind.text}
    if slot.kind == SampleKind.file:
        item = stored[slot.index]
        values.update(file_values(item))
        if item.text_pending or item.extracted_text:
            # Its prints for the similarity checks (and a PDF's words and text): app/applications/reading.py
            values["text_due_at"] = now
    elif slot.kind == SampleKind.link:
        values["url"] = slot.url
    else:
        values.update(text=slot.text, word_count=len(slot.text.split()))
        values["text_due_at"] = now  # its prints for the similarity checks: app/applications/reading.py
    return _new_row(WorkSample, application_id=application_id, position=position, title=slot.title, **values)


async def _existing(session: AsyncSession, key: str | None) -> str | None:
    if key is None:
        return None
    stmt = select(col(Application.public_id)).where(col(Application.submission_key) == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def submit_application(
    session: AsyncSession, *, settings: Settings, parsed: ParsedForm, ip: str, now: datetime
) -> str:
    """Store a valid application with its samples and queue its mail; return its public id.

    A repeated post of the same rendered form returns the application the first post made: its submission
    key is unique, so the second one's insert fails, everything it wrote is rolled back (its files too) and
    the first one's application is looked up.
    """
    if parsed.errors or parsed.fields is None:
        raise Invalid(_("Please correct the fields marked below."), parsed.errors)
    verdict = spam.screen(honeypot=parsed.honeypot, form_token=parsed.form_token, settings=settings, now=now)
    fields = parsed.fields
    email_key = normalize_email(fields.email)

    # Files first: the database transaction (SQLite's write lock) starts only after they are on disk.
    stored = await _store_files(session, parsed, settings)
    try:
        lookup = await _lookup(session, fields.departments, fields.topics, email_key)
        errors = {}
        if not lookup.department_ids:
            errors["departments"] = _("Choose departments from the list.")
        if not lookup.topic_ids:
            errors["topics"] = _("Choose topics from the list.")
        if errors:
            raise Invalid(_("Please correct the fields marked below."), errors)
        created = await create_application(
            session,
            settings=settings,
            fields=fields,
            slots=parsed.slots,
            stored=stored,
            department_ids=lookup.department_ids,
            topic_ids=lookup.topic_ids,
            spam_reason=verdict.spam_reason,
            submission_key=verdict.submission_key,
            now=now,
            lookup=lookup,
        )
        # Counted after the application is written, so that a repeated post finds its first one instead.
        await spam.enforce_rate_limits(session, settings=settings, ip=ip, email=email_key, now=now)
    except IntegrityError:
        # The same form posted twice: the other post won; show its application.
        await session.rollback()
        existing = await _existing(session, verdict.submission_key)
        if existing is None:
            raise
        return existing
    except BaseException:
        # Also when the request is cancelled, which ends no transaction to remove them with.
        _remove(settings, stored)
        raise
    return created.public_id


@dataclass(frozen=True)
class Created:
    """A new application: its id and the public id of its status link."""

    id: int
    public_id: str


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
    lookup: Lookup | None = None,
) -> Created:
    """Write the applicant, the application, its samples and events, and queue its mail.

    `lookup` is what the caller has read already (the departments' names, the earlier application); without
    it, it is read here. The samples' prints (and a PDF's words) are left to the reader
    (app/applications/reading.py).
    """
    email_key = normalize_email(fields.email)
    if lookup is None:
        names = await session.scalars(_department_names_statement(), {"ids": department_ids})
        previous = await session.scalar(_previous_application(), {"email": email_key})
        lookup = Lookup(department_ids, list(names.all()), topic_ids, previous)
    previous = lookup.previous
    applicant_id = await session.scalar(
        _insert(Applicant, "id"),
        _new_row(
            Applicant,
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
        ),
    )
    state = State.spam if spam_reason else State.submitted
    public_id = new_public_id()
    locale = current_locale()
    app_id = await session.scalar(
        _insert(Application, "id"),
        _new_row(
            Application,
            locale=locale,
            public_id=public_id,
            submission_key=submission_key,
            applicant_id=applicant_id,
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
        ),
    )
    assert app_id is not None
    if department_ids:
        await session.execute(
            _insert(ApplicationDepartment),
            [{"application_id": app_id, "department_id": d} for d in department_ids],
        )
    if topic_ids:
        await session.execute(
            _insert(ApplicationTopic), [{"application_id": app_id, "topic_id": t} for t in topic_ids]
        )
    used = [slot for slot in slots if slot.kind is not None]
    samples = [
        _sample_values(slot, stored, application_id=app_id, position=position, now=now)
        for position, slot in enumerate(used)
    ]
    if samples:
        await session.execute(_insert(WorkSample), samples)
    events = [
        _new_row(
            Event,
            application_id=app_id,
            kind="submitted",
            actor=Actor.applicant.value,
            to_state=state,
            message="Application received",
            data={"samples": len(samples)},
            is_public=True,
            created_at=now,
        )
    ]
    if previous is not None:
        events.append(
            _new_row(
                Event,
                application_id=app_id,
                kind="repeat_applicant",
                actor=Actor.system.value,
                message="This email address has applied before.",
                data={"previous_application_id": previous},
                created_at=now,
            )
        )
    if spam_reason:
        events.append(
            _new_row(
                Event,
                application_id=app_id,
                kind="spam_flagged",
                actor=Actor.system.value,
                message=f"Held as spam: {spam_reason}",
                data={"reason": spam_reason},
                created_at=now,
            )
        )
    # Matched back by kind (one event of each): asking for the ids in the rows' order takes one INSERT a row.
    returned = await session.execute(_insert(Event, "id", "kind"), events)
    received = {kind: event_id for event_id, kind in returned.all()}["submitted"]
    body = search.document(
        name=fields.name,
        email=fields.email,
        motivation=fields.motivation,
        samples=[(row["title"], row["text"] if row["kind"] == SampleKind.text else None) for row in samples],
    )
    await session.execute(_insert(ApplicationSearch), [_values(search.search_row(session, app_id, body))])
    await counts.shift(session, app_id, None, state, department_ids=department_ids)
    if not spam_reason:
        await _queue_submission_mail(
            session,
            settings=settings,
            application_id=app_id,
            public_id=public_id,
            locale=locale,
            fields=fields,
            sample_titles=[row["title"] for row in samples],
            department_ids=department_ids,
            department_names=lookup.department_names,
            event_id=received,
            now=now,
        )
    return Created(app_id, public_id)


async def _queue_submission_mail(
    session: AsyncSession,
    *,
    settings: Settings,
    application_id: int,
    public_id: str,
    locale: str | None,
    fields: ApplicantFields,
    sample_titles: list[str],
    department_ids: list[int],
    department_names: list[str],
    event_id: int,
    now: datetime,
) -> None:
    """The applicant's confirmation and the 'new application' note to editors covering its departments."""
    messages = [
        await enqueue(
            session,
            settings=settings,
            template="applicant_received",
            recipient=fields.email,
            recipient_name=fields.name,
            dedupe_key=f"event:{event_id}:applicant",
            context={
                "applicant_name": fields.name,
                "status_url": links.status_url(settings, public_id),
                "departments": list(department_names),
                "sample_titles": [title[:TITLE_IN_MAIL] for title in sample_titles],
            },
            application_id=application_id,
            now=now,
            locale=locale,
        )
    ]
    editors: dict[int, tuple[User, set[int]]] = {}
    for editor, department_id in (await session.execute(_editors_statement())).all():
        covered = editors.setdefault(editor.id or 0, (editor, set()))[1]
        if department_id is not None:
            covered.add(department_id)
    for editor, covered in editors.values():
        if covered and not covered.intersection(department_ids):
            continue
        message = await enqueue_for_staff(
            session,
            settings=settings,
            template="staff_new_application",
            user=editor,
            dedupe_key=f"event:{event_id}:user:{editor.id}",
            context={
                "applicant_name": fields.name,
                "departments": list(department_names),
                "application_url": links.absolute(settings, "application", application_id=application_id),
            },
            application_id=application_id,
            now=now,
        )
        if message is not None:
            messages.append(message)
    # Written in one statement rather than one a message (the ORM reads back each new row's id).
    for message in messages:
        session.expunge(message)
    await session.execute(_insert(OutboxEmail), [_values(message) for message in messages])


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
