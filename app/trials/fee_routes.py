"""The fee pages: "Accept for payment" on the trial panel (editors), the steps invoiced, approved and paid
(finance people and admins), the finance list of a month's fees (/fees) and its CSV for the accounts
department."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from app.accounts.guards import CurrentStaff, finance_or_admin, role_required
from app.core import money
from app.core.csv_export import attachment, csv_lines
from app.core.db import Database
from app.core.errors import Invalid
from app.core.forms import FormFields
from app.core.i18n import gettext as _
from app.core.web import AppClock, AppSettings, DbSession, redirect_to
from app.models import FeeStatus, TrialFee
from app.trials import fee_list, fees

editors_or_admins = role_required("editor", "admin")


async def _note(request: Request[Any, Any, Any]) -> tuple[FormFields, str]:
    form = FormFields(await request.form())
    note = form.text("note", limit=fees.MAX_NOTE)
    form.check(_("Please check the form."))
    return form, note


@post("/trials/{trial_id:int}/fee", name="trial_fee_accept", guards=[editors_or_admins])
async def accept_for_payment(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    trial_id: FromPath[int],
) -> Redirect:
    """Accept the piece for payment: its fee is recorded as agreed."""
    _form, note = await _note(request)
    fee = await fees.accept_for_payment(
        session, settings, trial_id=trial_id, by=staff, note=note, now=clock()
    )
    return await _back(request, session, staff, fee, FormFields({}))


async def _back(
    request: Request[Any, Any, Any], session: DbSession, staff: CurrentStaff, fee: TrialFee, form: FormFields
) -> Redirect:
    """Back to the finance list's month when the step was taken there (or for someone who does not see
    applications), otherwise to the fee on the application's page."""
    if form.raw("back") == "fees" or not staff.is_editor:
        month = fee_list.parse_month(form.raw("month"))
        query = {"month": month.strftime("%Y-%m")} if month else None
        return redirect_to(request, "fees", query, fragment=f"fee-{fee.id}")
    trial = await fees.trial_of(session, fee)
    return redirect_to(request, "application", fragment="trial-fee", application_id=trial.application_id)


@post("/trials/{trial_id:int}/fee/status", name="trial_fee_move", guards=[finance_or_admin])
async def move_fee(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    trial_id: FromPath[int],
) -> Redirect:
    """Move the fee one step on (invoiced, approved, paid) from the status the page showed."""
    form, note = await _note(request)
    seen, to = fees.parse_status(form.raw("seen")), fees.parse_status(form.raw("to"))
    if seen is None or to is None:
        raise Invalid(_("Please check the form."), {"to": _("Choose the fee's next status.")})
    fee = await fees.move_fee(
        session, settings, trial_id=trial_id, seen=seen, to=to, by=staff, note=note, now=clock()
    )
    return await _back(request, session, staff, fee, form)


@get("/fees", name="fees", guards=[finance_or_admin])
async def fees_page(
    request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, clock: AppClock
) -> Template:
    """A month's trial fees by status, with totals per currency and the steps to take."""
    filters = fee_list.Filters.from_query(dict(request.query_params), now=clock(), zone=settings.time_zone)
    rows = await fee_list.month_fees(session, filters, settings.time_zone)
    return Template(
        "trials/fees.html",
        context={
            "filters": filters,
            "rows": rows,
            "totals": fee_list.totals(rows),
            "capped": len(rows) >= fee_list.PAGE_LIMIT,
            "previous": filters.query(month=fee_list.shift(filters.month, -1).strftime("%Y-%m")),
            "following": filters.query(month=fee_list.shift(filters.month, 1).strftime("%Y-%m")),
            "statuses": [(status.value, fees.status_label(status)) for status in FeeStatus],
            "currencies": money.CURRENCIES,
            "next_status": {status.value: target.value for status, target in fees.NEXT.items()},
            "step_labels": {status.value: _(label) for status, label in fees.STEP_LABELS.items()},
            "format_money": money.format_money,
            "status_label": fees.status_label,
        },
    )


@get("/fees/export", name="fees_csv", guards=[finance_or_admin])
async def fees_csv(request: Request[Any, Any, Any], settings: AppSettings, clock: AppClock) -> Stream:
    """A month's fees (`?month=YYYY-MM`, this month by default) as CSV for the accounts department."""
    now = clock()
    filters = fee_list.Filters.from_query(dict(request.query_params), now=now, zone=settings.time_zone)
    db: Database = request.app.state.db
    rows = fee_list.csv_rows(db, filters, settings.time_zone)
    name = f"fees-{filters.month.strftime('%Y-%m')}"
    return attachment(name, now.date(), csv_lines(fee_list.csv_header(), rows))


ROUTES = [accept_for_payment, move_fee, fees_page, fees_csv]
