"""The reports page (`/reports`) and the CSV exports of the reports and of the queue."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.params import FromPath
from litestar.response import Stream, Template

from app.accounts.guards import role_required
from app.core.csv_export import attachment, csv_lines
from app.core.db import Database
from app.core.errors import NotFound
from app.core.i18n import gettext as _
from app.core.web import AppClock, DbSession
from app.reports import charts, export, queries, trials, work

editors_and_admins = role_required("editor", "admin")


def _filters(request: Request[Any, Any, Any], clock: AppClock) -> queries.ReportFilters:
    return queries.ReportFilters.from_query(dict(request.query_params), today=clock().date())


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
            "over_time": periods,
            "trials": await trials.trial_figures(session, filters),
            "fee_status_label": export.fee_status_name,
            "charts": charts.report_charts(filters, funnel, in_state, workload, periods),
            "days": charts.days_text,
            "percent": charts.percent,
            "state_label": charts.state_label,
            "period_label": charts.period_label,
            "role_name": export.role_name,
            "now": now,
        },
    )


# Not `{name}`: that is route reversal's own argument, so url_for('report_export', report=…) builds this link.
@get("/reports/export/{report:str}", name="report_export", guards=[editors_and_admins])
async def report_export(request: Request[Any, Any, Any], clock: AppClock, report: FromPath[str]) -> Stream:
    """One report as a CSV download, under the same filters as the page."""
    db: Database = request.app.state.db
    found = await export.report_rows(db, report, _filters(request, clock), now=clock())
    if found is None:
        raise NotFound(_("There is no such report."))
    header, rows = found
    return attachment(f"report-{report}", clock().date(), csv_lines(header, rows))


def create_router() -> Router:
    return Router(path="/", route_handlers=[reports_page, report_export])
