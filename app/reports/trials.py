"""Trial figures on the reports page: trials offered, pieces received on time, the median time to submit,
acceptance after a trial and the fees by status and currency.

The reports' date range picks trials by the day they were offered (and the department by the application's).
Every figure is an aggregate query that runs alike on SQLite and PostgreSQL, except the median time to submit,
computed here from the submitted trials' two timestamps (one row per piece received in the range).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

from babel import numbers as babel_numbers
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.i18n import current_locale
from app.models import Application, FeeStatus, State, Trial, TrialFee, TrialState
from app.reports.queries import ReportFilters, in_department

FEE_STATUSES = [status.value for status in FeeStatus]


@dataclass(frozen=True)
class FeeTotal:
    status: str
    currency: str
    count: int
    amount_minor: int

    @property
    def amount(self) -> str:
        """The total in the reader's language with its currency (minor units shown as the currency's)."""
        digits = babel_numbers.get_currency_precision(self.currency)
        return babel_numbers.format_currency(
            self.amount_minor / 10**digits, self.currency, locale=current_locale()
        )

    @property
    def plain_amount(self) -> str:
        """The total as a plain number for spreadsheets: 1234.50."""
        digits = babel_numbers.get_currency_precision(self.currency)
        return f"{self.amount_minor / 10**digits:.{digits}f}"


@dataclass(frozen=True)
class TrialFigures:
    offered: int
    received: int
    on_time: int
    late: int
    declined: int
    median_seconds: float | None
    accepted_after: int
    decided_after: int
    fees: list[FeeTotal]

    @property
    def acceptance(self) -> float | None:
        """Accepted of those decided after their trial; None before any decision."""
        return self.accepted_after / self.decided_after if self.decided_after else None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.received if self.received else None


def _offered(filters: ReportFilters) -> list[ColumnElement[bool]]:
    return [
        col(Trial.created_at) >= filters.since,
        col(Trial.created_at) < filters.until,
        *in_department(filters.department),
    ]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def trial_figures(session: AsyncSession, filters: ReportFilters) -> TrialFigures:
    """The trial figures for the trials offered in the range (and department)."""
    offered = _offered(filters)
    joined = col(Application.id) == col(Trial.application_id)
    submitted = col(Trial.state) == TrialState.submitted.value
    counts = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((submitted, 1), else_=0)),
                func.sum(case((submitted & ~col(Trial.late), 1), else_=0)),
                func.sum(case((submitted & col(Trial.late), 1), else_=0)),
                func.sum(case((col(Trial.state) == TrialState.declined.value, 1), else_=0)),
            )
            .select_from(Trial)
            .join(Application, joined)
            .where(*offered)
        )
    ).one()
    spans = (
        await session.execute(
            select(col(Trial.created_at), col(Trial.submitted_at))
            .join(Application, joined)
            .where(*offered, submitted, col(Trial.submitted_at).is_not(None))
        )
    ).all()
    seconds = [(_aware(done) - _aware(start)).total_seconds() for start, done in spans if done is not None]
    decided = (
        await session.execute(
            select(col(Application.state), func.count(func.distinct(col(Application.id))))
            .select_from(Trial)
            .join(Application, joined)
            .where(
                *offered,
                col(Application.state).in_([State.accepted.value, State.rejected.value]),
                col(Application.decided_at) >= col(Trial.created_at),
            )
            .group_by(col(Application.state))
        )
    ).all()
    by_state = {str(state): int(n) for state, n in decided}
    fees = (
        await session.execute(
            select(
                col(TrialFee.status),
                col(TrialFee.currency),
                func.count(),
                func.sum(col(TrialFee.amount_minor)),
            )
            .join(Trial, col(Trial.id) == col(TrialFee.trial_id))
            .join(Application, joined)
            .where(*offered)
            .group_by(col(TrialFee.status), col(TrialFee.currency))
        )
    ).all()
    order = {status: index for index, status in enumerate(FEE_STATUSES)}
    totals = sorted(
        (
            FeeTotal(str(status), str(currency), int(n), int(amount or 0))
            for status, currency, n, amount in fees
        ),
        key=lambda fee: (order.get(fee.status, len(order)), fee.currency),
    )
    total, received, on_time, late, declined = (int(value or 0) for value in counts)
    return TrialFigures(
        offered=total,
        received=received,
        on_time=on_time,
        late=late,
        declined=declined,
        median_seconds=statistics.median(seconds) if seconds else None,
        accepted_after=by_state.get(State.accepted.value, 0),
        decided_after=sum(by_state.values()),
        fees=totals,
    )
