"""Pages a person reaches from an emailed link or for their own account: joining by invitation, resetting a
forgotten password, changing it, and choosing how notifications arrive."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts import invitations, preferences, reset, service, sessions
from app.accounts.guards import CurrentStaff, staff_only
from app.accounts.tokens import plausible
from app.core import i18n
from app.core.errors import Invalid, NotFound
from app.core.forms import FormFields, form_error
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.core.outbound import EMAIL_TITLES, MUTABLE
from app.core.web import AppClock, AppSettings, DbSession, client_ip, redirect_to
from app.models import User
from app.settings import Settings

MAX_PASSWORD = 4096
MAX_NAME = 200


def _checked(token: str) -> str:
    if not plausible(token):
        raise NotFound(N_("There is nothing behind this link."))
    return token


async def _logged_in(
    session: DbSession, settings: AppSettings, clock: AppClock, user: User, request: Request[Any, Any, Any]
) -> Redirect:
    token = await sessions.start_session(
        session, user=user, settings=settings, now=clock(), user_agent=request.headers.get("user-agent", "")
    )
    return redirect_to(
        request, service.landing_route(user), cookies=[sessions.session_cookie(token, settings)]
    )


@get("/invitations/{token:str}", name="invitation")
async def invitation_page(session: DbSession, clock: AppClock, token: FromPath[str]) -> Template:
    """Join the desk: choose a name and a password."""
    invitation = await invitations.usable(session, _checked(token), clock())
    return Template(
        "accounts/accept.html",
        context={"invitation": invitation, "name": invitation.name, "errors": {}, "token": token},
    )


@post("/invitations/{token:str}", name="invitation_accept")
async def accept_invitation(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    token: FromPath[str],
) -> Template | Redirect:
    fields = FormFields(await request.form())
    name = fields.text("name", limit=MAX_NAME, one_line=True)
    password = fields.secret("password", limit=MAX_PASSWORD)
    confirm = fields.secret("confirm", limit=MAX_PASSWORD)
    try:
        fields.check(_("Please check the form."))
        user = await invitations.accept(
            session,
            settings=settings,
            token=_checked(token),
            name=name,
            password=password,
            confirm=confirm,
            now=clock(),
        )
    except Invalid as exc:
        return await form_error(session, exc, lambda error: _accept_page(session, clock, token, name, error))
    return await _logged_in(session, settings, clock, user, request)


async def _accept_page(
    session: DbSession, clock: AppClock, token: str, name: str, error: Invalid | None = None
) -> Template:
    invitation = await invitations.usable(session, token, clock())
    context = {
        "invitation": invitation,
        "name": name,
        "errors": error.errors if error else {},
        "token": token,
    }
    return Template("accounts/accept.html", context=context)


@get("/password/forgot", name="password_forgot")
async def forgot_page() -> Template:
    return Template("accounts/forgot.html", context={"sent": False, "email": ""})


@post("/password/forgot", name="password_forgot_submit")
async def forgot(
    request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, clock: AppClock
) -> Template:
    """Send a reset link if the address has an account; the answer, and its timing, is the same either way."""
    form = await request.form()
    email = str(form.get("email") or "").strip()[:320]
    now = clock()
    await reset.count_request(
        session, settings=settings, email=email, ip=client_ip(request, settings), now=now
    )
    # Looking the address up and queueing the link happen after the answer has gone.
    link = BackgroundTask(reset.send_link, request.app.state.db, settings=settings, email=email, now=now)
    return Template("accounts/forgot.html", context={"sent": True, "email": email}, background=link)


async def _reset_page(
    session: DbSession, clock: AppClock, token: str, error: Invalid | None = None
) -> Template:
    _, user = await reset.usable(session, _checked(token), clock())
    context = {"email": user.email, "errors": error.errors if error else {}, "token": token}
    return Template("accounts/reset.html", context=context)


@get("/password/reset/{token:str}", name="password_reset")
async def reset_page(session: DbSession, clock: AppClock, token: FromPath[str]) -> Template:
    return await _reset_page(session, clock, token)


@post("/password/reset/{token:str}", name="password_reset_submit")
async def reset_password(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    token: FromPath[str],
) -> Template | Redirect:
    """Set the new password; every session of the person ends, and they log in with it."""
    fields = FormFields(await request.form())
    password = fields.secret("password", limit=MAX_PASSWORD)
    confirm = fields.secret("confirm", limit=MAX_PASSWORD)
    try:
        fields.check(_("Please check the form."))
        await reset.reset_password(
            session, settings=settings, token=_checked(token), password=password, confirm=confirm, now=clock()
        )
    except Invalid as exc:
        return await form_error(session, exc, lambda error: _reset_page(session, clock, token, error))
    return redirect_to(request, "login", {"reset": 1})


async def _account_page(
    session: DbSession,
    settings: Settings,
    staff: CurrentStaff,
    *,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> Template:
    user = await session.get(User, staff.id)
    assert user is not None
    return Template(
        "accounts/account.html",
        context={
            "person": user,
            "errors": errors or {},
            "notice": notice,
            "kinds": [(key, EMAIL_TITLES[key]) for key in sorted(MUTABLE)],
            "time_zones": i18n.time_zone_choices(),
            "site_time_zone": settings.time_zone,
        },
    )


ACCOUNT_NOTICES = {
    "password": N_("Your password was changed; your other sessions have ended."),
    "notifications": N_("Saved."),
    "language": N_("Your language and time zone are saved."),
}


@get("/account", name="account", guards=[staff_only])
async def account(
    request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, staff: CurrentStaff
) -> Template:
    """Your password, language and time zone, and your email notifications."""
    notice = ACCOUNT_NOTICES.get(request.query_params.get("done", ""), "")
    return await _account_page(session, settings, staff, notice=_(notice) if notice else "")


@get("/account/password", name="account_password", guards=[staff_only])
async def password_page(session: DbSession, settings: AppSettings, staff: CurrentStaff) -> Template:
    """The first-login password change (and a short way to the change form)."""
    return await _account_page(session, settings, staff)


@post("/account/password", name="account_password_change", guards=[staff_only])
async def change_password(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
) -> Template | Redirect:
    fields = FormFields(await request.form())
    current = fields.secret("current", limit=MAX_PASSWORD)
    password = fields.secret("password", limit=MAX_PASSWORD)
    confirm = fields.secret("confirm", limit=MAX_PASSWORD)
    try:
        fields.check(_("Please check the form."))
        user = await reset.change_password(
            session, settings=settings, user_id=staff.id, current=current, password=password, confirm=confirm
        )
    except Invalid as exc:
        return await form_error(
            session, exc, lambda error: _account_page(session, settings, staff, errors=error.errors)
        )
    token = await sessions.start_session(
        session, user=user, settings=settings, now=clock(), user_agent=request.headers.get("user-agent", "")
    )
    return redirect_to(
        request, "account", {"done": "password"}, cookies=[sessions.session_cookie(token, settings)]
    )


@post("/account/notifications", name="account_notifications", guards=[staff_only])
async def notifications(request: Request[Any, Any, Any], session: DbSession, staff: CurrentStaff) -> Redirect:
    fields = FormFields(await request.form())
    wanted = set(fields.values("kinds"))
    await preferences.set_notifications(
        session,
        user_id=staff.id,
        mode=fields.raw("notify"),
        muted=[k for k in MUTABLE if k not in wanted],
    )
    return redirect_to(request, "account", {"done": "notifications"})


@post("/account/language", name="account_language", guards=[staff_only])
async def language(
    request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, staff: CurrentStaff
) -> Template | Redirect:
    """Save the language and time zone the pages are shown in; the next page uses them."""
    fields = FormFields(await request.form())
    locale = fields.text("locale", limit=16)
    time_zone = fields.text("time_zone", limit=64)
    try:
        fields.check(_("Please correct the fields marked below."))
        await preferences.set_language(session, user_id=staff.id, locale=locale, time_zone=time_zone)
    except Invalid as exc:
        return await form_error(
            session, exc, lambda error: _account_page(session, settings, staff, errors=error.errors)
        )
    return redirect_to(request, "account", {"done": "language"})


def create_router() -> Router:
    return Router(
        path="/",
        route_handlers=[
            invitation_page,
            accept_invitation,
            forgot_page,
            forgot,
            reset_page,
            reset_password,
            account,
            password_page,
            change_password,
            notifications,
            language,
        ],
    )
