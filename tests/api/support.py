"""Helpers for the API tests: tokens made through /account/tokens, and who may use each API route."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.core.db import Database
from tests.conftest import csrf_of, make_client
from tests.review.support import staff_login

TOKEN_RE = re.compile(r'id="token-value">([^<]+)<')
STAFF = frozenset({"admin", "editor", "fact_checker"})
ALL_STAFF = STAFF
EDITORS = frozenset({"editor"})

# The API's routes and the roles that may use them, as on their HTML pages (tests/accounts/test_route_access.py
# holds the rest of the app's routes).
API_ACCESS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/me"): STAFF,
    ("GET", "/api/v1/workflow"): STAFF,
    ("GET", "/api/v1/applications"): EDITORS,
    ("GET", "/api/v1/applications/{application_id:int}"): EDITORS,
    ("POST", "/api/v1/applications/{application_id:int}/moves"): EDITORS,
    ("POST", "/api/v1/applications/{application_id:int}/notes"): EDITORS,
    ("POST", "/api/v1/applications/{application_id:int}/tasks"): EDITORS,
    ("GET", "/api/v1/tasks"): frozenset({"editor", "fact_checker"}),
    ("GET", "/api/v1/tasks/{task_id:int}"): frozenset({"editor", "fact_checker"}),
    ("PUT", "/api/v1/tasks/{task_id:int}/work"): frozenset({"editor", "fact_checker"}),
    ("GET", "/api/v1/outbox"): frozenset({"editor", "admin"}),
}
# The OpenAPI document and its reference page: public.
API_PUBLIC = {
    ("GET", "/api/v1"),
    ("GET", "/api/v1/docs"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/{path:str}"),
}


async def create_token(client: AsyncTestClient[Litestar], name: str = "newsroom script") -> tuple[Any, str]:
    """Make a token on /account/tokens as the logged-in person; returns the page's response and the token."""
    page = await client.get("/account/tokens")
    assert page.status_code == 200, page.text
    response = await client.post("/account/tokens", data={"_csrf_token": csrf_of(page.text), "name": name})
    match = TOKEN_RE.search(response.text)
    assert response.status_code == 200 and match, response.text
    return response, match.group(1)


async def staff_token(
    app: Litestar, db: Database, email: str, *, roles: tuple[str, ...] = ("editor",), **kwargs: Any
) -> tuple[int, str]:
    """A staff member who made a token through the page (in a client of their own); their id and the token."""
    async with make_client(app) as client:
        user_id = await staff_login(client, db, email, roles=roles, **kwargs)
        _, token = await create_token(client)
    return user_id, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
