"""Every route of the app, for anonymous visitors and for each staff role (docs/security.md C2).

The tables below say who may use each route; a route missing from them fails the test, so a new page cannot
ship without deciding who may see it.
"""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from tests.api.support import API_ACCESS, API_PUBLIC
from tests.conftest import csrf_of, make_client
from tests.review.support import staff_login, submit

STAFF = frozenset({"admin", "editor", "fact_checker"})

# Anyone may use these.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/apply"),
    ("POST", "/apply"),
    ("GET", "/apply/received/{public_id:str}"),
    ("GET", "/status/{public_id:str}"),
    ("POST", "/status/{public_id:str}/reply"),
    ("GET", "/status/{public_id:str}/withdraw"),
    ("POST", "/status/{public_id:str}/withdraw"),
    ("GET", "/status/{public_id:str}/data"),
    ("GET", "/status/{public_id:str}/erase"),
    ("POST", "/status/{public_id:str}/erase"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/invitations/{token:str}"),
    ("POST", "/invitations/{token:str}"),
    ("GET", "/password/forgot"),
    ("POST", "/password/forgot"),
    ("GET", "/password/reset/{token:str}"),
    ("POST", "/password/reset/{token:str}"),
    ("GET", "/unsubscribe/{token:str}"),
    # The local mail catcher: only when BYLINE_MAIL_CATCHER is on (never in production), a 404 otherwise.
    ("GET", "/mail-catcher"),
    ("GET", "/mail-catcher/{message_id:str}"),
    ("GET", "/mail-catcher/{message_id:str}/html"),
    ("POST", "/unsubscribe/{token:str}"),
    ("GET", "/static/{file_path:path}"),
    ("HEAD", "/static/{file_path:path}"),
    # Health checks, and the metrics scrape (its own rule: BYLINE_METRICS_NETWORKS or the metrics token).
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
}

# Staff routes and the roles that may use them.
ACCESS: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/logout"): STAFF,
    ("GET", "/account"): STAFF,
    ("GET", "/account/password"): STAFF,
    ("POST", "/account/password"): STAFF,
    ("POST", "/account/notifications"): STAFF,
    ("POST", "/account/language"): STAFF,
    ("GET", "/account/tokens"): STAFF,
    ("POST", "/account/tokens"): STAFF,
    ("POST", "/account/tokens/{token_id:int}/revoke"): STAFF,
    ("GET", "/admin/users"): frozenset({"admin"}),
    ("POST", "/admin/invitations"): frozenset({"admin"}),
    ("POST", "/admin/invitations/{invitation_id:int}/resend"): frozenset({"admin"}),
    ("POST", "/admin/invitations/{invitation_id:int}/revoke"): frozenset({"admin"}),
    ("GET", "/admin/users/{user_id:int}"): frozenset({"admin"}),
    ("POST", "/admin/users/{user_id:int}"): frozenset({"admin"}),
    ("POST", "/admin/users/{user_id:int}/deactivate"): frozenset({"admin"}),
    ("POST", "/admin/users/{user_id:int}/reactivate"): frozenset({"admin"}),
    ("GET", "/admin/content"): frozenset({"admin"}),
    ("POST", "/admin/content"): frozenset({"admin"}),
    ("GET", "/admin/webhooks"): frozenset({"admin"}),
    ("GET", "/admin/erasures"): frozenset({"admin"}),
    ("POST", "/admin/webhooks"): frozenset({"admin"}),
    ("POST", "/admin/webhooks/{webhook_id:int}/active"): frozenset({"admin"}),
    ("POST", "/admin/webhooks/{webhook_id:int}/delete"): frozenset({"admin"}),
    ("POST", "/admin/webhooks/deliveries/{delivery_id:int}/retry"): frozenset({"admin"}),
    ("GET", "/dashboard"): frozenset({"editor"}),
    ("GET", "/applications/{application_id:int}"): frozenset({"editor"}),
    ("POST", "/applications/{application_id:int}/move"): frozenset({"editor"}),
    ("POST", "/applications/{application_id:int}/assign"): frozenset({"editor"}),
    ("POST", "/applications/{application_id:int}/notes"): frozenset({"editor"}),
    ("POST", "/applications/{application_id:int}/labels"): frozenset({"editor"}),
    ("POST", "/applications/{application_id:int}/score"): frozenset({"editor"}),
    ("POST", "/dashboard/bulk"): frozenset({"editor"}),
    ("POST", "/dashboard/bulk/apply"): frozenset({"editor"}),
    ("GET", "/dashboard/export"): frozenset({"editor"}),
    ("GET", "/reports"): frozenset({"editor", "admin"}),
    ("GET", "/reports/export/{report:str}"): frozenset({"editor", "admin"}),
    ("GET", "/outbox"): frozenset({"editor", "admin"}),
    ("GET", "/outbox/{message_id:int}"): frozenset({"editor", "admin"}),
    ("POST", "/outbox/{message_id:int}/edit"): frozenset({"editor", "admin"}),
    ("POST", "/outbox/actions"): frozenset({"editor", "admin"}),
    ("GET", "/applications/{application_id:int}/samples/{sample_id:int}/file"): frozenset(
        {"editor", "fact_checker"}
    ),
    ("GET", "/applications/{application_id:int}/tasks/new"): frozenset({"editor"}),
    ("POST", "/applications/{application_id:int}/tasks"): frozenset({"editor"}),
    ("GET", "/tasks"): frozenset({"editor", "fact_checker"}),
    ("GET", "/tasks/{task_id:int}"): frozenset({"editor", "fact_checker"}),
    ("POST", "/tasks/{task_id:int}"): frozenset({"editor", "fact_checker"}),
    ("POST", "/tasks/{task_id:int}/reassign"): frozenset({"editor"}),
    ("POST", "/tasks/{task_id:int}/cancel"): frozenset({"editor"}),
}


