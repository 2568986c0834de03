"""Admin page for outgoing webhooks (/admin/webhooks): add one (its secret shown once), turn it on or off,
delete it, and see and retry its deliveries."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts.guards import CurrentStaff, admin_only
from app.api import webhooks
from app.core.errors import Invalid
from app.core.forms import FormFields, form_error
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.core.outbound import EVENTS
from app.core.web import AppClock, AppSettings, DbSession, redirect_to

NOTICES = {
    "on": N_("The webhook is on."),
    "off": N_("The webhook is off: its queued deliveries fail until it is on again (then retry them)."),
    "deleted": N_("Deleted, with its deliveries."),
    "events": N_("The webhook's events are saved."),
    "retried": N_("Queued again."),
    "moved_on": N_("That delivery was no longer failed; nothing changed."),
}


async def _page(
    session: DbSession,
    *,
    created: tuple[str, str] | None = None,
    url: str = "",
    events: list[str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> Template:
    hooks = await webhooks.list_webhooks(session)
    return Template(
        "api/webhooks.html",
        context={
            "hooks": hooks,
            "urls": {hook.id: hook.url for hook, _ in hooks},
            "deliveries": await webhooks.recent_deliveries(session),
            "created": created,
            "url": url,
            "events": EVENTS,
            "chosen": events or [],
            "errors": errors or {},
            "notice": notice,
            "signature_header": webhooks.SIGNATURE_HEADER,
            "timestamp_header": webhooks.TIMESTAMP_HEADER,
        },
    )


@get("/admin/webhooks", name="admin_webhooks", guards=[admin_only])
async def webhooks_page(request: Request[Any, Any, Any], session: DbSession) -> Template:
    """Webhooks, their delivery counts and the latest deliveries."""
    notice = NOTICES.get(request.query_params.get("done", ""), "")
    return await _page(session, notice=_(notice) if notice else "")


@post("/admin/webhooks", name="admin_webhook_create", guards=[admin_only], status_code=200)
async def create_webhook(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
) -> Template:
    """Add a webhook; its signing secret is shown this once."""
    fields = FormFields(await request.form())
    url = fields.text("url", limit=webhooks.MAX_URL)
    events = webhooks.chosen_events(fields.values("events"))
    try:
        fields.check(_("Check the address."))
        hook, secret = await webhooks.create_webhook(
            session, settings=settings, url=url, by=staff, now=clock(), events=events
        )
    except Invalid as exc:
        return await form_error(
            session, exc, lambda error: _page(session, url=url, events=events, errors=error.errors)
        )
    return await _page(session, created=(hook.url, secret))


@post("/admin/webhooks/{webhook_id:int}/active", name="admin_webhook_active", guards=[admin_only])
async def toggle_webhook(
    request: Request[Any, Any, Any], session: DbSession, webhook_id: FromPath[int]
) -> Redirect:
    """Turn a webhook on or off."""
    active = FormFields(await request.form()).raw("active") == "on"
    await webhooks.set_active(session, webhook_id=webhook_id, active=active)
    return redirect_to(request, "admin_webhooks", {"done": "on" if active else "off"})


@post("/admin/webhooks/{webhook_id:int}/chosen-events", name="admin_webhook_events", guards=[admin_only])
async def webhook_events(
    request: Request[Any, Any, Any], session: DbSession, webhook_id: FromPath[int]
) -> Redirect:
    """Choose the events a webhook is told of (none ticked: every event)."""
    events = FormFields(await request.form()).values("events")
    await webhooks.set_events(session, webhook_id=webhook_id, events=events)
    return redirect_to(request, "admin_webhooks", {"done": "events"})


@post("/admin/webhooks/{webhook_id:int}/delete", name="admin_webhook_delete", guards=[admin_only])
async def delete_webhook(
    request: Request[Any, Any, Any], session: DbSession, webhook_id: FromPath[int]
) -> Redirect:
    await webhooks.delete_webhook(session, webhook_id=webhook_id)
    return redirect_to(request, "admin_webhooks", {"done": "deleted"})


@post("/admin/webhooks/deliveries/{delivery_id:int}/retry", name="admin_webhook_retry", guards=[admin_only])
async def retry_delivery(
    request: Request[Any, Any, Any], session: DbSession, clock: AppClock, delivery_id: FromPath[int]
) -> Redirect:
    """Queue a failed or dead delivery again."""
    done = await webhooks.retry_delivery(session, delivery_id=delivery_id, now=clock())
    return redirect_to(request, "admin_webhooks", {"done": "retried" if done else "moved_on"})


def create_router() -> Router:
    return Router(
        path="/",
        route_handlers=[
            webhooks_page,
            create_webhook,
            toggle_webhook,
            webhook_events,
            delete_webhook,
            retry_delivery,
        ],
    )
