"""Retention (docs/security.md H2): what `byline purge` removes.

Rejected and withdrawn applications whose decision is older than `BYLINE_RETENTION_DAYS` are erased with the
same code as an applicant's own erasure (no email is sent: the address may be years old). Expired staff
sessions, used or expired invitations and password resets, and rate-limit windows that can no longer count are
deleted. Upload files that no work sample or trial piece refers to (a web process killed between storing a
file and committing its row) are deleted once older than `BYLINE_UPLOAD_ORPHAN_GRACE_MINUTES`.
Running it again changes nothing more.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts import reset
from app.applications.uploads import PART_SUFFIX, STORAGE_KEY
from app.core import ratelimit
from app.core.db import Database
from app.models import (
    Applicant,
    Application,
    Invitation,
    PasswordReset,
    StaffSession,
    State,
    TrialPiece,
    WorkSample,
)
from app.privacy.service import Requester, erase
from app.settings import Settings

EXPIRED_STATES = (State.rejected, State.withdrawn)
BATCH = 100
# Storage keys looked up per query by the upload sweep: one indexed IN list, whatever the archive's size.
SWEEP_BATCH = 500


@dataclass(frozen=True)
class Cleared:
    sessions: int
    invitations: int
    password_resets: int
    rate_limit_windows: int


async def erase_expired(
    session: AsyncSession, *, settings: Settings, now: datetime, limit: int = BATCH
) -> int:
    """Erase up to `limit` applications past retention, in the caller's transaction; returns how many."""
    cutoff = now - timedelta(days=settings.retention_days)
    rows = (
        await session.execute(
            select(Application, Applicant)
            .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
            .where(
                col(Application.state).in_(EXPIRED_STATES),
                col(Application.erased_at).is_(None),
                col(Application.decided_at) < cutoff,
            )
            .order_by(col(Application.id))
            .limit(limit)
        )
    ).all()
    for application, applicant in rows:
        await erase(
            session,
            settings=settings,
            application=application,
            applicant=applicant,
            requested_by=Requester.retention,
            now=now,
        )
    return len(rows)


async def clear_expired_access(session: AsyncSession, *, settings: Settings, now: datetime) -> Cleared:
    """Delete expired staff sessions, spent invitations and reset links, and finished rate-limit windows."""
    idle = now - timedelta(minutes=settings.session_idle_minutes)
    sessions = await session.execute(
        delete(StaffSession).where(
            or_(col(StaffSession.expires_at) <= now, col(StaffSession.last_seen_at) <= idle)
        )
    )
    invitations = await session.execute(
        delete(Invitation).where(
            or_(
                col(Invitation.accepted_at).is_not(None),
                col(Invitation.revoked_at).is_not(None),
                col(Invitation.expires_at) <= now,
            )
        )
    )
    resets = await session.execute(
        delete(PasswordReset).where(
            or_(col(PasswordReset.used_at).is_not(None), col(PasswordReset.expires_at) <= now)
        )
    )
    longest = max(
        settings.login_window_seconds,
        settings.rate_apply_per_ip_window_seconds,
        settings.rate_apply_per_email_window_seconds,
        reset.WINDOW,
        60,  # the API's per-minute limit
    )
    windows = await ratelimit.drop_windows_before(session, before=now - timedelta(seconds=longest))
    return Cleared(
        sessions=int(sessions.rowcount),  # type: ignore[attr-defined]
        invitations=int(invitations.rowcount),  # type: ignore[attr-defined]
        password_resets=int(resets.rowcount),  # type: ignore[attr-defined]
        rate_limit_windows=windows,
    )


async def compact_search_index(session: AsyncSession) -> None:
    """Rewrite SQLite's full-text index so the words of erased applications leave it too (PostgreSQL's
    index entries go with their rows)."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(
            text("INSERT INTO application_search_fts(application_search_fts) VALUES ('optimize')")
        )


def _stale_uploads(folder: Path, before: float) -> Iterator[tuple[str, Path]]:
    """(storage key, path) of each upload or partial file in `folder` last written before `before`."""
    try:
        entries = os.scandir(folder)
    except FileNotFoundError:
        return
    with entries:
        for entry in entries:
            key = entry.name.removesuffix(PART_SUFFIX)
            # Only names Byline writes: anything else an operator put there is left alone.
            if not STORAGE_KEY.fullmatch(key) or not entry.is_file(follow_symlinks=False):
                continue
            try:
                written = entry.stat(follow_symlinks=False).st_mtime
            except FileNotFoundError:
                continue
            if written < before:
                yield key, Path(entry.path)


async def _remove_unreferenced(db: Database, stale: list[tuple[str, Path]]) -> int:
    async with db.sessionmaker() as session:
        keys = {key for key, _ in stale}
        samples = await session.scalars(
            select(col(WorkSample.storage_key)).where(col(WorkSample.storage_key).in_(keys))
        )
        pieces = await session.scalars(
            select(col(TrialPiece.storage_key)).where(col(TrialPiece.storage_key).in_(keys))
        )
        referenced = set(samples.all()) | set(pieces.all())
    removed = 0
    for key, path in stale:
        # A partial file is never referenced: its row points at the finished name.
        if path.name.endswith(PART_SUFFIX) or key not in referenced:
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed += 1
    return removed


async def sweep_orphaned_uploads(
    db: Database, settings: Settings, *, now: float | None = None, batch: int = SWEEP_BATCH
) -> int:
    """Delete upload and partial files past the grace period that no work sample or trial piece refers to;
    how many."""
    before = (time.time() if now is None else now) - settings.upload_orphan_grace_minutes * 60
    removed = 0
    stale: list[tuple[str, Path]] = []
    for item in _stale_uploads(settings.uploads_path, before):
        stale.append(item)
        if len(stale) >= batch:
            removed += await _remove_unreferenced(db, stale)
            stale = []
    if stale:
        removed += await _remove_unreferenced(db, stale)
    return removed
