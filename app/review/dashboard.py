"""The queue (`/dashboard`): counts per state, filters, search, sorting, pagination and bulk actions."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.response import Template

from app.accounts.guards import CurrentStaff, editors_only
from app.core.web import AppClock, DbSession
from app.review import bulk, queue
from app.review.export import queue_export
from app.review.queue_html import rows_html

# An id no application has, replaced by each row's in the one link to an application built per page.
_SOME_ID = 987_654_321


@get("/dashboard", name="dashboard", guards=[editors_only])
async def dashboard(
    request: Request[Any, Any, Any], session: DbSession, clock: AppClock, staff: CurrentStaff
) -> Template:
    """The editors' queue, filtered by the query string."""
    filters = queue.QueueFilters.from_query(dict(request.query_params))
    now = clock()
    page = await queue.queue_page(session, filters, me=staff.id, now=now)
    choices = await queue.choices(session)
    # The page only reads: its transaction ends here, so the connection goes back to the pool before the
    # rendering instead of after it (under load, requests then wait less for a connection).
    await session.commit()
    link = request.app.route_reverse("application", application_id=_SOME_ID)
    rows = rows_html(page.rows, now=now, application_path=lambda id_: link.replace(str(_SOME_ID), str(id_)))
    return Template(
        "review/dashboard.html",
        context={
            "filters": filters,
            "page": page,
            "rows": rows,
            "choices": choices,
            "sorts": queue.SORTS,
            "now": now,
            "staff": staff,
            "max_bulk": bulk.MAX_ITEMS,
        },
    )


def create_router() -> Router:
    return Router(path="/", route_handlers=[dashboard, queue_export])
