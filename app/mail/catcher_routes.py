"""Reading the local mail catcher's messages in the browser (only when BYLINE_MAIL_CATCHER is on)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.params import FromPath
from litestar.response import Response, Template

from app.core.errors import NotFound
from app.core.i18n import gettext as _
from app.core.web import AppSettings
from app.mail import catcher

# The HTML part of a caught message is shown on its own, sandboxed: no scripts, no requests, nothing framed.
HTML_PART_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
)


def _on(settings: AppSettings) -> None:
    if not settings.mail_catcher:
        raise NotFound(_("The mail catcher is off (BYLINE_MAIL_CATCHER)."))


@get("/mail-catcher", name="mail_catcher")
async def caught(request: Request[Any, Any, Any], settings: AppSettings) -> Template:
    """Every message Byline sent while the catcher was on, newest first."""
    _on(settings)
    to = request.query_params.get("to", "")[:320]
    return Template("mail/catcher.html", context={"messages": catcher.listing(settings, to=to), "to": to})


@get("/mail-catcher/{message_id:str}", name="mail_catcher_message")
async def caught_message(settings: AppSettings, message_id: FromPath[str]) -> Template:
    _on(settings)
    message = catcher.read(settings, message_id)
    if message is None:
        raise NotFound(_("There is no such caught message."))
    return Template("mail/caught.html", context={"m": message})


@get("/mail-catcher/{message_id:str}/html", name="mail_catcher_html")
async def caught_html(settings: AppSettings, message_id: FromPath[str]) -> Response[str]:
    _on(settings)
    message = catcher.read(settings, message_id)
    if message is None or not message["html"]:
        raise NotFound(_("This message has no HTML part."))
    return Response(
        message["html"], media_type="text/html", headers={"Content-Security-Policy": HTML_PART_CSP}
    )


def create_router() -> Router:
    return Router(path="/", route_handlers=[caught, caught_message, caught_html])
