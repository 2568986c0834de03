"""The outbox page (every message and its status; held mail released; failures retried) and unsubscribing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts.guards import CurrentStaff, role_required
from app.core import site
from app.core.errors import Invalid
from app.core.forms import FormFields, form_error
from app.core.i18n import gettext as _
from app.core.i18n import ngettext
from app.core.outbound import EMAIL_TITLES, SEALED
from app.core.web import AppClock, AppSettings, DbSession, redirect_to
from app.mail import queries, service, unsubscribe
from app.mail.delivery import PAUSE_KEY
from app.mail.render import RenderError, render
from app.models import EmailStatus

outbox_staff = role_required("editor", "admin")
ACTIONS = {"release": service.release, "retry": service.retry, "cancel": service.cancel}


def _done(action: str, count: int) -> str:
    """What the last action did, for the notice at the top of the page."""
    if action == "release":
        return ngettext("Released %(num)s message.", "Released %(num)s messages.", count)
    if action == "retry":
        return ngettext("Queued %(num)s message again.", "Queued %(num)s messages again.", count)
    return ngettext("Cancelled %(num)s message.", "Cancelled %(num)s messages.", count)


async def _pause(session: DbSession, now: datetime) -> dict[str, Any] | None:
    """Why sending is paused and until when, while it is."""
    paused = await site.get_setting(session, PAUSE_KEY, None)
    if not isinstance(paused, dict):
        return None
    try:
        until = datetime.fromisoformat(str(paused.get("until")))
    except ValueError:
        return None
    return {"until": until, "reason": str(paused.get("reason", ""))} if until > now else None


@get("/outbox", name="outbox", guards=[outbox_staff])
async def outbox(request: Request[Any, Any, Any], session: DbSession, clock: AppClock) -> Template:
    """Messages newest first, filtered by status, kind, recipient or application."""
    filters = queries.OutboxFilters.from_query(dict(request.query_params))
    rows, next_id = await queries.list_messages(session, filters)
    done = request.query_params.get("done", "")
    count = request.query_params.get("n", "")
    return Template(
        "mail/outbox.html",
        context={
            "rows": rows,
            "next_id": next_id,
            "filters": filters,
            "counts": await queries.status_counts(session),
            "statuses": list(EmailStatus),
            "titles": EMAIL_TITLES,
            "status_label": queries.status_label,
            "notice": _done(done, int(count))
            if done in ACTIONS and count.isdigit() and len(count) < 10
            else "",
            "paused": await _pause(session, clock()),
        },
    )


async def _message_page(
    session: DbSession,
    settings: AppSettings,
    message_id: int,
    *,
    error: Invalid | None = None,
    text: str = "",
) -> Template:
    row = await service.get_message(session, message_id)
    sealed = row.template in SEALED
    try:
        built, problem = (None, "") if sealed else (render(row, settings), "")
    except RenderError as exc:
        built, problem = None, str(exc)
    return Template(
        "mail/message.html",
        context={
            "row": row,
            "title": EMAIL_TITLES.get(row.template, row.template),
            "status_label": queries.status_label,
            "subject": built["Subject"] if built else "",
            "text": built.get_body(("plain",)).get_content() if built else "",  # type: ignore[union-attr]
            "problem": problem,
            "sealed": sealed,
            "editable": row.status == EmailStatus.held and service.EDITABLE_KEY in row.context,
            "draft": text or row.context.get(service.EDITABLE_KEY, ""),
            "stamp": service.text_stamp(row),
            "errors": error.errors if error else {},
        },
        status_code=error.status_code if error else 200,
    )


@get("/outbox/{message_id:int}", name="outbox_message", guards=[outbox_staff])
async def message_page(session: DbSession, settings: AppSettings, message_id: FromPath[int]) -> Template:
    """One message as it will be (or was) sent."""
    return await _message_page(session, settings, message_id)


@post("/outbox/{message_id:int}/edit", name="outbox_edit", guards=[outbox_staff])
async def edit_message(
    request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, message_id: FromPath[int]
) -> Template | Redirect:
    """Change a held message's text before releasing it, unless someone else changed it first."""
    fields = FormFields(await request.form())
    text = fields.raw("message")
    row = await service.get_message(session, message_id)
    try:
        await service.edit_held(session, row=row, message=text, seen=fields.raw("seen"))
    except Invalid as exc:
        return await form_error(
            session, exc, lambda error: _message_page(session, settings, message_id, error=error, text=text)
        )
    return redirect_to(request, "outbox_message", message_id=message_id)


@post("/outbox/actions", name="outbox_actions", guards=[outbox_staff])
async def outbox_actions(
    request: Request[Any, Any, Any], session: DbSession, clock: AppClock, staff: CurrentStaff
) -> Redirect:
    """Release, retry or cancel the ticked messages (or the one a message page sends)."""
    form = await request.form()
    fields = FormFields(form)
    action = fields.raw("action")
    ids = fields.ids("ids")
    if action not in ACTIONS or not ids:
        raise Invalid(_("Tick at least one message and choose what to do."))
    if "seen" in form:
        # Sent from one message's page: act on that message only, and only on the text the page showed.
        ids = ids[:1]
        service.check_stamp(await service.get_message(session, ids[0]), fields.raw("seen"))
    count = await ACTIONS[action](session, ids=ids[:500], by=staff, now=clock())
    # Back to the page the form was on (the outbox or one of its messages), with what was done.
    outbox = request.app.route_reverse("outbox")
    back = fields.raw("back")
    target = back if back.startswith(outbox) and "//" not in back else outbox
    separator = "&" if "?" in target else "?"
    return Redirect(f"{target}{separator}{urlencode({'done': action, 'n': count})}", status_code=303)


@get("/unsubscribe/{token:str}", name="unsubscribe_page")
async def unsubscribe_page(session: DbSession, settings: AppSettings, token: FromPath[str]) -> Template:
    """What the link in a staff notification stops, with a button to confirm."""
    user, template = await unsubscribe.resolve(session, token, settings)
    context = {"user": user, "kind": unsubscribe.title(template), "token": token, "done": False}
    return Template("mail/unsubscribe.html", context=context)


@post("/unsubscribe/{token:str}", name="unsubscribe", exclude_from_csrf=True, status_code=200)
async def unsubscribe_now(session: DbSession, settings: AppSettings, token: FromPath[str]) -> Template:
    """Turn the kind off. Mail clients post here with no form token (RFC 8058): the link is signed."""
    user, template = await unsubscribe.resolve(session, token, settings)
    await unsubscribe.mute(session, user, template)
    context = {"user": user, "kind": unsubscribe.title(template), "token": token, "done": True}
    return Template("mail/unsubscribe.html", context=context)


def create_router() -> Router:
    return Router(
        path="/",
        route_handlers=[
            outbox,
            message_page,
            edit_message,
            outbox_actions,
            unsubscribe_page,
            unsubscribe_now,
        ],
    )
