"""A staff member's own email choices: instant mail or a daily digest, and the kinds they turned off."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import i18n
from app.core.errors import Invalid, NotFound
from app.core.outbound import MUTABLE
from app.models import NotifyMode, User


async def set_notifications(session: AsyncSession, *, user_id: int, mode: str, muted: list[str]) -> User:
    """Store the choice; `muted` is what stays off (anything not offered is ignored)."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(i18n.N_("There is no such account."))
    if mode not in set(NotifyMode):
        raise Invalid(
            i18n.gettext("Choose instant mail or a daily digest."), {"notify": i18n.gettext("Choose one.")}
        )
    user.notify = mode
    user.muted = sorted(set(muted) & MUTABLE)
    session.add(user)
    await session.flush()
    return user


async def set_language(session: AsyncSession, *, user_id: int, locale: str, time_zone: str) -> User:
    """Store the person's language and time zone; an empty choice means the site's."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(i18n.N_("There is no such account."))
    errors = {}
    if locale and i18n.supported(locale) != locale:
        errors["locale"] = i18n.gettext("Choose a language from the list.")
    if time_zone and i18n.valid_time_zone(time_zone) is None:
        errors["time_zone"] = i18n.gettext("Choose a time zone from the list.")
    if errors:
        raise Invalid(i18n.gettext("Please correct the fields marked below."), errors)
    user.locale = locale or None
    user.time_zone = time_zone or None
    session.add(user)
    await session.flush()
    return user
