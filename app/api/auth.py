"""Who calls the API: a bearer token in `Authorization`, never the session cookie, and how often they may.

The API takes no cookies, so a page on another site cannot make a staff member's browser call it: that is why
the API needs no CSRF token. Each token may make `api_rate_per_minute` requests a minute (429 beyond).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from app.accounts.guards import current_staff
from app.api.tokens import load_token_user
from app.core import ratelimit
from app.core.db import Database
from app.core.web import Clock
from app.settings import Settings

API_PREFIX = "/api/"


def is_api(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith(API_PREFIX)


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def token_auth(db: Database, clock: Clock) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware that puts the token's StaffUser (or None) in `scope["user"]` on API paths.

    The token's id goes in `scope["auth"]`, where the rate limit finds it.
    """

    def middleware(app: ASGIApp) -> ASGIApp:
        async def authenticate(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP and is_api(scope):
                token = bearer_token(scope)
                found = await load_token_user(db, token, now=clock()) if token else None
                scope["user"], scope["auth"] = found if found else (None, None)
            await app(scope, receive, send)

        return authenticate

    return middleware


async def api_staff(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of every API route: a valid token (401 otherwise), within its rate limit (429 otherwise)."""
    current_staff(connection)
    settings: Settings = connection.app.state.settings
    db: Database = connection.app.state.db
    clock: Clock = connection.app.state.clock
    async with db.write_session() as session:
        await ratelimit.hit(
            session,
            key=ratelimit.bucket_key(settings, "api", str(connection.scope.get("auth"))),
            limit=settings.api_rate_per_minute,
            window_seconds=60,
            now=clock(),
            message="Too many API requests with this token: wait a minute and try again.",
        )
