"""Read side of the reports (`/reports`): the funnel, times in state and to decision, workload, overdue work
and arrivals over time, each one aggregate query that runs alike on SQLite and PostgreSQL.

The date range picks applications by the day they arrived (an index walk on `application.created_at`), and
the funnel and the times follow those applications through the event log. Workload and overdue work are as
of now. The department narrows every report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Float, Select, case, cast, extract, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import site
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.models import (
    Application,
    ApplicationDepartment,
    Department,
    Event,
    State,
)

DEFAULT_DAYS = 90
MAX_DAYS = 5 * 366
PERIODS = {"week": N_("Week"), "month": N_("Month")}
# Every state in workflow order, spam last: the rows of the funnel and of the times in state.
STATES = [state.value for state in State if state != State.spam] + [State.spam.value]
DECISIONS = (State.accepted.value, State.rejected.value)


def _date(value: str) -> date | None:
    """A date from the query string; None for anything else, and for years no report could reach."""
    try:
        found = date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
    return found if 1970 <= found.year <= 2999 else None


@dataclass(frozen=True)
class ReportFilters:
    """Which applications the reports look at: arrival days from `start` to `end`, both included."""

    start: date
    end: date
    department: str = ""
    period: str = "week"

    @classmethod
    def from_query(cls, params: dict[str, str], *, today: date) -> ReportFilters:
        end = _date(params.get("to", "")) or today
        start = _date(params.get("from", "")) or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            start, end = end, start
        period = params.get("period", "week")
        return cls(
            start=max(start, end - timedelta(days=MAX_DAYS)),
            end=end,
            department=params.get("department", "").strip()[:40],
            period=period if period in PERIODS else "week",
        )

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)

    def query(self) -> str:
        """The query string that gives these filters back (for the export links)."""
        pairs = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "department": self.department,
            "period": self.period,
        }
        return "?" + urlencode({key: value for key, value in pairs.items() if value})


def in_department(slug: str) -> list[ColumnElement[bool]]:
    """The condition that an application belongs to the department with this slug (none when empty)."""
    if not slug:
        return []
    department_id = select(col(Department.id)).where(col(Department.slug) == slug).scalar_subquery()
    linked = (
        select(literal(1))
        .select_from(ApplicationDepartment)
        .where(
            col(ApplicationDepartment.application_id) == col(Application.id),
            col(ApplicationDepartment.department_id) == department_id,
        )
        .correlate(Application)
        .exists()
    )
    return [linked]


def _arrived(filters: ReportFilters) -> list[ColumnElement[bool]]:
    return [
        col(Application.created_at) >= filters.since,
        col(Application.created_at) < filters.until,
        *in_department(filters.department),
    ]


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _seconds(dialect: str, later: Any, earlier: Any) -> Any:
    """The seconds between two timestamps, computed by the database."""
    if dialect == "postgresql":
        return cast(extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


# --- the funnel -------------------------------------------------------------------------------------------

RECEIVED = "*"
ALL = 0


@dataclass(frozen=True)
class Funnel:
    """How many applications arrived and how many ever reached each state, overall and by department."""

    columns: list[tuple[int, str]]
    counts: dict[tuple[int, str], int]

    def count(self, state: str, column: int = ALL) -> int:
        return self.counts.get((column, state), 0)

    def received(self, column: int = ALL) -> int:
        return self.count(RECEIVED, column)

    def acceptance(self, column: int = ALL) -> float | None:
        """Accepted out of those decided (accepted or rejected); None before any decision."""
        accepted, rejected = self.count(State.accepted, column), self.count(State.rejected, column)
        return accepted / (accepted + rejected) if accepted + rejected else None


async def funnel(session: AsyncSession, filters: ReportFilters) -> Funnel:
    """The funnel in one round trip: arrivals and states reached, overall and for each department."""
    arrived = _arrived(filters)
    reached = func.count(func.distinct(col(Event.application_id)))
    by_department = col(ApplicationDepartment.department_id)
    with_department = (col(ApplicationDepartment.application_id) == col(Application.id),)
    parts = [
        select(literal(ALL), literal(RECEIVED), func.count()).select_from(Application).where(*arrived),
        select(by_department, literal(RECEIVED), func.count())
        .join(Application, *with_department)
        .where(*arrived)
        .group_by(by_department),
        select(literal(ALL), col(Event.to_state), reached)
        .join(Application, col(Application.id) == col(Event.application_id))
        .where(*arrived, col(Event.to_state).is_not(None))
        .group_by(col(Event.to_state)),
        select(by_department, col(Event.to_state), reached)
        .join(Application, col(Application.id) == col(Event.application_id))
        .join(ApplicationDepartment, *with_department)
        .where(*arrived, col(Event.to_state).is_not(None))
        .group_by(by_department, col(Event.to_state)),
    ]
    rows = (await session.execute(parts[0].union_all(*parts[1:]))).all()
    counts = {(int(column), str(state)): int(n) for column, state, n in rows}
    departments = (
        await session.execute(
            select(col(Department.id), col(Department.slug), site.name_column(Department)).order_by(
                col(Department.position)
            )
        )
    ).all()
    chosen = [str(name) for _, slug, name in departments if slug == filters.department]
    # With a department chosen, the other departments' columns would only count its shared applications.
    shown = [] if filters.department else [(int(key or 0), str(name)) for key, _, name in departments]
    return Funnel(columns=[(ALL, chosen[0] if chosen else _("All")), *shown], counts=counts)


# --- times: in each state, to a decision ------------------------------------------------------------------


@dataclass(frozen=True)
class Times:
    """How long something took, over `count` cases: median, 90th percentile and mean, in seconds."""

    count: int
    median: float
    p90: float
    mean: float


def _percentile(values: dict[int, float], n: int, tenths: int) -> float:
    """The percentile by linear interpolation (as PostgreSQL's percentile_cont) from the two ranked values."""
    position = tenths * (n - 1)
    lower, fraction = position // 10 + 1, (position % 10) / 10
    below = values[lower]
    return below + (values.get(lower + 1, below) - below) * fraction


async def _times(session: AsyncSession, durations: Any) -> dict[str, Times]:
    """Median, 90th percentile and mean of `durations` (columns `grp`, `seconds`) per group.

    The database ranks the durations and returns only the two values around each percentile, so a large
    archive never travels to Python; window functions work the same on SQLite and PostgreSQL.
    """
    window = {"partition_by": durations.c.grp}
    ranked = select(
        durations.c.grp,
        durations.c.seconds,
        func.row_number().over(**window, order_by=durations.c.seconds).label("rn"),
        func.count().over(**window).label("n"),
        func.avg(durations.c.seconds).over(**window).label("mean"),
    ).subquery()
    wanted = [ranked.c.rn == (ranked.c.n - 1) * tenths // 10 + step for tenths in (5, 9) for step in (1, 2)]
    rows = (
        await session.execute(
            select(ranked.c.grp, ranked.c.rn, ranked.c.n, ranked.c.mean, ranked.c.seconds).where(or_(*wanted))
        )
    ).all()
    found: dict[str, tuple[int, float, dict[int, float]]] = {}
    for grp, rn, n, mean, seconds in rows:
        found.setdefault(str(grp), (int(n), float(mean), {}))[2][int(rn)] = float(seconds)
    return {
        grp: Times(count=n, median=_percentile(values, n, 5), p90=_percentile(values, n, 9), mean=mean)
        for grp, (n, mean, values) in found.items()
    }


async def time_in_state(session: AsyncSession, filters: ReportFilters) -> dict[str, Times]:
    """How long the applications stayed in each state they left: from entering it to the next move."""
    left_at = func.lead(col(Event.created_at)).over(
        partition_by=col(Event.application_id), order_by=(col(Event.created_at), col(Event.id))
    )
    spans = (
        select(
            col(Event.to_state).label("grp"), col(Event.created_at).label("started"), left_at.label("ended")
        )
        .join(Application, col(Application.id) == col(Event.application_id))
        .where(*_arrived(filters), col(Event.to_state).is_not(None))
        .subquery()
    )
    durations = (
        select(spans.c.grp, _seconds(_dialect(session), spans.c.ended, spans.c.started).label("seconds"))
        .where(spans.c.ended.is_not(None))
        .subquery()
    )
    return await _times(session, durations)


async def time_to_decision(session: AsyncSession, filters: ReportFilters) -> dict[str, Times]:
    """From arrival to acceptance or rejection: per outcome, and over both (`all`)."""
    seconds = _seconds(_dialect(session), col(Event.created_at), col(Application.created_at))

    def decided(group: Any) -> Select[*tuple[Any, ...]]:
        return (
            select(group.label("grp"), seconds.label("seconds"))
            .join(Application, col(Application.id) == col(Event.application_id))
            .where(*_arrived(filters), col(Event.to_state).in_(DECISIONS))
        )

    durations = decided(col(Event.to_state)).union_all(decided(literal("all"))).subquery()
    return await _times(session, durations)


# --- arrivals over time -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodCount:
    start: date
    received: int
    accepted: int
    rejected: int


def period_start(day: date, period: str) -> date:
    """The first day of the week (Monday) or month that holds `day`."""
    return day.replace(day=1) if period == "month" else day - timedelta(days=day.weekday())


def _next_period(start: date, period: str) -> date:
    if period == "month":
        return (start + timedelta(days=32)).replace(day=1)
    return start + timedelta(days=7)


async def over_time(session: AsyncSession, filters: ReportFilters) -> list[PeriodCount]:
    """Applications received in each week or month of the range, and how many were accepted or rejected.

    The database counts per day (a few hundred rows at most); the days are summed into periods here, which
    keeps the query the same on both databases.
    """
    created = col(Application.created_at)
    day = (
        func.date(func.timezone("UTC", created)) if _dialect(session) == "postgresql" else func.date(created)
    )
    state = col(Application.state)
    rows = (
        await session.execute(
            select(
                day.label("day"),
                func.count(),
                func.sum(case((state == State.accepted.value, 1), else_=0)),
                func.sum(case((state == State.rejected.value, 1), else_=0)),
            )
            .where(*_arrived(filters))
            .group_by(day)
        )
    ).all()
    totals: dict[date, list[int]] = {}
    start = period_start(filters.start, filters.period)
    while start <= filters.end:
        totals[start] = [0, 0, 0]
        start = _next_period(start, filters.period)
    for found_day, received, accepted, rejected in rows:
        on = found_day if isinstance(found_day, date) else date.fromisoformat(str(found_day))
        bucket = totals.setdefault(period_start(on, filters.period), [0, 0, 0])
        for index, value in enumerate((received, accepted, rejected)):
            bucket[index] += int(value or 0)
    return [PeriodCount(start, *counts) for start, counts in sorted(totals.items())]


# --- the page's choices -----------------------------------------------------------------------------------


async def departments(session: AsyncSession) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(col(Department.slug), site.name_column(Department)).order_by(col(Department.position))
    )
    return [(str(slug), str(name)) for slug, name in rows.all()]
