"""The applicant's data as a zip: `data.json` (all held about them and the application) and their files."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications.queries import StatusView
from app.applications.uploads import clean_filename
from app.core import workflow
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.core.site import localized
from app.mail.render import RenderError, render
from app.models import (
    ApplicationDepartment,
    ApplicationTopic,
    Department,
    EmailStatus,
    OutboxEmail,
    SampleKind,
    Topic,
    Trial,
    TrialPiece,
)
from app.settings import Settings
from app.trials import brief as briefs

README = N_(
    "This archive holds what %(publication)s keeps about your application.\n"
    "\n"
    "data.json  your details, your application, your work samples, your trial assignments with the pieces "
    "you wrote for them, its public timeline and the messages we sent you\n"
    "files/     the files you uploaded, as you sent them\n"
)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _names(session: AsyncSession, application_id: int) -> tuple[list[str], list[str]]:
    departments = await session.scalars(
        select(Department)
        .join(ApplicationDepartment, col(ApplicationDepartment.department_id) == col(Department.id))
        .where(col(ApplicationDepartment.application_id) == application_id)
        .order_by(col(Department.position))
    )
    topics = await session.scalars(
        select(Topic)
        .join(ApplicationTopic, col(ApplicationTopic.topic_id) == col(Topic.id))
        .where(col(ApplicationTopic.application_id) == application_id)
        .order_by(col(Topic.position))
    )
    # In the reader's language, as the status page names them.
    return [localized(d).text for d in departments.all()], [localized(t).text for t in topics.all()]


async def _messages(session: AsyncSession, settings: Settings, application_id: int) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(
            select(OutboxEmail)
            .where(
                col(OutboxEmail.application_id) == application_id,
                ~col(OutboxEmail.is_staff),
                col(OutboxEmail.status) == EmailStatus.sent,
            )
            .order_by(col(OutboxEmail.sent_at), col(OutboxEmail.id))
        )
    ).all()
    messages = []
    for row in rows:
        item: dict[str, Any] = {"to": row.recipient, "sent_at": _when(row.sent_at)}
        try:
            message = render(row, settings)
            body = message.get_body(("plain",))
            item["subject"] = str(message["Subject"])
            item["text"] = body.get_content() if body is not None else ""
        except RenderError:
            item["subject"], item["text"] = row.template, ""
        messages.append(item)
    return messages


async def _trials(
    session: AsyncSession, application_id: int
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Each trial offered: the brief as sent, the applicant's piece, when it came and whether late, and the
    reason they gave if they declined (not the editors' scores or the fee's notes); and the pieces' files."""
    rows = (
        await session.execute(
            select(Trial, TrialPiece)
            .outerjoin(TrialPiece, col(TrialPiece.trial_id) == col(Trial.id))
            .where(col(Trial.application_id) == application_id)
            .order_by(col(Trial.created_at), col(Trial.id))
        )
    ).all()
    trials: list[dict[str, Any]] = []
    files: list[tuple[str, str]] = []
    for number, (trial, piece) in enumerate(rows, start=1):
        item: dict[str, Any] = {
            "offered_at": _when(trial.created_at),
            "brief": {
                "topic": trial.topic,
                "sources": trial.sources,
                "style_notes": trial.style_notes,
                "min_words": trial.min_words,
                "max_words": trial.max_words,
                "deadline_at": _when(trial.deadline_at),
                "deadline_firm": trial.deadline_firm,
                "fee": briefs.fee_text(trial),
            },
            "state": trial.state,
            "submitted_at": _when(trial.submitted_at),
            "late": trial.late,
            "declined_at": _when(trial.declined_at),
            "decline_reason": trial.decline_reason or None,
            "piece": None,
        }
        if piece is not None:
            entry: dict[str, Any] = {
                "final": piece.is_final,
                "saved_at": _when(piece.updated_at),
                "submitted_at": _when(piece.submitted_at),
                "word_count": piece.word_count,
            }
            if piece.kind == SampleKind.file:
                archived = f"files/trial-{number}-{clean_filename(piece.file_name or 'piece')}"
                entry.update(
                    file_name=piece.file_name,
                    archived_as=archived,
                    detected_type=piece.detected_type,
                    size_bytes=piece.size_bytes,
                    sha256=piece.sha256,
                )
                if piece.storage_key:
                    files.append((archived, piece.storage_key))
            else:
                entry["text"] = piece.text
            item["piece"] = entry
        trials.append(item)
    return trials, files


async def build_export(session: AsyncSession, *, settings: Settings, view: StatusView) -> bytes:
    """The zip for the application behind `view`."""
    application, applicant = view.application, view.applicant
    assert application.id is not None
    departments, topics = await _names(session, application.id)
    files: list[tuple[str, str]] = []
    samples = []
    for number, sample in enumerate(view.samples, start=1):
        item: dict[str, Any] = {"title": sample.title, "kind": sample.kind}
        item["added_at"] = _when(sample.created_at)
        if sample.kind == SampleKind.link:
            item["url"] = sample.url
        elif sample.kind == SampleKind.text:
            item["text"] = sample.text
            item["word_count"] = sample.word_count
        else:
            archived = f"files/{number}-{clean_filename(sample.file_name or 'sample')}"
            item.update(
                file_name=sample.file_name,
                archived_as=archived,
                detected_type=sample.detected_type,
                size_bytes=sample.size_bytes,
                sha256=sample.sha256,
                word_count=sample.word_count,
            )
            if sample.storage_key:
                files.append((archived, sample.storage_key))
        samples.append(item)
    trials, trial_files = await _trials(session, application.id)
    files += trial_files
    timeline = [
        {
            "at": _when(event.created_at),
            "status": _(workflow.public_label(event.to_state)) if event.to_state else None,
            "message": event.message if event.kind == "state_changed" else None,
        }
        for event in view.events
    ]
    data = {
        "exported_for": settings.publication_name,
        "applicant": {
            "name": applicant.name,
            "email": applicant.email,
            "phone": applicant.phone,
            "city": applicant.city,
            "country": applicant.country,
            "profile_links": applicant.links,
            "consent": {
                "text": applicant.consent_text,
                "version": applicant.consent_version,
                "given_at": _when(applicant.consent_at),
            },
        },
        "application": {
            "public_id": application.public_id,
            "status": _(workflow.public_label(application.state)),
            "submitted_at": _when(application.created_at),
            "decided_at": _when(application.decided_at),
            "departments": departments,
            "topics": topics,
            "motivation": application.motivation,
            "experience": application.experience,
            "availability": application.availability,
        },
        "work_samples": samples,
        "trials": trials,
        "timeline": timeline,
        "messages_sent_to_you": await _messages(session, settings, application.id),
    }
    readme = _(README, publication=settings.publication_name)
    return await anyio.to_thread.run_sync(_zip, settings, data, files, readme)


def _zip(settings: Settings, data: dict[str, Any], files: list[tuple[str, str]], readme: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme)
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        for name, key in files:
            path = settings.uploads_path / key
            if path.is_file():
                archive.write(path, name)
    return buffer.getvalue()
