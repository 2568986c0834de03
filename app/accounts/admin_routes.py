"""Admin pages: the staff list, invitations, roles and departments, deactivation."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts import admin, invitations
from app.accounts.guards import CurrentStaff, admin_only
from app.core import site
from app.core.errors import Invalid
from app.core.forms import FormFields, form_error
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.core.web import AppClock, AppSettings, DbSession, redirect_to

MAX_EMAIL = 320
MAX_NAME = 200


def _roles(fields: FormFields) -> list[str]:
    """The roles ticked; at least one is needed."""
    roles = [role for role in fields.values("roles") if role in invitations.ROLES]
    if not roles:
        fields.fail("roles", _("Choose at least one role."))
    return roles


async def _users_page(
    session: DbSession,
    clock: AppClock,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> Template:
    return Template(
        "accounts/users.html",
        context={
            "staff": await admin.staff_list(session),
            "invitations": await admin.pending_invitations(session, clock()),
            "departments": await site.list_departments(session),
            "values": values or {"roles": ["editor"], "departments": []},
            "errors": errors or {},
            "notice": notice,
            "now": clock(),
            "role_names": invitations.ROLE_NAMES,
        },
    )


NOTICES = {
    "invited": N_("Invitation sent."),
    "resent": N_("A new invitation link was sent; the old one no longer works."),
    "revoked": N_("Invitation withdrawn."),
    "saved": N_("Saved."),
    "deactivated": N_("Deactivated: their sessions have ended."),
    "reactivated": N_("Reactivated."),
}


@get("/admin/users", name="admin_users", guards=[admin_only])
async def users(request: Request[Any, Any, Any], session: DbSession, clock: AppClock) -> Template:
    """Staff, pending invitations and the form to invite someone."""
    notice = NOTICES.get(request.query_params.get("done", ""), "")
    return await _users_page(session, clock, notice=_(notice) if notice else "")


@post("/admin/invitations", name="admin_invite", guards=[admin_only])
async def invite(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
) -> Template | Redirect:
    """Invite a person by email with their roles and departments."""
    fields = FormFields(await request.form())
    email = fields.text("email", limit=MAX_EMAIL)
    if "@" not in email or any(c in email for c in "\r\n <>,"):
        fields.fail("email", _("Give the person's email address."))
    data = invitations.InviteInput(
        email=email,
        name=fields.text("name", limit=MAX_NAME, one_line=True),
        roles=_roles(fields),
        department_ids=fields.ids("departments"),
    )
    values = {"email": data.email, "name": data.name, "roles": data.roles, "departments": data.department_ids}
    try:
        fields.check(_("Please check the form."))
        await invitations.invite(session, settings=settings, data=data, by=staff, now=clock())
    except Invalid as exc:
        return await form_error(
            session, exc, lambda error: _users_page(session, clock, values=values, errors=error.errors)
        )
    return redirect_to(request, "admin_users", {"done": "invited"})


@post("/admin/invitations/{invitation_id:int}/resend", name="admin_invite_resend", guards=[admin_only])
async def resend(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    invitation_id: FromPath[int],
) -> Redirect:
    await invitations.resend(session, settings=settings, invitation_id=invitation_id, by=staff, now=clock())
    return redirect_to(request, "admin_users", {"done": "resent"})


@post("/admin/invitations/{invitation_id:int}/revoke", name="admin_invite_revoke", guards=[admin_only])
async def revoke(
    request: Request[Any, Any, Any], session: DbSession, clock: AppClock, invitation_id: FromPath[int]
) -> Redirect:
    await invitations.revoke(session, invitation_id=invitation_id, now=clock())
    return redirect_to(request, "admin_users", {"done": "revoked"})


async def _user_page(session: DbSession, user_id: int, *, errors: dict[str, str] | None = None) -> Template:
    user = await admin.get_user(session, user_id)
    return Template(
        "accounts/user.html",
        context={
            "person": user,
            "covered": await admin.department_ids(session, user_id),
            "departments": await site.list_departments(session),
            "role_names": invitations.ROLE_NAMES,
            "errors": errors or {},
        },
    )


@get("/admin/users/{user_id:int}", name="admin_user", guards=[admin_only])
async def user_page(session: DbSession, user_id: FromPath[int]) -> Template:
    """One person's roles, departments and status."""
    return await _user_page(session, user_id)


@post("/admin/users/{user_id:int}", name="admin_user_save", guards=[admin_only])
async def save_user(
    request: Request[Any, Any, Any], session: DbSession, user_id: FromPath[int]
) -> Template | Redirect:
    fields = FormFields(await request.form())
    roles = _roles(fields)
    try:
        fields.check(_("Please check the form."))
        await admin.update_user(session, user_id=user_id, roles=roles, departments=fields.ids("departments"))
    except Invalid as exc:
        return await form_error(session, exc, lambda error: _user_page(session, user_id, errors=error.errors))
    return redirect_to(request, "admin_users", {"done": "saved"})


@post("/admin/users/{user_id:int}/deactivate", name="admin_user_deactivate", guards=[admin_only])
async def deactivate(request: Request[Any, Any, Any], session: DbSession, user_id: FromPath[int]) -> Redirect:
    await admin.set_active(session, user_id=user_id, active=False)
    return redirect_to(request, "admin_users", {"done": "deactivated"})


@post("/admin/users/{user_id:int}/reactivate", name="admin_user_reactivate", guards=[admin_only])
async def reactivate(request: Request[Any, Any, Any], session: DbSession, user_id: FromPath[int]) -> Redirect:
    await admin.set_active(session, user_id=user_id, active=True)
    return redirect_to(request, "admin_users", {"done": "reactivated"})


async def _content_page(
    session: DbSession,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> Template:
    return Template(
        "accounts/content.html",
        context={
            "page": await site.content_page(session),
            "values": values,
            "errors": errors or {},
            "notice": notice,
            "text_limit": site.TEXT_LIMIT,
            "name_limit": site.NAME_LIMIT,
        },
    )


@get("/admin/content", name="admin_content", guards=[admin_only])
async def content(request: Request[Any, Any, Any], session: DbSession) -> Template:
    """The call text, the consent text and the names of departments and topics, in English and Russian."""
    saved = request.query_params.get("done") == "saved"
    return await _content_page(session, notice=_("Saved.") if saved else "")


@post("/admin/content", name="admin_content_save", guards=[admin_only])
async def save_content(
    request: Request[Any, Any, Any], session: DbSession, clock: AppClock
) -> Template | Redirect:
    form = await request.form()
    values = {str(key): str(value) for key, value in form.items() if isinstance(value, str)}
    errors = await site.save_content(session, values, clock())
    if errors:
        return await form_error(
            session,
            Invalid(_("Please check the form."), errors),
            lambda error: _content_page(session, values=values, errors=error.errors),
        )
    return redirect_to(request, "admin_content", {"done": "saved"})


def create_router() -> Router:
    return Router(
        path="/",
        route_handlers=[
            users,
            invite,
            resend,
            revoke,
            user_page,
            save_user,
            deactivate,
            reactivate,
            content,
            save_content,
        ],
    )
