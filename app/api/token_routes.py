"""Your API tokens (/account/tokens): make one (shown once), see when each was last used, revoke it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts.guards import CurrentStaff, staff_only
from app.api import openapi, tokens
from app.core import links
from app.core.errors import Invalid
from app.core.forms import FormFields, form_error
from app.core.i18n import gettext as _
from app.core.web import AppClock, AppSettings, DbSession, redirect_to

PAGE = "api/tokens.html"


async def _page(
    session: DbSession,
    settings: AppSettings,
    staff: CurrentStaff,
    *,
    new_token: str = "",
    new_name: str = "",
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> Template:
    return Template(
        PAGE,
        context={
            "tokens": await tokens.list_tokens(session, staff.id),
            "new_token": new_token,
            "new_name": new_name,
            "errors": errors or {},
            "notice": notice,
            "me_url": links.absolute(settings, "api_me"),
            "docs_path": openapi.DOCS_PATH,
            "document_path": openapi.DOCUMENT_PATH,
        },
    )


@get("/account/tokens", name="api_tokens", guards=[staff_only])
async def tokens_page(
    request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, staff: CurrentStaff
) -> Template:
    """Your personal API tokens."""
    notice = _("Revoked: the token no longer works.") if request.query_params.get("done") == "revoked" else ""
    return await _page(session, settings, staff, notice=notice)


@post("/account/tokens", name="api_token_create", guards=[staff_only], status_code=200)
async def create_token(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
) -> Template:
    """Make a token and show it this once: only its hash is kept."""
    fields = FormFields(await request.form())
    name = fields.text("name", limit=tokens.MAX_NAME, one_line=True)
    try:
        fields.check(_("The name is too long."))
        row, token = await tokens.create_token(session, user_id=staff.id, name=name, now=clock())
    except Invalid as exc:
        return await form_error(
            session, exc, lambda error: _page(session, settings, staff, errors=error.errors, new_name=name)
        )
    return await _page(session, settings, staff, new_token=token, new_name=row.name)


@post("/account/tokens/{token_id:int}/revoke", name="api_token_revoke", guards=[staff_only])
async def revoke_token(
    request: Request[Any, Any, Any], session: DbSession, staff: CurrentStaff, token_id: FromPath[int]
) -> Redirect:
    """Revoke one of your tokens; it stops working at once."""
    await tokens.revoke_token(session, user_id=staff.id, token_id=token_id)
    return redirect_to(request, "api_tokens", {"done": "revoked"})


def create_router() -> Router:
    return Router(path="/", route_handlers=[tokens_page, create_token, revoke_token])
