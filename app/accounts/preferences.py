"""A staff member's own email choices: instant mail or a daily digest, and the kinds they turned off."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Invalid, NotFound
from app.mail.outbox import MUTABLE
from app.models import NotifyMode, User


async def set_notifications(session: AsyncSession, *, user_id: int, mode: str, muted: list[str]) -> User:
    """Store the choice; `muted` is what stays off (anything not offered is ignored)."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such account.")
    if mode not in set(NotifyMode):
        raise Invalid("Choose instant mail or a daily digest.", {"notify": "Choose one."})
    user.notify = mode
    user.muted = sorted(set(muted) & MUTABLE)
    session.add(user)
    await session.flush()
    return user
