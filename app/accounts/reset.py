"""Password reset by emailed link (docs/security.md A6) and password changes.

The request page answers the same whether or not the address has an account; links carry 256 random bits,
are stored hashed, work once and expire within an hour. A new password ends the person's other sessions.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.passwords import hash_password, password_problem, verify_password
from app.accounts.sessions import end_user_sessions
from app.accounts.tokens import hash_token, new_token
from app.core import links, ratelimit
from app.core.db import Database
from app.core.errors import Invalid, NotFound
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.core.outbound import enqueue
from app.core.text import normalize_email
from app.models import PasswordReset, User
from app.settings import Settings

log = logging.getLogger("byline.accounts")
TOO_MANY = N_("Too many reset requests for this address or from your network. Wait an hour and try again.")
PER_EMAIL = 3
PER_IP = 20
WINDOW = 3600


async def count_request(
    session: AsyncSession, *, settings: Settings, email: str, ip: str, now: datetime
) -> None:
    """Count a reset request against its address and network; RateLimited beyond the limits.

    This is all a request does before it is answered, whether or not the address has an account: the same
    statements either way, so neither the answer nor its timing tells who has one. `send_link` does the rest
    after the answer has gone.
    """
    key = normalize_email(email)
    for kind, value, limit in (("reset-email", key, PER_EMAIL), ("reset-ip", ip, PER_IP)):
        await ratelimit.hit(
            session,
            key=ratelimit.bucket_key(settings, kind, value),
            limit=limit,
            window_seconds=WINDOW,
            now=now,
            message=TOO_MANY,
        )


async def send_link(db: Database, *, settings: Settings, email: str, now: datetime) -> None:
    """Queue a reset link when the address belongs to an active account; nothing otherwise."""
    try:
        async with db.write_session() as session:
            await _queue_link(session, settings=settings, email=normalize_email(email), now=now)
    except Exception:
        # The answer has gone already: the person can ask again.
        log.exception("queueing a password reset link failed")


async def _queue_link(session: AsyncSession, *, settings: Settings, email: str, now: datetime) -> None:
    user = (await session.scalars(select(User).where(col(User.email) == email))).first()
    if user is None or not user.is_active:
        return
    assert user.id is not None
    token, token_hash = new_token()
    minutes = min(settings.password_reset_valid_minutes, 60)
    session.add(
        PasswordReset(
            token_hash=token_hash,
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    await session.flush()
    await enqueue(
        session,
        settings=settings,
        template="staff_password_reset",
        recipient=user.email,
        recipient_name=user.name,
        dedupe_key=f"password-reset:{token_hash[:24]}",
        context={"reset_url": links.absolute(settings, "password_reset", token=token), "minutes": minutes},
        user_id=user.id,
        is_staff=True,
        now=now,
        locale=user.locale,
        time_zone=user.time_zone,
    )


async def usable(session: AsyncSession, token: str, now: datetime) -> tuple[PasswordReset, User]:
    """The reset behind a link if it is unused and unexpired, and its person."""
    reset = await session.get(PasswordReset, hash_token(token))
    user = await session.get(User, reset.user_id) if reset else None
    if (
        reset is None
        or user is None
        or reset.used_at is not None
        or reset.expires_at <= now
        or not user.is_active
    ):
        raise NotFound(
            N_("This reset link is not valid: it was used already or has expired. Ask for a new one.")
        )
    return reset, user


def _check_new(password: str, confirm: str, email: str) -> None:
    problem = password_problem(password, email=email)
    if problem:
        raise Invalid(_("Please choose another password."), {"password": problem})
    if password != confirm:
        raise Invalid(_("Please check the form."), {"confirm": _("The two passwords are not the same.")})


async def _set_password(session: AsyncSession, settings: Settings, user: User, password: str) -> None:
    assert user.id is not None
    user.password_hash = await asyncio.to_thread(hash_password, password, settings)
    user.must_change_password = False
    session.add(user)
    await end_user_sessions(session, user.id)
    await session.flush()


async def reset_password(
    session: AsyncSession, *, settings: Settings, token: str, password: str, confirm: str, now: datetime
) -> User:
    """Set the new password, use up the link and end every session of the person."""
    reset, user = await usable(session, token, now)
    _check_new(password, confirm, user.email)
    used = await session.execute(
        update(PasswordReset)
        .where(col(PasswordReset.token_hash) == reset.token_hash, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(N_("This reset link was used already. Ask for a new one."))
    # Other links asked for meanwhile die with this one.
    await session.execute(
        update(PasswordReset)
        .where(col(PasswordReset.user_id) == user.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    await _set_password(session, settings, user, password)
    return user


async def change_password(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: int,
    current: str | None,
    password: str,
    confirm: str,
) -> User:
    """A person's own change: the current password is asked unless a first-login change is due."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(N_("There is no such account."))
    if not user.must_change_password and not await asyncio.to_thread(
        verify_password, user.password_hash, current or "", settings
    ):
        raise Invalid(_("Please check the form."), {"current": _("This is not your current password.")})
    _check_new(password, confirm, user.email)
    await _set_password(session, settings, user, password)
    return user
