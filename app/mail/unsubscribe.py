"""List-Unsubscribe for staff notifications: a signed link per person and kind, honoured at once.

The link works without logging in (mail clients post to it, RFC 8058); its signature names the person and the
kind of notification, and nothing else can be changed through it. Turning a kind back on is done on /account.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import links
from app.core.errors import NotFound
from app.core.i18n import gettext
from app.core.outbound import EMAIL_TITLES, MUTABLE
from app.core.web import Signer, TokenExpired, TokenInvalid
from app.models import OutboxEmail, User
from app.settings import Settings

SALT = "byline-unsubscribe"
MAX_AGE = 400 * 24 * 3600


def link(row: OutboxEmail, settings: Settings) -> str:
    """The unsubscribe address for a message, or "" when its kind cannot be turned off."""
    if not row.is_staff or row.user_id is None or row.template not in MUTABLE:
        return ""
    token = Signer(settings, SALT).dumps([row.user_id, row.template])
    return links.absolute(settings, "unsubscribe_page", token=token)


async def resolve(session: AsyncSession, token: str, settings: Settings) -> tuple[User, str]:
    """The person and the notification kind a link names; NotFound for a link this app did not make."""
    try:
        value, _ = Signer(settings, SALT).loads(token, max_age=MAX_AGE)
        user_id, template = int(value[0]), str(value[1])
    except (TokenInvalid, TokenExpired, TypeError, ValueError, IndexError):
        raise NotFound(gettext("This unsubscribe link is not valid (or is more than a year old).")) from None
    user = await session.get(User, user_id)
    if user is None or template not in MUTABLE:
        raise NotFound(gettext("This unsubscribe link is not valid (or is more than a year old)."))
    return user, template


async def mute(session: AsyncSession, user: User, template: str) -> None:
    """Stop this kind of notification for this person (idempotent)."""
    if template not in user.muted:
        user.muted = [*user.muted, template]
        session.add(user)
        await session.flush()


def title(template: str) -> str:
    return gettext(EMAIL_TITLES[template]) if template in EMAIL_TITLES else template
