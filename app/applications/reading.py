"""Reading work samples after the form's answer: a PDF's word count and text, and every sample's prints.

The form keeps a PDF on its first bytes (`uploads.store_upload(read_pdf_later=True)`: whatever a PDF holds, it
is safe to keep) and marks its sample due (`WorkSample.text_due_at`), as it marks every sample with a text
(pasted, or read from a document at upload), whose prints for the similarity checks are still to be made: no
request waits for a PDF to be parsed or a text to be fingerprinted, and no hostile PDF costs a request
anything. A reader, beside the pages in the web process or
in `byline worker`, takes due samples a few at a time, reads each PDF in the child process that checks
uploads, within the same budget (BYLINE_UPLOAD_INSPECT_*: CPU seconds, memory, wall clock), fingerprints the
text, and writes the count, the text and the prints in one short transaction per round; no transaction is
open while a file is read. A PDF that cannot be read within the budget keeps no count, as one read at upload
does.

A claim moves the samples' due time on by the lock time; a reader that dies holding them leaves them to any
reader once it has passed. A result is written only while the sample still waits (an erasure may have taken
it meanwhile); reading twice writes once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications import uploads
from app.applications.inspection import Inspection
from app.core import similarity
from app.core.db import Database, unless_taken
from app.models import WorkSample, utcnow
from app.settings import Settings

log = logging.getLogger("byline.uploads")

ERROR_PAUSE = 5.0


@dataclass(frozen=True)
class Due:
    """A claimed sample: what reading it and writing the result need."""

    id: int
    application_id: int
    storage_key: str | None  # a file's
    text: str | None  # the pasted text, or the text read from the file; None: the file is still to be read

    @property
    def unread(self) -> bool:
        return self.storage_key is not None and self.text is None


@dataclass(frozen=True)
class Found:
    """What reading one sample gave: a PDF's count and text (None, None for pasted text), and the prints."""

    word_count: int | None
    text: str | None
    prints: list[similarity.Print]


def lock_seconds(settings: Settings) -> float:
    """How long a claim keeps a sample from other readers: longer than any reading may take."""
    return settings.upload_inspect_timeout_seconds + 60


def _waiting(now: datetime) -> ColumnElement[bool]:
    return and_(col(WorkSample.text_due_at).is_not(None), col(WorkSample.text_due_at) <= now)


async def any_due(session: AsyncSession, now: datetime) -> bool:
    """Whether a claim would find anything: a plain read on a partial index, so idle readers take no lock."""
    found = await session.scalar(select(col(WorkSample.id)).where(_waiting(now)).limit(1))
    return found is not None


async def claim(session: AsyncSession, *, now: datetime, limit: int, settings: Settings) -> list[Due]:
    """Take up to `limit` due samples, oldest first (PostgreSQL: skipping those another reader is taking)."""
    picked = (
        select(col(WorkSample.id))
        .where(_waiting(now))
        .order_by(col(WorkSample.text_due_at), col(WorkSample.id))
        .limit(limit)
    )
    rows = await session.execute(
        update(WorkSample)
        .where(col(WorkSample.id).in_(unless_taken(picked, session).scalar_subquery()))
        .values(text_due_at=now + timedelta(seconds=lock_seconds(settings)))
        .returning(
            col(WorkSample.id),
            col(WorkSample.application_id),
            col(WorkSample.storage_key),
            col(WorkSample.text),
            col(WorkSample.extracted_text),
        )
        .execution_options(synchronize_session=False)
    )
    return sorted(
        (
            Due(sample_id or 0, app_id, key, pasted or extracted)
            for sample_id, app_id, key, pasted, extracted in rows
        ),
        key=lambda due: due.id,
    )


def _read(settings: Settings, storage_key: str) -> Inspection:
    """The file's count and text within the inspection budget; none when it cannot be read. Blocking."""
    path, _part = uploads.stored_paths(settings, storage_key)
    try:
        return uploads.inspect_limited(path, "pdf", settings)
    except uploads.UploadRejected:  # gone meanwhile (an erasure), or not readable at all
        return Inspection("pdf", None, None)


async def read_one(settings: Settings, due: Due) -> Found:
    """Read one claimed sample: a PDF in the inspection child (a few at a time per event loop), then the
    prints of its text or of the pasted text."""
    if not due.unread or due.storage_key is None:
        return Found(None, None, await similarity.fingerprints_of(due.text or ""))
    async with uploads.inspection_slots():
        found = await anyio.to_thread.run_sync(_read, settings, due.storage_key)
    return Found(found.word_count, found.text, await similarity.fingerprints_of(found.text or ""))


async def record(session: AsyncSession, due: Due, found: Found) -> bool:
    """Write what was read of a sample still waiting for it, with its prints; False when it waits no more."""
    values: dict[str, object] = {"text_due_at": None}
    if due.unread:
        values.update(word_count=found.word_count, extracted_text=found.text)
    result = await session.execute(
        update(WorkSample)
        .where(col(WorkSample.id) == due.id, col(WorkSample.text_due_at).is_not(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    if found.prints:
        await similarity.index_text(
            session, application_id=due.application_id, sample_id=due.id, text=None, prints=found.prints
        )
    return True


async def read_due(
    db: Database, settings: Settings, now: datetime, *, stopping: Callable[[], bool] = lambda: False
) -> int:
    """Read every sample due at `now`, a few at a time, until none is left or `stopping()`; returns how many
    results were written."""
    written = 0
    while not stopping():
        async with db.sessionmaker() as session:
            if not await any_due(session, now):
                return written
        async with db.write_session() as session:
            claimed = await claim(session, now=now, limit=uploads.INSPECTIONS_AT_ONCE, settings=settings)
        if not claimed:
            return written
        found = await asyncio.gather(*(read_one(settings, due) for due in claimed))
        async with db.write_session() as session:
            for due, result in zip(claimed, found, strict=True):
                written += await record(session, due, result)
    return written


class Reader:
    """The loop that reads due samples (`read_due`) every BYLINE_UPLOAD_READ_POLL_SECONDS, until `stop()`."""

    def __init__(self, db: Database, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Let the files being read now be written, then return from `run`."""
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            pause = self.settings.upload_read_poll_seconds
            try:
                await read_due(self.db, self.settings, self.clock(), stopping=self._stopping.is_set)
            except Exception:
                # The database went away, or a fault: claimed samples wait for their lock time, then go again.
                log.exception("reading the waiting PDFs failed; trying again in %.0f s", ERROR_PAUSE)
                pause = ERROR_PAUSE
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=pause)
