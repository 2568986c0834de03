"""Staff authentication: login with throttling (docs/security.md A2, A3) and logout."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.passwords import burn_verification_time, hash_password, needs_rehash, verify_password
from app.core import ratelimit
from app.core.db import Database
from app.core.errors import DomainError, RateLimited
from app.core.i18n import N_
from app.core.text import normalize_email
from app.models import User
from app.settings import Settings

LOGIN_FAILED = N_("The email address or password is not right.")
LOCKED = N_(
    "Too many failed logins for this account or from this address. Wait a few minutes and try again, "
    "or reset your password."
)


class LoginFailed(DomainError):
    status_code = 401
    title = N_("Log in")


def _buckets(settings: Settings, email: str, ip: str) -> list[tuple[str, int]]:
    """The login counters and their limits: the account from this address, the account, the address.

    The tight bucket is the pair, so failures from a shared address (an office behind NAT) lock out only the
    account they were made on; the looser per-account and per-address buckets stop guessing spread over many
    addresses and password spraying over many accounts.
    """
    account = normalize_email(email)
    return [
        (ratelimit.bucket_key(settings, "login-pair", f"{account}\n{ip}"), settings.login_max_failures),
        (ratelimit.bucket_key(settings, "login-account", account), settings.login_max_failures_per_account),
        (ratelimit.bucket_key(settings, "login-ip", ip), settings.login_max_failures_per_address),
    ]


async def _refuse_when_locked(
    db: Database, settings: Settings, buckets: list[tuple[str, int]], now: datetime
) -> None:
    async with db.sessionmaker() as session:
        for key, limit in buckets:
            failures, retry_after = await ratelimit.peek(
                session, key=key, window_seconds=settings.login_window_seconds, now=now
            )
            if failures >= limit:
                raise RateLimited(LOCKED, retry_after=retry_after)


async def _record_failure(
    db: Database, settings: Settings, buckets: list[tuple[str, int]], now: datetime
) -> None:
    # Its own transaction: the failed login answers 401, and the request's own transaction rolls back.
    async with db.write_session() as session:
        for key, _limit in buckets:
            await ratelimit.hit(
                session,
                key=key,
                limit=10**9,
                window_seconds=settings.login_window_seconds,
                now=now,
                message=LOCKED,
            )


async def authenticate(
    session: AsyncSession,
    db: Database,
    *,
    settings: Settings,
    email: str,
    password: str,
    ip: str,
    now: datetime,
) -> User:
    """The active user with this email and password; LoginFailed or RateLimited otherwise.

    Unknown, wrong and deactivated accounts get the same answer after the same amount of hashing. The checks
    read through their own session, so a failure can be counted (in its own transaction) before the request's
    transaction has taken the write lock.
    """
    buckets = _buckets(settings, email, ip)
    await _refuse_when_locked(db, settings, buckets, now)
    async with db.sessionmaker() as reader:
        found = (await reader.scalars(select(User).where(col(User.email) == normalize_email(email)))).first()
    if found is None:
        await asyncio.to_thread(burn_verification_time, password, settings)
        ok = False
    else:
        ok = (
            await asyncio.to_thread(verify_password, found.password_hash, password, settings)
            and found.is_active
        )
    if not ok or found is None:
        await _record_failure(db, settings, buckets, now)
        raise LoginFailed(LOGIN_FAILED)
    user = await session.get(User, found.id)
    if user is None or not user.is_active:
        raise LoginFailed(LOGIN_FAILED)
    if needs_rehash(user.password_hash, settings):
        user.password_hash = await asyncio.to_thread(hash_password, password, settings)
    user.last_login_at = now
    session.add(user)
    await session.flush()
    return user


def landing_route(user: User) -> str:
    """The name of the route a person lands on after logging in: their main page."""
    if user.must_change_password:
        return "account_password"
    if user.is_editor:
        return "dashboard"
    if user.is_fact_checker:
        return "my_tasks"
    if user.is_finance and not user.is_admin:
        return "fees"
    return "admin_users"


def safe_next(value: str) -> str | None:
    """A local path to return to after login; anything that could leave the site is dropped."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value and "\n" not in value:
        return value[:500]
    return None
