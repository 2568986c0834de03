"""Who may use each API route: anonymous callers get 401, each role only its routes (403 otherwise) and there
exactly the answer written for a real call (200, 201), and a fact-checker reaches only their own tasks (404 for
anyone else's), as on the HTML pages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.models import State
from tests.api.support import API_ACCESS, API_PUBLIC, STAFF, route_table
from tests.factories import (
    accept_fee,
    bearer,
    create_task,
    insert_trial,
    make_client,
    make_staff,
    staff_login,
    staff_token,
)

# What a call of a role that may use the route sends, and the answer it gets (one status, or one per role).
CALLS: dict[tuple[str, str], tuple[dict[str, Any], int | dict[str, int]]] = {
    ("GET", "/api/v1/me"): ({}, 200),
    ("GET", "/api/v1/workflow"): ({}, 200),
    ("GET", "/api/v1/applications"): ({}, 200),
    ("GET", "/api/v1/applications/{application_id:int}"): ({}, 200),
    ("POST", "/api/v1/applications/{application_id:int}/moves"): ({"to": "screening"}, 201),
    ("POST", "/api/v1/applications/{application_id:int}/notes"): ({"text": "Sound sources."}, 201),
    ("POST", "/api/v1/applications/{application_id:int}/tasks"): (
        {"assignee_id": "{checker}", "claims": ["The call took place on Monday."]},
        201,
    ),
    ("GET", "/api/v1/tasks"): ({}, 200),
    ("GET", "/api/v1/tasks/{task_id:int}"): ({}, 200),
    # Editors read every task, but only the task's own fact-checker records verdicts.
    ("PUT", "/api/v1/tasks/{task_id:int}/work"): ({}, {"fact_checker": 200, "editor": 403}),
    ("GET", "/api/v1/outbox"): ({}, 200),
    ("GET", "/api/v1/applications/{application_id:int}/trials"): ({}, 200),
    ("POST", "/api/v1/trials/{trial_id:int}/fee/status"): ({"current": "agreed", "status": "invoiced"}, 201),
}


def concrete(path: str, app_id: int, task_id: int = 1, trial_id: int = 1) -> str:
    path = path.replace("{application_id:int}", str(app_id)).replace("{task_id:int}", str(task_id))
    path = path.replace("{trial_id:int}", str(trial_id))
    return re.sub(r"\{[a-z_]+:int\}", "1", path)


async def call(client, method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None = None):
    if method == "GET":
        return await client.get(path, headers=headers)
    return await client.request(method, path, json=body or {}, headers=headers)


async def test_every_api_route_has_an_access_rule(app):
    api_routes = {route for route in route_table(app) if route[1].startswith("/api/")}
    assert api_routes == set(API_ACCESS) | API_PUBLIC


async def test_anonymous_api_calls_are_401_problems(app, app_id):
    async with make_client(app) as api:
        for method, path in sorted(API_ACCESS):
            response = await call(api, method, concrete(path, app_id), {})
            assert response.status_code == 401, (method, path)
            assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_openapi_document_and_reference_are_public(app):
    async with make_client(app) as api:
        document = await api.get("/api/v1/openapi.json")
        reference = await api.get("/api/v1/docs")
    assert document.status_code == 200
    assert set(document.json()["paths"]) == {re.sub(r":int\}", "}", path) for _, path in API_ACCESS}, (
        "the document covers exactly the API's routes"
    )
    assert (
        reference.status_code == 200 and "POST /api/v1/applications/{application_id}/moves" in reference.text
    )


@pytest.mark.parametrize("role", sorted(STAFF))
async def test_each_role_gets_its_answer_on_its_api_routes_and_403_on_the_others(app, db, role, app_id):
    me, token = await staff_token(app, db, f"{role}@desk.example", roles=(role,))
    async with make_client(app) as chief:
        await staff_login(chief, db, "chief@desk.example", roles=("editor",))
        checker = (
            me
            if role == "fact_checker"
            else await make_staff(db, email="fc@desk.example", roles=("fact_checker",))
        )
        task_id = await create_task(chief, db, app_id, checker)
        trial_id = await insert_trial(db, app_id)
        assert (await accept_fee(chief, trial_id)).status_code == 303
    async with make_client(app) as api:
        for method, path in sorted(API_ACCESS):
            url = concrete(path, app_id, task_id, trial_id)
            if role in API_ACCESS[(method, path)]:
                template, answer = CALLS[(method, path)]
                body = {key: checker if value == "{checker}" else value for key, value in template.items()}
                response = await call(api, method, url, bearer(token), body)
                expected = answer if isinstance(answer, int) else answer[role]
                assert response.status_code == expected, (
                    role,
                    method,
                    path,
                    response.status_code,
                    response.text,
                )
            else:
                response = await call(api, method, url, bearer(token))
                assert response.status_code == 403, (role, method, path, response.status_code)
                assert response.json()["status"] == 403


async def test_every_api_route_has_a_call_to_make():
    assert set(CALLS) == set(API_ACCESS)


async def test_a_fact_checker_sees_only_their_own_tasks(app, db, app_id):
    mine_id, mine = await staff_token(app, db, "mine@desk.example", roles=("fact_checker",))
    other_id, other = await staff_token(app, db, "other@desk.example", roles=("fact_checker",))
    _, editor = await staff_token(app, db, "ed@desk.example", roles=("editor",))
    async with make_client(app) as api:
        created = await api.post(
            f"/api/v1/applications/{app_id}/tasks",
            json={"assignee_id": mine_id, "claims": ["A claim to check."]},
            headers=bearer(editor),
        )
        task_id = created.json()["id"]
        assert (await api.get(f"/api/v1/tasks/{task_id}", headers=bearer(mine))).status_code == 200
        assert (await api.get(f"/api/v1/tasks/{task_id}", headers=bearer(editor))).status_code == 200
        hidden = await api.get(f"/api/v1/tasks/{task_id}", headers=bearer(other))
        assert hidden.status_code == 404 and hidden.json()["status"] == 404
        work = await api.put(f"/api/v1/tasks/{task_id}/work", json={}, headers=bearer(other))
        assert work.status_code == 404
        listed = (await api.get("/api/v1/tasks", headers=bearer(other))).json()
        assert not any(listed[group] for group in ("overdue", "due_soon", "later", "completed", "created"))
        assert (await api.get(f"/api/v1/applications/{app_id}", headers=bearer(mine))).status_code == 403
    assert other_id != mine_id


async def test_an_editor_and_fact_checker_uses_both_roles(app, db, app_id):
    _, token = await staff_token(app, db, "both@desk.example", roles=("editor", "fact_checker"))
    async with make_client(app) as api:
        moved = await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(token)
        )
        assert moved.status_code == 201 and moved.json()["to_state"] == State.screening
        assert (await api.get("/api/v1/tasks", headers=bearer(token))).status_code == 200
        assert (await api.get("/api/v1/outbox", headers=bearer(token))).status_code == 200


async def test_an_admin_only_token_cannot_move_applications(app, db, app_id):
    await make_staff(db, email="spare-admin@desk.example", roles=("admin",))
    _, token = await staff_token(app, db, "admin@desk.example", roles=("admin",))
    async with make_client(app) as api:
        refused = await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(token)
        )
    assert refused.status_code == 403
    assert "role" in refused.json()["detail"]
