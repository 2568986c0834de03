"""Counts of applications per state, overall and per department, kept as the states change.

The queue shows them on its tabs at any size of archive without counting rows. `shift` runs in the same
transaction as the change it counts; `recount` rebuilds the table from the applications (migrations, seeding,
and the check that the two never drift).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, String, bindparam, cast, delete, func, literal, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.models import Application, ApplicationDepartment, Department, QueueCount

ALL_DEPARTMENTS = 0


async def _department_ids(session: AsyncSession, application_id: int) -> list[int]:
    rows = await session.scalars(
        select(col(ApplicationDepartment.department_id)).where(
            col(ApplicationDepartment.application_id) == application_id
        )
    )
    return [ALL_DEPARTMENTS, *rows.all()]


@cache
def _add_statement(dialect: str) -> Any:
    """One row's upsert, run for every row at once: a statement of bound values compiles once, where one
    with a VALUES list is compiled anew each time."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = QueueCount.__table__  # type: ignore[attr-defined]
    stmt = insert(table).values(
        department_id=bindparam("department_id"), state=bindparam("state"), n=bindparam("n")
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.department_id, table.c.state], set_={"n": table.c.n + stmt.excluded.n}
    )


async def _add(session: AsyncSession, departments: list[int], state: str, delta: int) -> None:
    rows = [{"department_id": d, "state": state, "n": delta} for d in departments]
    await session.execute(_add_statement(session.get_bind().dialect.name), rows)


async def shift(
    session: AsyncSession,
    application_id: int,
    from_state: str | None,
    to_state: str | None,
    *,
    department_ids: list[int] | None = None,
) -> None:
    """Count an application out of `from_state` and into `to_state` (None: it arrives or leaves); the caller
    that has just written its departments may give them (`department_ids`) instead of having them read."""
    departments = (
        [ALL_DEPARTMENTS, *department_ids]
        if department_ids is not None
        else await _department_ids(session, application_id)
    )
    if from_state is not None:
        await _add(session, departments, from_state, -1)
    if to_state is not None:
        await _add(session, departments, to_state, 1)


@cache
def _counts_statement(by_department: bool) -> Select[str, int]:
    department = (
        select(col(Department.id)).where(col(Department.slug) == bindparam("slug")).scalar_subquery()
        if by_department
        else literal(ALL_DEPARTMENTS)
    )
    return select(col(QueueCount.state), col(QueueCount.n)).where(col(QueueCount.department_id) == department)


def joined_column(*, by_department: bool, slug_parameter: str = "slug") -> Any:
    """The counts `counts` reads as one column ("state=n" pairs), to ride along another statement's rows."""
    department = (
        select(col(Department.id)).where(col(Department.slug) == bindparam(slug_parameter)).scalar_subquery()
        if by_department
        else literal(ALL_DEPARTMENTS)
    )
    pair = col(QueueCount.state) + literal("=") + cast(col(QueueCount.n), String)
    return (
        select(func.aggregate_strings(pair, ","))
        .where(col(QueueCount.department_id) == department, col(QueueCount.n) != 0)
        .scalar_subquery()
    )


def from_joined(joined: str | None) -> dict[str, int]:
    """The counts of a `joined_column`, as `counts` gives them."""
    found: dict[str, int] = {}
    for pair in (joined or "").split(","):
        state, _, n = pair.partition("=")
        if state and int(n):
            found[state] = int(n)
    return found


async def counts(session: AsyncSession, department_slug: str = "") -> dict[str, int]:
    """Applications per state, overall or in the department with this slug."""
    statement = _counts_statement(bool(department_slug))
    rows = await session.execute(statement, {"slug": department_slug} if department_slug else {})
    return {state: int(n) for state, n in rows.all() if n}


async def recount(session: AsyncSession) -> None:
    """Rebuild every count from the applications themselves."""
    overall = select(literal(ALL_DEPARTMENTS), col(Application.state), func.count()).group_by(
        col(Application.state)
    )
    per_department = (
        select(col(ApplicationDepartment.department_id), col(Application.state), func.count())
        .join(Application, col(Application.id) == col(ApplicationDepartment.application_id))
        .group_by(col(ApplicationDepartment.department_id), col(Application.state))
    )
    await session.execute(delete(QueueCount))
    table = SQLModel.metadata.tables["queue_count"]
    await session.execute(
        table.insert().from_select(["department_id", "state", "n"], union_all(overall, per_department))
    )
