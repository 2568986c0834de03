"""Retention (SECURITY.md H2): what `byline purge` removes.

Rejected and withdrawn applications whose decision is older than `BYLINE_RETENTION_DAYS` are erased with the
same code as an applicant's own erasure (no email is sent: the address may be years old). Expired staff
sessions, used or expired invitations and password resets, and rate-limit windows that can no longer count are
deleted.
Running it again changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import ratelimit
from app.accounts import reset
from app.models import Applicant, Application, Invitation, PasswordReset, StaffSession, State
from app.privacy.service import Requester, erase
from app.settings import Settings

EXPIRED_STATES = (State.rejected, State.withdrawn)
BATCH = 100


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
