"""Server-side staff sessions (docs/security.md B1-B4): random tokens, stored hashed, idle and absolute
limits.

A session exists only because a login created it: an id the client makes up finds no row and is ignored,
and every login issues a new id, so a planted cookie never becomes authenticated.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.tokens import hash_token
from app.core.db import SAFE_METHODS, Database
from app.core.staff import StaffUser
from app.core.web import Clock
from app.models import StaffSession, User
from app.settings import Settings

COOKIE_NAME = "byline_session"
TOUCH_EVERY = timedelta(minutes=1)


async def start_session(
    session: AsyncSession, *, user: User, settings: Settings, now: datetime, user_agent: str = ""
) -> str:
    """Create a session for `user` and return the token for the cookie (the row keeps only its hash)."""
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            id=hash_token(token),
            user_id=user.id,  # type: ignore[arg-type]
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_max_hours),
            user_agent=user_agent[:200],
        )
    )
    await session.flush()
    return token


async def end_session(session: AsyncSession, session_id: str) -> None:
    await session.execute(delete(StaffSession).where(col(StaffSession.id) == session_id))


async def end_user_sessions(session: AsyncSession, user_id: int) -> None:
    """Log a person out everywhere (deactivation, password change)."""
    await session.execute(delete(StaffSession).where(col(StaffSession.user_id) == user_id))


# Only the columns a request needs, as one statement built once.
_LOOKUP = (
    select(
        col(StaffSession.last_seen_at),
        col(StaffSession.expires_at),
        col(User.id),
        col(User.email),
        col(User.name),
        col(User.is_active),
        col(User.is_admin),
        col(User.is_editor),
        col(User.is_fact_checker),
        col(User.must_change_password),
        col(User.locale),
        col(User.time_zone),
        col(User.is_finance),
    )
    .join(User, col(User.id) == col(StaffSession.user_id))
    .where(col(StaffSession.id) == bindparam("session_id"))
)


async def load_user(
    db: Database, session: AsyncSession | None, token: str, *, settings: Settings, now: datetime
) -> StaffUser | None:
    """The user behind a session token, or None when unknown, idle too long, expired or deactivated.

    `session`: the request's own session to read with (a page then needs one connection, not two), or None
    to read with a short session of its own.
    """
    session_id = hash_token(token)
    if session is not None:
        connection = await session.connection()
        row = (await connection.execute(_LOOKUP, {"session_id": session_id})).first()
    else:
        async with db.sessionmaker() as own:
            row = (await own.execute(_LOOKUP, {"session_id": session_id})).first()
    if row is None:
        return None
    last_seen_at, expires_at, user_id, email, name, is_active, admin, editor, fact_checker, must = row[:10]
    locale, time_zone, finance = row[10:]
    idle_limit = last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if not is_active or now >= expires_at or now >= idle_limit:
        async with db.write_session() as writer:
            await end_session(writer, session_id)
        return None
    if now - last_seen_at >= TOUCH_EVERY:
        async with db.write_session() as writer:
            await writer.execute(
                update(StaffSession).where(col(StaffSession.id) == session_id).values(last_seen_at=now)
            )
    assert user_id is not None
    return StaffUser(
        id=user_id,
        email=email,
        name=name,
        is_admin=admin,
        is_editor=editor,
        is_fact_checker=fact_checker,
        session_id=session_id,
        must_change_password=must,
        locale=locale,
        time_zone=time_zone,
        is_finance=finance,
    )


def session_cookie(token: str, settings: Settings) -> Cookie:
    """The session cookie: HttpOnly, SameSite=Lax, Secure outside development, Path=/ (B2)."""
    return Cookie(
        key=COOKIE_NAME,
        value=token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=not settings.is_dev,
        max_age=settings.session_max_hours * 3600,
    )


def expired_cookie(settings: Settings) -> Cookie:
    return Cookie(
        key=COOKIE_NAME,
        value="",
        path="/",
        httponly=True,
        samesite="lax",
        secure=not settings.is_dev,
        max_age=0,
    )


def _cookie_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, token = part.strip().partition("=")
                if key == COOKIE_NAME and token:
                    return token
    return None


def staff_auth(db: Database, settings: Settings, clock: Clock) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware that puts the logged-in StaffUser (or None) in `scope["user"]`."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def authenticate(scope: Scope, receive: Receive, send: Send) -> None:
            # The JSON API authenticates by bearer token only (app/api/auth.py), never by this cookie.
            if scope["type"] == ScopeType.HTTP and not str(scope.get("path", "")).startswith("/api/"):
                token = _cookie_token(scope)
                user: Any = None
                if token and len(token) <= 128:
                    # A page that only reads looks the session up in its own session; one that may write
                    # reads apart, so that its write transaction (BEGIN IMMEDIATE on SQLite) starts later.
                    reader = db.request_session(scope) if scope.get("method") in SAFE_METHODS else None
                    user = await load_user(db, reader, token, settings=settings, now=clock())
                scope["user"] = user
            await app(scope, receive, send)

        return authenticate

    return middleware
