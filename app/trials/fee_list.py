"""The finance list of trial fees: a month's fees (by the day they were agreed, in the site's time zone) with
their status and who moved them, totals per currency, and the same rows for the accounts department's CSV."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.core import money
from app.core.csv_export import keyset
from app.core.db import Database
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.models import Applicant, Application, FeeStatus, Trial, TrialFee, TrialPiece, User
from app.trials.fees import STEP_COLUMNS, status_label

# The CSV's columns of who took each step and when.
STEP_HEADERS = {
    FeeStatus.agreed: (N_("agreed by"), N_("agreed at (UTC)")),
    FeeStatus.invoiced: (N_("invoiced by"), N_("invoiced at (UTC)")),
    FeeStatus.approved: (N_("approved by"), N_("approved at (UTC)")),
    FeeStatus.paid: (N_("paid by"), N_("paid at (UTC)")),
}
MONTH = re.compile(r"(20[0-9]{2})-(0[1-9]|1[0-2])")
PAGE_LIMIT = 1000


def parse_month(value: str | None) -> date | None:
    """The first day of a month written YYYY-MM, or None."""
    match = MONTH.fullmatch(value or "")
    return date(int(match.group(1)), int(match.group(2)), 1) if match else None


def this_month(now: datetime, zone: str) -> date:
    local = now.astimezone(ZoneInfo(zone))
    return date(local.year, local.month, 1)


def month_bounds(month: date, zone: str) -> tuple[datetime, datetime]:
    """The month's first moment and the next month's, in the site's time zone."""
    tz = ZoneInfo(zone)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return (
        datetime(month.year, month.month, 1, tzinfo=tz),
        datetime(following.year, following.month, 1, tzinfo=tz),
    )


def shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Filters:
    month: date
    status: str = ""
    currency: str = ""

    @classmethod
    def from_query(cls, query: dict[str, str], *, now: datetime, zone: str) -> Filters:
        status = query.get("status", "")
        currency = query.get("currency", "")
        return cls(
            month=parse_month(query.get("month")) or this_month(now, zone),
            status=status if status in {s.value for s in FeeStatus} else "",
            currency=currency if currency in money.CURRENCIES else "",
        )

    def query(self, **changes: Any) -> dict[str, str]:
        values = {"month": self.month.strftime("%Y-%m"), "status": self.status, "currency": self.currency}
        values.update(changes)
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class FeeRow:
    id: int
    trial_id: int
    application_id: int
    name: str
    email: str
    topic: str
    words: int | None
    amount_minor: int
    currency: str
    status: str
    note: str
    # Who took each step and when, by status.
    steps: dict[str, tuple[str, datetime | None]]


def statement(filters: Filters, zone: str) -> Select[*tuple[Any, ...]]:
    """Fees agreed in the month (and of the status and currency chosen), in order of agreement."""
    start, end = month_bounds(filters.month, zone)
    people = {status: aliased(User) for status in STEP_COLUMNS}
    query = (
        select(
            TrialFee,
            col(Trial.application_id),
            col(Applicant.name),
            col(Applicant.email),
            col(Trial.topic),
            col(TrialPiece.word_count),
            *(col(person.name) for person in people.values()),
        )
        .join(Trial, col(Trial.id) == col(TrialFee.trial_id))
        .join(Application, col(Application.id) == col(Trial.application_id))
        .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
        .outerjoin(TrialPiece, col(TrialPiece.trial_id) == col(Trial.id))
        .where(col(TrialFee.agreed_at) >= start, col(TrialFee.agreed_at) < end)
    )
    for status, person in people.items():
        by_column = STEP_COLUMNS[status][0]
        query = query.outerjoin(person, col(person.id) == getattr(TrialFee, by_column))
    if filters.status:
        query = query.where(col(TrialFee.status) == filters.status)
    if filters.currency:
        query = query.where(col(TrialFee.currency) == filters.currency)
    return query.order_by(col(TrialFee.id))


def fee_row(found: Sequence[Any]) -> FeeRow:
    fee, application_id, name, email, topic, words, *names = found
    steps = {
        status.value: (who or "", getattr(fee, STEP_COLUMNS[status][1]))
        for status, who in zip(STEP_COLUMNS, names, strict=True)
    }
    return FeeRow(
        id=fee.id,
        trial_id=fee.trial_id,
        application_id=application_id,
        name=name,
        email=email,
        topic=topic,
        words=words,
        amount_minor=fee.amount_minor,
        currency=fee.currency,
        status=fee.status,
        note=fee.note,
        steps=steps,
    )


async def month_fees(session: AsyncSession, filters: Filters, zone: str) -> list[FeeRow]:
    rows = (await session.execute(statement(filters, zone).limit(PAGE_LIMIT))).all()
    return [fee_row(row) for row in rows]


def totals(rows: list[FeeRow]) -> list[tuple[str, str, dict[str, str]]]:
    """Per currency: the formatted total and the total of each status, in the reader's language."""
    sums: dict[str, dict[str, int]] = {}
    for row in rows:
        by_status = sums.setdefault(row.currency, {})
        by_status[row.status] = by_status.get(row.status, 0) + row.amount_minor
    return [
        (
            currency,
            money.format_money(sum(by_status.values()), currency),
            {status: money.format_money(n, currency) for status, n in by_status.items()},
        )
        for currency, by_status in sorted(sums.items())
    ]


# --- the CSV for the accounts department -----------------------------------------------------------------


def csv_header() -> list[str]:
    """The columns in the reader's language; amounts are plain decimals with a dot, times in UTC."""
    header = [
        _("applicant"),
        _("email"),
        _("application number"),
        _("trial topic"),
        _("words"),
        _("amount"),
        _("currency"),
        _("status"),
    ]
    for who, when in STEP_HEADERS.values():
        header += [_(who), _(when)]
    return [*header, _("note")]


async def csv_rows(db: Database, filters: Filters, zone: str) -> AsyncIterator[Sequence[object]]:
    """Every fee the filters select, walked by id, a batch at a time."""

    def batch(after: int | None) -> Select[*tuple[Any, ...]]:
        query = statement(filters, zone)
        return query.where(col(TrialFee.id) > after) if after is not None else query

    async for found in keyset(db, batch, lambda row: row[0].id):
        row = fee_row(found)
        cells: list[object] = [
            row.name,
            row.email,
            row.application_id,
            row.topic,
            row.words,
            Decimal(money.plain(row.amount_minor, row.currency)),
            row.currency,
            status_label(row.status),
        ]
        for status in STEP_COLUMNS:
            who, at = row.steps[status.value]
            cells += [who, at.replace(tzinfo=None) if at else None]
        yield [*cells, row.note]
