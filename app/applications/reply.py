"""The applicant's answer to an information request: text and optionally one more work sample."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar.datastructures import FormMultiDict, UploadFile
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications import uploads
from app.applications.forms import LIMITS, check_url
from app.applications.queries import application_by_public_id
from app.applications.service import attach_file
from app.core import search, similarity
from app.core.db import delete_on_rollback
from app.core.errors import Conflict, Invalid
from app.core.i18n import gettext as _
from app.core.i18n import ngettext
from app.core.moves import transition
from app.core.text import strip_bidi
from app.core.workflow import Actor
from app.models import SampleKind, State, WorkSample
from app.settings import Settings

REPLY_LIMIT = 10_000


@dataclass
class ReplyForm:
    text: str
    title: str
    url: str
    upload: UploadFile | None
    errors: dict[str, str]

    @property
    def values(self) -> dict[str, str]:
        return {"reply": self.text, "sample_title": self.title, "sample_url": self.url}


def parse_reply(form: FormMultiDict) -> ReplyForm:
    """Read and check the reply form; every problem is kept against its field."""
    text = str(form.get("reply") or "").strip()
    title = " ".join(strip_bidi(str(form.get("sample_title") or "")).split())
    url = str(form.get("sample_url") or "").strip()
    upload = form.get("sample_file")
    upload = upload if isinstance(upload, UploadFile) and upload.filename else None
    errors: dict[str, str] = {}
    if not text:
        errors["reply"] = _("Write your answer to the editor's question.")
    elif len(text) > REPLY_LIMIT:
        errors["reply"] = ngettext(
            "Keep your answer under %(num)s character.",
            "Keep your answer under %(num)s characters.",
            REPLY_LIMIT,
        )
    if url and upload:
        errors["sample"] = _("Attach a file or give a link, not both.")
    elif url:
        try:
            url = check_url(url)
        except ValueError as exc:
            errors["sample_url"] = str(exc)
    if (url or upload) and not title:
        errors["sample_title"] = _("Give the sample a title.")
    elif len(title) > LIMITS["sample_title"]:
        errors["sample_title"] = ngettext(
            "Titles can be at most %(num)s character.",
            "Titles can be at most %(num)s characters.",
            LIMITS["sample_title"],
        )
    return ReplyForm(text, title, url, upload, errors)


async def reply(
    session: AsyncSession, *, settings: Settings, public_id: str, form: ReplyForm, now: datetime
) -> None:
    """Record the answer (and its sample), move the application back to screening and tell the assignee."""
    application, applicant = await application_by_public_id(session, public_id)
    if application.state != State.info_requested:
        raise Conflict(_("This application is not waiting for an answer from you."))
    if form.errors:
        raise Invalid(_("Please correct the fields marked below."), form.errors)
    assert application.id is not None
    sample: WorkSample | None = None
    if form.upload or form.url:
        position = await session.scalar(
            select(func.coalesce(func.max(col(WorkSample.position)), -1) + 1).where(
                col(WorkSample.application_id) == application.id
            )
        )
        sample = WorkSample(
            application_id=application.id, position=int(position or 0), kind=SampleKind.link, title=form.title
        )
        if form.upload:
            try:
                item = await uploads.store_upload(
                    form.upload,
                    filename=form.upload.filename,
                    settings=settings,
                    budget_bytes=settings.max_file_bytes,
                    read_pdf_later=True,
                )
            except uploads.UploadRejected as exc:
                status = exc.status_code
                raise Invalid(exc.message, {"sample_file": exc.message}, status_code=status) from None
            delete_on_rollback(session, item.path)
            attach_file(sample, item)
            if item.text_pending:
                sample.text_due_at = now  # its words, text and prints: app/applications/reading.py
        else:
            sample.url = form.url
        session.add(sample)
        await session.flush()
        await similarity.index_samples(session, [sample])
        await search.index_application(session, application.id)  # the new sample's title is searchable
    await transition(
        session,
        settings=settings,
        application=application,
        applicant=applicant,
        to=State.screening,
        actor=Actor.applicant,
        message=form.text,
        data={"sample_id": sample.id} if sample else None,
        now=now,
    )
