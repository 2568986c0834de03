"""CSV exports: streamed a batch of rows at a time, spreadsheet formulas neutralised (docs/security.md D5)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any

from litestar.response import Stream
from sqlalchemy import Select

from app.core.db import Database
from app.core.i18n import gettext as _
from app.reports import queries, work
from app.reports.charts import state_label
from app.review.queue import queue_row

BATCH = 500
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
    writer.writerow([neutralise(title) for title in header])  # department names are admin-editable
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
    """A streamed CSV download named after what it holds and the day it was made (an ASCII file name)."""
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
    """The queue export's column names in the reader's language (the cells hold plain numbers and dates)."""
    return [
        _("id"),
        _("applicant"),
        _("email"),
        _("state"),
        _("departments"),
        _("topics"),
        _("assignee"),
        _("labels"),
        _("fact checks done"),
        _("fact checks"),
        _("received at"),
        _("in state since"),
        _("due at"),
        _("overdue"),
        _("applied before"),
    ]


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


async def queue_rows(
    db: Database, statement: Callable[[int | None], Select[*tuple[Any, ...]]], *, now: datetime
) -> AsyncIterator[Sequence[object]]:
    """The queue's rows under `statement` (app.review.queue.export_statement), walked by id."""
    async for found in keyset(db, statement, lambda row: row[0]):
        row = queue_row(found)
        yield [
            row.id,
            row.name,
            row.email,
            state_label(row.state),
            ", ".join(row.departments),
            ", ".join(row.topics),
            row.assignee,
            ", ".join(row.labels),
            row.tasks_total - row.tasks_open,
            row.tasks_total,
            row.created_at,
            row.state_changed_at,
            row.due_at,
            _yes_no(row.overdue(now)),
            _yes_no(row.is_repeat),
        ]


def _outcome(group: str) -> str:
    return {"all": _("all"), "accepted": _("accepted"), "rejected": _("rejected")}.get(group, group)


def _period_header(period: str) -> str:
    return _("month") if period == "month" else _("week")


def role_name(role: str) -> str:
    """A workload role ("editor", "fact-checker") in the reader's language."""
    return {"editor": _("editor"), "fact-checker": _("fact-checker")}.get(role, role)


def task_state_name(state: str) -> str:
    """An open fact-check task's state in the reader's language."""
    return {"open": _("open"), "in_progress": _("in progress")}.get(state, state.replace("_", " "))


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
            _("kind"),
            _("id"),
            _("application"),
            _("applicant"),
            _("state"),
            _("assignee"),
            _("due at"),
            _("hours overdue"),
        ], _overdue(db, filters.department, now)
    async with db.sessionmaker() as session:
        if name == "funnel":
            funnel = await queries.funnel(session, filters)
            keys = [key for key, _title in funnel.columns]
            header = [_("state"), *(title for _key, title in funnel.columns)]
            rows: list[Sequence[object]] = [[_("received"), *(funnel.received(key) for key in keys)]]
            rows += [
                [state_label(state), *(funnel.count(state, key) for key in keys)] for state in queries.STATES
            ]
            rates = [funnel.acceptance(key) for key in keys]
            rows.append(
                [_("acceptance rate (%)"), *("" if rate is None else f"{rate * 100:.1f}" for rate in rates)]
            )
        elif name in ("time-in-state", "time-to-decision"):
            in_state = name == "time-in-state"
            times = await (queries.time_in_state if in_state else queries.time_to_decision)(session, filters)
            groups = queries.STATES if in_state else ["all", *queries.DECISIONS]
            header = [
                _("state") if in_state else _("outcome"),
                _("count"),
                _("median hours"),
                _("90th percentile hours"),
                _("mean hours"),
            ]
            rows = [
                [
                    state_label(group) if in_state else _outcome(group),
                    found.count,
                    hours(found.median),
                    hours(found.p90),
                    hours(found.mean),
                ]
                for group in groups
                if (found := times.get(group))
            ]
        elif name == "workload":
            header = [
                _("name"),
                _("roles"),
                _("open applications"),
                _("overdue applications"),
                _("open tasks"),
                _("overdue tasks"),
            ]
            rows = [
                [
                    w.name,
                    ", ".join(role_name(role) for role in w.roles),
                    w.applications,
                    w.applications_overdue,
                    w.tasks,
                    w.tasks_overdue,
                ]
                for w in await work.workload(session, filters, now=now)
            ]
        elif name == "over-time":
            header = [_period_header(filters.period), _("received"), _("accepted"), _("rejected")]
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
        async for row in keyset(db, partial(statement, slug, now), lambda row: (row[6], row[1])):
            item = work.overdue_item(row)
            application = item.kind == "application"
            what = state_label(item.state) if application else task_state_name(item.state)
            overdue_for = hours((now - item.due_at).total_seconds())
            yield [
                _("application") if application else _("task"),
                item.id,
                item.application_id,
                item.applicant,
                what,
                item.assignee,
                item.due_at,
                overdue_for,
            ]
