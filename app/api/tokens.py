"""Personal API tokens: made and revoked by their owner on /account/tokens, stored only as a sha256.

A token acts as its owner with the owner's roles, and stops working when it is revoked or the owner is
deactivated (deactivation deletes the person's tokens, and a lookup also refuses an inactive owner).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.tokens import hash_token, new_token, plausible
from app.core.db import Database
from app.core.errors import Invalid, NotFound
from app.core.i18n import N_, ngettext
from app.core.i18n import gettext as _
from app.core.staff import StaffUser
from app.models import ApiToken, User

MAX_TOKENS = 20
MAX_NAME = 100
TOUCH_EVERY = timedelta(minutes=1)


async def list_tokens(session: AsyncSession, user_id: int) -> list[ApiToken]:
    """A person's tokens, newest first."""
    rows = await session.scalars(
        select(ApiToken).where(col(ApiToken.user_id) == user_id).order_by(col(ApiToken.id).desc())
    )
    return list(rows.all())


async def create_token(
    session: AsyncSession, *, user_id: int, name: str, now: datetime
) -> tuple[ApiToken, str]:
    """A new token for `user_id`: the row (holding the hash) and the token itself, to be shown once."""
    name = " ".join(name.split())
    if not name:
        raise Invalid(
            _("Name the token."), {"name": _("Say what the token is for, e.g. “newsroom dashboard”.")}
        )
    if len(name) > MAX_NAME:
        raise Invalid(
            _("The name is too long."),
            {"name": ngettext("At most %(num)s character.", "At most %(num)s characters.", MAX_NAME)},
        )
    count = await session.scalar(select(func.count()).where(col(ApiToken.user_id) == user_id))
    if (count or 0) >= MAX_TOKENS:
        raise Invalid(
            _("Too many tokens."),
            {
                "name": ngettext(
                    "At most %(num)s token: revoke it if you no longer use it.",
                    "At most %(num)s tokens: revoke one you no longer use.",
                    MAX_TOKENS,
                )
            },
        )
    token, token_hash = new_token()
    row = ApiToken(user_id=user_id, name=name, token_hash=token_hash, created_at=now)
    session.add(row)
    await session.flush()
    return row, token


async def revoke_token(session: AsyncSession, *, user_id: int, token_id: int) -> None:
    """Delete one of the person's own tokens; it stops working at once."""
    result = await session.execute(
        delete(ApiToken).where(col(ApiToken.id) == token_id, col(ApiToken.user_id) == user_id)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(N_("There is no such token."))


async def load_token_user(db: Database, token: str, *, now: datetime) -> tuple[StaffUser, int] | None:
    """The active staff member behind a bearer token and the token's id, or None."""
    if not plausible(token):
        return None
    async with db.sessionmaker() as session:
        row = (
            await session.execute(
                select(ApiToken, User)
                .join(User, col(User.id) == col(ApiToken.user_id))
                .where(col(ApiToken.token_hash) == hash_token(token))
            )
        ).first()
    if row is None:
        return None
    api_token, user = row
    if not user.is_active:
        return None
    assert api_token.id is not None and user.id is not None
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOUCH_EVERY:
        async with db.write_session() as session:
            await session.execute(
                update(ApiToken).where(col(ApiToken.id) == api_token.id).values(last_used_at=now)
            )
    staff = StaffUser(
        id=user.id,
        email=user.email,
        name=user.name,
        is_admin=user.is_admin,
        is_editor=user.is_editor,
        is_fact_checker=user.is_fact_checker,
        session_id="",
        must_change_password=user.must_change_password,
        is_finance=user.is_finance,
    )
    return staff, api_token.id
