"""The queue (`/dashboard`): counts per state, filters, search, sorting, pagination and bulk actions."""

from __future__ import annotations

from litestar import Router, get
from litestar.response import Template

from app.accounts.guards import CurrentStaff, editors_only


@get("/dashboard", name="dashboard", guards=[editors_only])
async def dashboard(staff: CurrentStaff) -> Template:
    """The editors' queue."""
    return Template("review/dashboard.html", context={"staff": staff})


def create_router() -> Router:
    return Router(path="/", route_handlers=[dashboard])
