"""The reports' CSV downloads: each report's rows under the page's filters (docs/security.md D5)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from functools import partial

from app.core.csv_export import keyset
from app.core.db import Database
from app.core.i18n import gettext as _
from app.reports import queries, trials, work
from app.reports.charts import state_label

# --- what each export holds -------------------------------------------------------------------------------


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}"


def _outcome(group: str) -> str:
    return {"all": _("all"), "accepted": _("accepted"), "rejected": _("rejected")}.get(group, group)


def _period_header(period: str) -> str:
    return _("month") if period == "month" else _("week")


def role_name(role: str) -> str:
    """A workload role ("editor", "fact-checker") in the reader's language."""
    return {"editor": _("editor"), "fact-checker": _("fact-checker")}.get(role, role)


def fee_status_name(status: str) -> str:
    """A trial fee's status in the reader's language."""
    names = {"agreed": _("agreed"), "invoiced": _("invoiced"), "approved": _("approved"), "paid": _("paid")}
    return names.get(status, status)


def _trial_rows(figures: trials.TrialFigures) -> list[Sequence[object]]:
    def share(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.1f}"

    return [
        [_("trials offered"), figures.offered],
        [_("pieces received"), figures.received],
        [_("pieces received on time"), figures.on_time],
        [_("pieces received late"), figures.late],
        [_("trials declined"), figures.declined],
        [
            _("median hours to submit"),
            "" if figures.median_seconds is None else hours(figures.median_seconds),
        ],
        [_("accepted after a trial"), figures.accepted_after],
        [_("decided after a trial"), figures.decided_after],
        [_("acceptance after a trial (%)"), share(figures.acceptance)],
    ]


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
        elif name == "trials":
            header = [_("figure"), _("value")]
            rows = _trial_rows(await trials.trial_figures(session, filters))
        elif name == "trial-fees":
            header = [_("status"), _("currency"), _("count"), _("amount")]
            rows = [
                [fee_status_name(fee.status), fee.currency, fee.count, fee.plain_amount]
                for fee in (await trials.trial_figures(session, filters)).fees
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
