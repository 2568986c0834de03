"""Login and logout."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.response import Redirect, Template

from app.accounts import service, sessions
from app.accounts.guards import CurrentStaff, staff_only
from app.core.db import Database
from app.core.i18n import gettext as _
from app.core.staff import StaffUser
from app.core.web import AppClock, AppSettings, DbSession, client_ip, redirect_to


@get("/login", name="login")
async def login_form(request: Request[Any, Any, Any]) -> Template | Redirect:
    """The login form; someone already logged in goes straight on."""
    next = request.query_params.get("next", "")
    if request.scope.get("user") is not None:
        return Redirect(service.safe_next(next) or request.app.route_reverse("dashboard"), status_code=303)
    notice = _("Your new password is set: log in with it.") if request.query_params.get("reset") else ""
    context = {"next": service.safe_next(next) or "", "email": "", "notice": notice}
    return Template("accounts/login.html", context=context)


@post("/login", name="login_submit")
async def login_submit(
    request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, clock: AppClock
) -> Template | Redirect:
    """Check the credentials, start a fresh session and go to the page asked for (or the person's own)."""
    form = await request.form()
    email = str(form.get("email") or "")[:320]
    password = str(form.get("password") or "")[:4096]
    next_path = service.safe_next(str(form.get("next") or ""))
    db: Database = request.app.state.db
    now = clock()
    try:
        user = await service.authenticate(
            session,
            db,
            settings=settings,
            email=email,
            password=password,
            ip=client_ip(request, settings),
            now=now,
        )
    except service.LoginFailed as exc:
        return Template(
            "accounts/login.html",
            context={"next": next_path or "", "email": email, "error": exc.message},
            status_code=401,
        )
    previous = request.scope.get("user")
    if isinstance(previous, StaffUser):
        await sessions.end_session(session, previous.session_id)
    token = await sessions.start_session(
        session, user=user, settings=settings, now=now, user_agent=request.headers.get("user-agent", "")
    )
    cookie = sessions.session_cookie(token, settings)
    if next_path and not user.must_change_password:
        return Redirect(next_path, status_code=303, cookies=[cookie])
    return redirect_to(request, service.landing_route(user), cookies=[cookie])


@post("/logout", name="logout", guards=[staff_only])
async def logout(
    request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, staff: CurrentStaff
) -> Redirect:
    """End this session on the server and drop the cookie."""
    await sessions.end_session(session, staff.session_id)
    return redirect_to(request, "login", cookies=[sessions.expired_cookie(settings)])


def create_router() -> Router:
    return Router(path="/", route_handlers=[login_form, login_submit, logout])
