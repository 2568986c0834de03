"""Staff join by invitation (docs/security.md A5): an admin invites an address with roles and departments, the
person sets a password through a single-use emailed link, and the account exists from then on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.passwords import hash_password, password_problem
from app.accounts.tokens import hash_token, new_token
from app.core import links
from app.core.errors import Conflict, Invalid, NotFound
from app.core.i18n import N_, use_locale
from app.core.i18n import gettext as _
from app.core.outbound import enqueue
from app.core.staff import StaffUser
from app.core.text import normalize_email, strip_bidi
from app.models import Department, Invitation, User, UserDepartment
from app.settings import Settings

ROLES = ("admin", "editor", "fact_checker", "finance")
ROLE_NAMES = {
    "admin": N_("admin"),
    "editor": N_("editor"),
    "fact_checker": N_("fact-checker"),
    "finance": N_("finance"),
}


class InvitationGone(NotFound):
    status_code = 410
    title = N_("This invitation can no longer be used")


@dataclass(frozen=True)
class InviteInput:
    email: str
    name: str
    roles: list[str]
    department_ids: list[int]


def role_list(roles: list[str]) -> str:
    return ", ".join(_(ROLE_NAMES[role]) for role in ROLES if role in roles)


async def _send(
    session: AsyncSession,
    settings: Settings,
    invitation: Invitation,
    token: str,
    by: StaffUser,
    now: datetime,
) -> None:
    flags = (invitation.is_admin, invitation.is_editor, invitation.is_fact_checker, invitation.is_finance)
    roles = [r for r, on in zip(ROLES, flags, strict=True) if on]
    # The invitee has chosen no language yet: the invitation is written in the site's.
    with use_locale(settings.default_locale, settings.time_zone):
        role_names = role_list(roles)
    await enqueue(
        session,
        settings=settings,
        template="staff_invitation",
        recipient=invitation.email,
        recipient_name=invitation.name,
        dedupe_key=f"invitation:{invitation.id}:{invitation.token_hash[:16]}",
        context={
            "accept_url": links.absolute(settings, "invitation", token=token),
            "inviter_name": by.name,
            "roles": role_names,
            "expires": invitation.expires_at.isoformat(),
        },
        now=now,
    )


async def invite(
    session: AsyncSession, *, settings: Settings, data: InviteInput, by: StaffUser, now: datetime
) -> Invitation:
    """Create the invitation and queue its email; a taken address is refused at its field."""
    email = normalize_email(data.email)
    if await session.scalar(select(col(User.id)).where(col(User.email) == email)):
        raise Invalid(
            _("This person already has an account."), {"email": _("This address already has an account.")}
        )
    pending = await session.scalar(
        select(col(Invitation.id)).where(
            col(Invitation.email) == email,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
            col(Invitation.expires_at) > now,
        )
    )
    if pending:
        raise Invalid(
            _("This address has a pending invitation."),
            {"email": _("This address already has a pending invitation: resend it from the list below.")},
        )
    known = set((await session.scalars(select(col(Department.id)))).all())
    token, token_hash = new_token()
    invitation = Invitation(
        token_hash=token_hash,
        email=email,
        name=data.name,
        is_admin="admin" in data.roles,
        is_editor="editor" in data.roles,
        is_fact_checker="fact_checker" in data.roles,
        is_finance="finance" in data.roles,
        department_ids=[d for d in data.department_ids if d in known],
        invited_by_id=by.id,
        created_at=now,
        expires_at=now + timedelta(days=settings.invitation_valid_days),
    )
    session.add(invitation)
    await session.flush()
    await _send(session, settings, invitation, token, by, now)
    return invitation


async def _pending(session: AsyncSession, invitation_id: int) -> Invitation:
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None or invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise Conflict(N_("This invitation was accepted or revoked in the meantime."))
    return invitation


async def resend(
    session: AsyncSession, *, settings: Settings, invitation_id: int, by: StaffUser, now: datetime
) -> Invitation:
    """A new link with a new expiry; the old link stops working."""
    invitation = await _pending(session, invitation_id)
    token, invitation.token_hash = new_token()
    invitation.expires_at = now + timedelta(days=settings.invitation_valid_days)
    session.add(invitation)
    await session.flush()
    await _send(session, settings, invitation, token, by, now)
    return invitation


async def revoke(session: AsyncSession, *, invitation_id: int, now: datetime) -> None:
    invitation = await _pending(session, invitation_id)
    invitation.revoked_at = now
    session.add(invitation)
    await session.flush()


async def usable(session: AsyncSession, token: str, now: datetime) -> Invitation:
    """The invitation behind a link, if it can still be accepted."""
    invitation = (
        await session.scalars(select(Invitation).where(col(Invitation.token_hash) == hash_token(token)))
    ).first()
    if invitation is None:
        raise NotFound(N_("There is no invitation behind this link. Ask an admin for a new one."))
    if invitation.accepted_at is not None:
        raise InvitationGone(N_("This invitation was already used. Log in with the password you chose."))
    if invitation.revoked_at is not None or invitation.expires_at <= now:
        raise InvitationGone(
            N_("This invitation has expired or was withdrawn. Ask an admin to send a new one.")
        )
    return invitation


async def accept(
    session: AsyncSession,
    *,
    settings: Settings,
    token: str,
    name: str,
    password: str,
    confirm: str,
    now: datetime,
) -> User:
    """Create the account the invitation describes; the link is used up in the same transaction."""
    invitation = await usable(session, token, now)
    errors: dict[str, str] = {}
    name = " ".join(strip_bidi(name).split())[:200]
    if not name:
        errors["name"] = _("Give your name as colleagues should see it.")
    problem = password_problem(password, email=invitation.email)
    if problem:
        errors["password"] = problem
    elif password != confirm:
        errors["confirm"] = _("The two passwords are not the same.")
    if errors:
        raise Invalid(_("Please check the form."), errors)
    claimed = await session.execute(
        update(Invitation)
        .where(col(Invitation.id) == invitation.id, col(Invitation.accepted_at).is_(None))
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvitationGone(N_("This invitation was already used. Log in with the password you chose."))
    user = User(
        email=invitation.email,
        name=name,
        password_hash=await asyncio.to_thread(hash_password, password, settings),
        is_admin=invitation.is_admin,
        is_editor=invitation.is_editor,
        is_fact_checker=invitation.is_fact_checker,
        is_finance=invitation.is_finance,
        created_at=now,
        last_login_at=now,
    )
    session.add(user)
    await session.flush()
    assert user.id is not None
    known = set((await session.scalars(select(col(Department.id)))).all())
    session.add_all(
        UserDepartment(user_id=user.id, department_id=d) for d in invitation.department_ids if d in known
    )
    await session.flush()
    return user
