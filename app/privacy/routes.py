"""Personal data pages: the applicant's download and erasure (status page), the admin's erasure log."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from sqlalchemy import func, select
from sqlmodel import col

from app.accounts.guards import admin_only
from app.applications.queries import NOT_FOUND, application_by_public_id, status_view
from app.core.errors import NotFound
from app.core.web import AppClock, AppSettings, DbSession, redirect_to
from app.models import Erasure
from app.privacy import export
from app.privacy.service import Requester, erase

LOG_PAGE = 100


@get("/status/{public_id:str}/data", name="data_export")
async def data_export(session: DbSession, settings: AppSettings, public_id: FromPath[str]) -> Response[bytes]:
    """The applicant's data as a zip download."""
    view = await status_view(session, public_id)
    if view.application.erased_at is not None:
        raise NotFound(NOT_FOUND)
    body = await export.build_export(session, settings=settings, view=view)
    return Response(
        body,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="application-data-{public_id[:8]}.zip"',
            "Cache-Control": "no-store",
        },
    )


@get("/status/{public_id:str}/erase", name="erase_confirm")
async def erase_confirm(
    request: Request[Any, Any, Any], session: DbSession, public_id: FromPath[str]
) -> Template | Redirect:
    """Ask the applicant to confirm the erasure."""
    application, _ = await application_by_public_id(session, public_id)
    if application.erased_at is not None:
        return redirect_to(request, "status", public_id=public_id)
    return Template("privacy/erase.html", context={"application": application})


@post("/status/{public_id:str}/erase", name="erase")
async def erase_data(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    public_id: FromPath[str],
) -> Redirect:
    """Erase the applicant's data (withdrawing an application still under review) and show the status page."""
    application, applicant = await application_by_public_id(session, public_id)
    await erase(
        session,
        settings=settings,
        application=application,
        applicant=applicant,
        requested_by=Requester.applicant,
        now=clock(),
    )
    return redirect_to(request, "status", public_id=public_id)


@get("/admin/erasures", name="erasures", guards=[admin_only])
async def erasure_log(session: DbSession) -> Template:
    """The erasure log, newest first."""
    rows = await session.scalars(
        select(Erasure).order_by(col(Erasure.created_at).desc(), col(Erasure.id).desc()).limit(LOG_PAGE)
    )
    total = await session.scalar(select(func.count()).select_from(Erasure))
    return Template("privacy/erasures.html", context={"erasures": list(rows.all()), "total": int(total or 0)})


def create_router() -> Router:
    """The personal data routes."""
    return Router(path="/", route_handlers=[data_export, erase_confirm, erase_data, erasure_log])
