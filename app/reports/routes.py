"""The reports page (`/reports`) and the CSV exports of the reports and of the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from litestar import Request, Router, get
from litestar.params import FromPath
from litestar.response import Stream, Template

from app.accounts.guards import CurrentStaff, editors_only, role_required
from app.db import Database
from app.errors import NotFound
from app.models import State
from app.reports import charts, export, queries, work
from app.review.queue import QueueFilters, export_statement, queue_row
from app.web import AppClock, DbSession
from app.workflow import STAFF_LABELS

editors_and_admins = role_required("editor", "admin")


def _filters(request: Request[Any, Any, Any], clock: AppClock) -> queries.ReportFilters:
    return queries.ReportFilters.from_query(dict(request.query_params), today=clock().date())


def _days(seconds: float) -> float:
    return round(seconds / 86400, 1)


@get("/reports", name="reports", guards=[editors_and_admins])
async def reports_page(request: Request[Any, Any, Any], session: DbSession, clock: AppClock) -> Template:
    """Every report for the chosen arrival dates and department, as charts and tables."""
    filters = _filters(request, clock)
    now = clock()
    funnel = await queries.funnel(session, filters)
    in_state = await queries.time_in_state(session, filters)
    decision = await queries.time_to_decision(session, filters)
    workload = await work.workload(session, filters, now=now)
    periods = await queries.over_time(session, filters)
    reached = [state for state in queries.STATES if funnel.count(state)]
    timed = [state for state in queries.STATES if state in in_state]
    period_labels = [p.start.strftime("%b %Y" if filters.period == "month" else "%d %b") for p in periods]
    days = lambda value: f"{value:g} d"  # noqa: E731
    chart_list = {
        "funnel": charts.chart(
            "chart-funnel",
            "Applications that reached each state",
            f"Of {funnel.received()} applications received, how many reached each state.",
            ["Received", *(STAFF_LABELS[State(s)] for s in reached)],
            [charts.Series("Applications", [funnel.received(), *(funnel.count(s) for s in reached)])],
        ),
        "time-in-state": charts.chart(
            "chart-time-in-state",
            "Time in each state, in days",
            "Median and 90th percentile of the days spent in each state before the next move.",
            [STAFF_LABELS[State(s)] for s in timed],
            [
                charts.Series("Median", [_days(in_state[s].median) for s in timed]),
                charts.Series("90th percentile", [_days(in_state[s].p90) for s in timed]),
            ],
            days,
        ),
        "workload": charts.chart(
            "chart-workload",
            "Open work per person",
            "Open applications assigned to each editor and open fact-check tasks of each fact-checker.",
            [w.name for w in workload],
            [
                charts.Series("Applications", [w.applications for w in workload]),
                charts.Series("Tasks", [w.tasks for w in workload]),
            ],
        ),
        "over-time": charts.chart(
            "chart-over-time",
            f"Applications received per {filters.period}",
            f"Applications received in each {filters.period} from {filters.start:%d %b %Y} "
            f"to {filters.end:%d %b %Y}.",
            period_labels,
            [charts.Series("Received", [p.received for p in periods])],
            horizontal=False,
        ),
    }
    return Template(
        "reports/index.html",
        context={
            "filters": filters,
            "departments": await queries.departments(session),
            "periods": queries.PERIODS,
            "funnel": funnel,
            "states": queries.STATES,
            "in_state": in_state,
            "decision": decision,
            "workload": workload,
            "overdue": await work.overdue(session, filters, now=now),
            "over_time": list(zip(period_labels, periods, strict=True)),
            "charts": chart_list,
            "reports": export.REPORTS,
            "now": now,
        },
    )


@get("/reports/export/{name:str}", name="report_export", guards=[editors_and_admins])
async def report_export(request: Request[Any, Any, Any], clock: AppClock, name: FromPath[str]) -> Stream:
    """One report as a CSV download, under the same filters as the page."""
    if name not in export.REPORTS:
        raise NotFound("There is no such report.")
    db: Database = request.app.state.db
    found = await export.report_rows(db, name, _filters(request, clock), now=clock())
    assert found is not None
    header, rows = found
    return export.attachment(f"report-{name}", clock().date(), export.csv_lines(header, rows))


@get("/dashboard/export", name="queue_export", guards=[editors_only])
async def queue_export(
    request: Request[Any, Any, Any], session: DbSession, clock: AppClock, staff: CurrentStaff
) -> Stream:
    """Every application the queue's filters select (all pages), as a CSV download in order of arrival."""
    filters = QueueFilters.from_query(dict(request.query_params))
    now = clock()
    statement = await export_statement(session, filters, me=staff.id, now=now)
    db: Database = request.app.state.db

    async def rows() -> AsyncIterator[Sequence[object]]:
        async for row in export.keyset(db, statement, lambda row: row[0]):
            yield export.queue_cells(queue_row(row), now)

    return export.attachment("queue", now.date(), export.csv_lines(export.queue_header(), rows()))


def create_router() -> Router:
    return Router(path="/", route_handlers=[reports_page, report_export, queue_export])
