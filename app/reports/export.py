"""CSV exports: streamed a batch of rows at a time, with spreadsheet formulas neutralised (SECURITY.md D5)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from datetime import date, datetime
from typing import Any

from litestar.response import Stream
from sqlalchemy import Select

from app.db import Database
from app.models import State
from app.reports import queries, work
from app.review.queue import QueueRow
from app.workflow import STAFF_LABELS

BATCH = 500
REPORTS = ("funnel", "time-in-state", "time-to-decision", "workload", "overdue", "over-time")
# A spreadsheet reads a cell starting with one of these as a formula (or strips it and then does).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell's text, with a leading apostrophe when a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # Numbers are written by us, never negative: only text can carry a formula.
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


async def csv_lines(header: Sequence[str], rows: AsyncIterable[Sequence[object]]) -> AsyncIterator[str]:
    """The header at once (the download starts before any row is read), then the rows in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    # A byte-order mark first, so that spreadsheets read the names as UTF-8.
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    count = 0
    async for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        count += 1
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


async def keyset(
    db: Database,
    statement: Callable[[Any], Select[*tuple[Any, ...]]],
    key: Callable[[Any], Any],
    *,
    batch: int = BATCH,
) -> AsyncIterator[Any]:
    """Every row of `statement(after)`, a batch at a time, each batch in its own short session.

    `statement(None)` gives the first batch in key order and `statement(key(last_row))` the rows after it:
    no connection is held while the client reads, however slowly.
    """
    after = None
    while True:
        async with db.sessionmaker() as session:
            rows = (await session.execute(statement(after).limit(batch))).all()
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after = key(rows[-1])


def attachment(name: str, today: date, lines: AsyncIterator[str]) -> Stream:
    """A streamed CSV download named after what it holds and the day it was made."""
    filename = f"byline-{name}-{today.isoformat()}.csv"
    return Stream(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- what each export holds -------------------------------------------------------------------------------


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}"


def queue_header() -> list[str]:
    return [
        "id",
        "applicant",
        "email",
        "state",
        "departments",
        "topics",
        "assignee",
        "labels",
        "fact checks done",
        "fact checks",
        "received at",
        "in state since",
        "due at",
        "overdue",
        "applied before",
    ]


def queue_cells(row: QueueRow, now: datetime) -> list[object]:
    return [
        row.id,
        row.name,
        row.email,
        STAFF_LABELS[State(row.state)],
        ", ".join(row.departments),
        ", ".join(row.topics),
        row.assignee,
        ", ".join(row.labels),
        row.tasks_total - row.tasks_open,
        row.tasks_total,
        row.created_at,
        row.state_changed_at,
        row.due_at,
        "yes" if row.overdue(now) else "no",
        "yes" if row.is_repeat else "no",
    ]


async def _listed(rows: Sequence[Sequence[object]]) -> AsyncIterator[Sequence[object]]:
    for row in rows:
        yield row


async def report_rows(
    db: Database, name: str, filters: queries.ReportFilters, *, now: datetime
) -> tuple[list[str], AsyncIterator[Sequence[object]]] | None:
    """The header and the rows of the report called `name` (None for no such report).

    The aggregate reports are a few dozen rows, read in one short session; the overdue list is walked by
    keyset, however long it is.
    """
    if name == "overdue":
        return [
            "kind",
            "id",
            "application",
            "applicant",
            "state",
            "assignee",
            "due at",
            "hours overdue",
        ], _overdue(db, filters.department, now)
    async with db.sessionmaker() as session:
        if name == "funnel":
            funnel = await queries.funnel(session, filters)
            header = ["state", *(title for _, title in funnel.columns)]
            rows: list[Sequence[object]] = [
                ["received", *(funnel.received(key) for key, _ in funnel.columns)]
            ]
            rows += [
                [STAFF_LABELS[State(state)], *(funnel.count(state, key) for key, _ in funnel.columns)]
                for state in queries.STATES
            ]
            rates = [funnel.acceptance(key) for key, _ in funnel.columns]
            rows.append(
                ["acceptance rate (%)", *("" if rate is None else f"{rate * 100:.1f}" for rate in rates)]
            )
        elif name in ("time-in-state", "time-to-decision"):
            in_state = name == "time-in-state"
            times = await (queries.time_in_state if in_state else queries.time_to_decision)(session, filters)
            groups = queries.STATES if in_state else ["all", *queries.DECISIONS]
            header = [
                "state" if in_state else "outcome",
                "count",
                "median hours",
                "90th percentile hours",
                "mean hours",
            ]
            rows = [
                [group, found.count, hours(found.median), hours(found.p90), hours(found.mean)]
                for group in groups
                if (found := times.get(group))
            ]
        elif name == "workload":
            header = [
                "name",
                "roles",
                "open applications",
                "overdue applications",
                "open tasks",
                "overdue tasks",
            ]
            rows = [
                [w.name, ", ".join(w.roles), w.applications, w.applications_overdue, w.tasks, w.tasks_overdue]
                for w in await work.workload(session, filters, now=now)
            ]
        elif name == "over-time":
            header = [filters.period, "received", "accepted", "rejected"]
            rows = [
                [p.start, p.received, p.accepted, p.rejected]
                for p in await queries.over_time(session, filters)
            ]
        else:
            return None
    return header, _listed(rows)


async def _overdue(db: Database, slug: str, now: datetime) -> AsyncIterator[Sequence[object]]:
    """Every overdue application, then every overdue task, most overdue first."""
    for statement in (work.overdue_applications, work.overdue_tasks):

        def after(last: tuple[datetime, int] | None, statement: Any = statement) -> Select[*tuple[Any, ...]]:
            return statement(slug, now, last)  # type: ignore[no-any-return]

        async for row in keyset(db, after, lambda row: (row[6], row[1])):
            item = work.overdue_item(row)
            what = (
                STAFF_LABELS[State(item.state)]
                if item.kind == "application"
                else item.state.replace("_", " ")
            )
            overdue_for = hours((now - item.due_at).total_seconds())
            yield [
                item.kind,
                item.id,
                item.application_id,
                item.applicant,
                what,
                item.assignee,
                item.due_at,
                overdue_for,
            ]