def route_table(app: Litestar) -> set[tuple[str, str]]:
    routes = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method in route.methods:
                if method != "OPTIONS":
                    routes.add((method, route.path))
    return routes


def concrete(path: str, app_id: int) -> str:
    path = re.sub(r"\{application_id:int\}", str(app_id), path)
    path = re.sub(r"\{[a-z_]+:int\}", "1", path)
    return re.sub(r"\{[a-z_]+:(str|path)\}", "x", path)


async def test_every_route_is_either_public_or_has_an_access_rule(app):
    """The JSON API's routes have their own table (tests/api/support.py), checked with tokens in tests/api."""
    routes = route_table(app)
    api = set(API_ACCESS) | API_PUBLIC
    unknown = routes - PUBLIC - set(ACCESS) - api
    assert not unknown, f"routes with no access rule: {sorted(unknown)}"
    assert not (set(ACCESS) | PUBLIC | api) - routes, "rules for routes that no longer exist"


async def request(client, method: str, path: str, token: str):
    if method == "GET":
        return await client.get(path)
    return await client.post(path, data={"_csrf_token": token})


async def test_anonymous_requests_to_staff_routes_are_refused(app, db):
    async with make_client(app) as client:
        app_id = await submit(client, db)
        token = csrf_of((await client.get("/login")).text)
        for method, path in sorted(ACCESS):
            response = await request(client, method, concrete(path, app_id), token)
            if method == "GET":
                assert response.status_code == 303, path
                assert response.headers["location"].startswith("/login?next="), path
            else:
                assert response.status_code == 401, (method, path)


@pytest.mark.parametrize("role", sorted(STAFF))
async def test_each_role_reaches_only_its_routes(app, db, role):
    async with make_client(app) as client:
        app_id = await submit(client, db)
        await staff_login(client, db, f"{role}@desk.example", roles=(role,))
        token = csrf_of((await client.get("/apply")).text)
        for method, path in sorted(ACCESS):
            if path == "/logout":
                continue  # would end the session the loop runs in; covered by the login tests
            response = await request(client, method, concrete(path, app_id), token)
            if role in ACCESS[(method, path)]:
                assert response.status_code not in (401, 403), (role, method, path, response.status_code)
            else:
                assert response.status_code == 403, (role, method, path, response.status_code)
