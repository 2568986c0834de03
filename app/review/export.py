"""The queue as a CSV download: every application the queue's filters select, in order of arrival."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any

from litestar import Request, get
from litestar.response import Stream
from sqlalchemy import Select

from app.accounts.guards import CurrentStaff, editors_only
from app.core import workflow
from app.core.csv_export import attachment, csv_lines, keyset
from app.core.db import Database
from app.core.i18n import gettext as _
from app.core.web import AppClock, DbSession
from app.models import State
from app.review.queue import QueueFilters, export_statement, queue_row


def state_label(state: str) -> str:
    return _(workflow.STAFF_LABELS[State(state)])


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


@get("/dashboard/export", name="queue_export", guards=[editors_only])
async def queue_export(
    request: Request[Any, Any, Any], session: DbSession, clock: AppClock, staff: CurrentStaff
) -> Stream:
    """Every application the queue's filters select (all pages), as a CSV download in order of arrival."""
    filters = QueueFilters.from_query(dict(request.query_params))
    now = clock()
    statement = await export_statement(session, filters, me=staff.id, now=now)
    db: Database = request.app.state.db
    return attachment("queue", now.date(), csv_lines(queue_header(), queue_rows(db, statement, now=now)))
