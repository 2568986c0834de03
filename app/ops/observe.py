"""Per-request observation: the request id, the access log line and the request metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from litestar._asgi.utils import wrap_in_exception_handler
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from app.ops.logs import request_id
from app.ops.metrics import Metrics
from app.settings import Settings

log = logging.getLogger("byline.access")
REQUEST_ID_HEADER = "X-Request-ID"
# Recorded for a client that went away before any response reached it (nginx's convention).
CLIENT_CLOSED = 499
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def incoming_request_id(scope: Scope, settings: Settings) -> str:
    """The proxy's X-Request-ID when a trusted proxy sent a sane one; a fresh id otherwise."""
    client = scope.get("client")
    if client and client[0] in settings.trusted_proxies:
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _SAFE_ID.fullmatch(candidate):
                    return candidate
    return uuid.uuid4().hex


def observe(settings: Settings, metrics: Metrics) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: sets the request id (echoed in the response), logs and counts the request.

    The log line and the metrics carry the route template, never the path (status links hold a secret id)
    or the query (search terms), and never a body. They carry the status the client got: errors raised by the
    middleware below (CSRF, allowed hosts, the body limit) are answered here, through this observation, and a
    client that disconnected before any answer is recorded as 499.
    """

    def middleware(app: ASGIApp) -> ASGIApp:
        # Without this, those errors would be answered by Litestar's outermost handler, after this middleware
        # has already logged a 500, and without the request id.
        inner = wrap_in_exception_handler(app)

        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            rid = incoming_request_id(scope, settings)
            token = request_id.set(rid)
            started = time.perf_counter()
            status = 500
            answered = False
            gone = False

            async def watch_receive() -> ReceiveMessage:
                nonlocal gone
                message = await receive()
                if message["type"] == "http.disconnect" and not answered:
                    gone = True
                return message

            async def send_with_id(message: Message) -> None:
                nonlocal status, answered
                if message["type"] == "http.response.start":
                    status = message["status"]
                    answered = not gone
                    MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = rid
                await send(message)

            try:
                await inner(scope, watch_receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                if gone and not answered:
                    status = CLIENT_CLOSED
                route = scope.get("path_template") or "unmatched"
                method = scope.get("method", "GET")
                metrics.observe(method, route, status, elapsed)
                ms = round(elapsed * 1000, 1)
                fields = {"method": method, "route": route, "status": status, "ms": ms}
                log.info("%s %s %s %.1f ms", method, route, status, ms, extra=fields)
                request_id.reset(token)

        return handle

    return middleware


def count_unrouted(metrics: Metrics) -> Callable[[Message, Scope], Awaitable[None]]:
    """A before-send hook counting answers Litestar gives before routing (404, 405), which skip middleware.

    A coroutine: Litestar runs a plain function hook in a worker thread, for every message of every response.
    """

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start" and "path_template" not in scope:
            metrics.observe(scope.get("method", "GET"), "unmatched", message["status"], None)

    return hook
