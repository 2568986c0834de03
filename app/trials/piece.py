"""The trial piece as it comes in: pasted text or one file (PDF, DOCX, ODT, RTF, TXT, MD) under the upload
rules of the application form, its words counted on the server, kept as a draft until the final send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar.datastructures import FormMultiDict, UploadFile
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications import uploads
from app.applications.service import attach_file
from app.core.db import delete_after_commit, delete_on_rollback
from app.core.errors import Invalid
from app.core.forms import clean_text
from app.core.i18n import N_, ngettext
from app.models import SampleKind, Trial, TrialPiece
from app.settings import Settings

# A long feature is some 60,000 characters; the limit leaves room and bounds what a form can send.
MAX_PIECE_CHARS = 200_000


def count_words(text: str) -> int:
    """Words as the application form and the page's live counter count them: runs of non-space characters."""
    return len(text.split())


@dataclass
class PieceInput:
    text: str
    upload: UploadFile | None
    errors: dict[str, str]


def read_piece(form: FormMultiDict) -> PieceInput:
    """The piece form: pasted text or a file, not both and not neither."""
    raw = form.get("text")
    text = clean_text(raw) if isinstance(raw, str) else ""
    upload = form.get("file")
    upload = upload if isinstance(upload, UploadFile) and upload.filename else None
    errors: dict[str, str] = {}
    if text and upload:
        errors["text"] = N_("Paste the text or attach a file, not both.")
    elif not text and not upload:
        errors["text"] = N_("Paste your piece here or attach it as a file.")
    elif len(text) > MAX_PIECE_CHARS:
        errors["text"] = ngettext(
            "At most %(num)s character.", "At most %(num)s characters.", MAX_PIECE_CHARS
        )
    return PieceInput(text, upload, errors)


async def piece_of(session: AsyncSession, trial: Trial) -> TrialPiece | None:
    return (await session.scalars(select(TrialPiece).where(col(TrialPiece.trial_id) == trial.id))).first()


def _clear_file(session: AsyncSession, settings: Settings, piece: TrialPiece) -> None:
    if piece.storage_key:
        delete_after_commit(session, *uploads.stored_paths(settings, piece.storage_key))
    piece.file_name = piece.storage_key = piece.content_type = piece.detected_type = None
    piece.size_bytes = None
    piece.sha256 = None
    piece.extracted_text = None


async def save_draft(
    session: AsyncSession, settings: Settings, *, trial: Trial, data: PieceInput, now: datetime
) -> TrialPiece:
    """Store the piece as the trial's draft, replacing the one before (and its file, once this commits)."""
    if data.errors:
        raise Invalid(N_("Please check your piece."), dict(data.errors))
    assert trial.id is not None
    piece = await piece_of(session, trial)
    if piece is None:
        piece = TrialPiece(trial_id=trial.id, application_id=trial.application_id, kind=SampleKind.text)
        piece.created_at = now
    stored: uploads.StoredFile | None = None
    if data.upload is not None:
        try:
            stored = await uploads.store_upload(
                data.upload,
                filename=data.upload.filename,
                settings=settings,
                budget_bytes=settings.max_file_bytes,
            )
        except uploads.UploadRejected as exc:
            raise Invalid(exc.message, {"file": exc.message}, status_code=exc.status_code) from None
        delete_on_rollback(session, stored.path)
    _clear_file(session, settings, piece)
    if stored is not None:
        attach_file(piece, stored)
        piece.text = None
    else:
        piece.kind = SampleKind.text
        piece.text = data.text
        piece.word_count = count_words(data.text)
    piece.updated_at = now
    session.add(piece)
    await session.flush()
    return piece


def piece_text(piece: TrialPiece) -> str:
    """The piece's words as read: the pasted text, or the text read from its file."""
    return (piece.text if piece.kind == SampleKind.text else piece.extracted_text) or ""


def words_problem(trial: Trial, words: int | None) -> str | None:
    """Whether the piece's length misses the brief's limits (a note, not a refusal)."""
    if words is None:
        return None
    if trial.min_words and words < trial.min_words:
        return N_("Shorter than the brief asks.")
    if trial.max_words and words > trial.max_words:
        return N_("Longer than the brief allows.")
    return None
