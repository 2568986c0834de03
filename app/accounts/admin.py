"""Staff administration: who works on the desk, in which roles and departments, and who no longer does.

Deactivating ends the person's sessions at once (docs/security.md B4) and deletes their API tokens. The desk
always keeps one active admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.sessions import end_user_sessions
from app.core import site
from app.core.errors import Conflict, NotFound
from app.core.i18n import N_
from app.models import ApiToken, Department, Invitation, User, UserDepartment

LAST_ADMIN = N_("Byline needs at least one active admin: make someone else admin first.")


@dataclass(frozen=True)
class StaffRow:
    user: User
    departments: list[str]


async def staff_list(session: AsyncSession) -> list[StaffRow]:
    users = (await session.scalars(select(User).order_by(col(User.is_active).desc(), col(User.name)))).all()
    covered: dict[int, list[str]] = {}
    for user_id, name in (
        await session.execute(
            select(col(UserDepartment.user_id), site.name_column(Department))
            .join(Department, col(Department.id) == col(UserDepartment.department_id))
            .order_by(col(Department.position))
        )
    ).all():
        covered.setdefault(user_id, []).append(name)
    return [StaffRow(user, covered.get(user.id or 0, [])) for user in users]


async def pending_invitations(session: AsyncSession, now: datetime) -> list[Invitation]:
    return list(
        (
            await session.scalars(
                select(Invitation)
                .where(col(Invitation.accepted_at).is_(None), col(Invitation.revoked_at).is_(None))
                .order_by(col(Invitation.created_at).desc())
            )
        ).all()
    )


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(N_("There is no such staff member."))
    return user


async def department_ids(session: AsyncSession, user_id: int) -> set[int]:
    rows = await session.scalars(
        select(col(UserDepartment.department_id)).where(col(UserDepartment.user_id) == user_id)
    )
    return set(rows.all())


async def _other_active_admins(session: AsyncSession, user_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(col(User.is_admin), col(User.is_active), col(User.id) != user_id)
        )
        or 0
    )


async def update_user(
    session: AsyncSession, *, user_id: int, roles: list[str], departments: list[int]
) -> User:
    """Set a person's roles and the departments they cover."""
    user = await get_user(session, user_id)
    if (
        user.is_admin
        and "admin" not in roles
        and user.is_active
        and not await _other_active_admins(session, user_id)
    ):
        raise Conflict(LAST_ADMIN)
    user.is_admin, user.is_editor, user.is_fact_checker, user.is_finance = (
        "admin" in roles,
        "editor" in roles,
        "fact_checker" in roles,
        "finance" in roles,
    )
    session.add(user)
    known = set((await session.scalars(select(col(Department.id)))).all())
    await session.execute(delete(UserDepartment).where(col(UserDepartment.user_id) == user_id))
    session.add_all(
        UserDepartment(user_id=user_id, department_id=d) for d in sorted(set(departments) & known)
    )
    await session.flush()
    return user


async def set_active(session: AsyncSession, *, user_id: int, active: bool) -> User:
    """Deactivate (ending every session and deleting the API tokens of the person) or reactivate them."""
    user = await get_user(session, user_id)
    if not active and user.is_admin and user.is_active and not await _other_active_admins(session, user_id):
        raise Conflict(LAST_ADMIN)
    user.is_active = active
    session.add(user)
    if not active:
        await end_user_sessions(session, user_id)
        await session.execute(delete(ApiToken).where(col(ApiToken.user_id) == user_id))
    await session.flush()
    return user
