"""How the API reads requests: hostile bodies are clear 400/422 problems, values are never coerced, bodies must
be sent as JSON (415), ids are written one way only, and the OpenAPI document refuses exactly what the server
refuses."""

from __future__ import annotations

import jsonschema_rs
import pytest

from app.models import State
from tests.factories import bearer, make_client, make_staff, staff_token, submit
from tests.queries import stored

JSON = {"Content-Type": "application/json"}


def _problem(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == response.status_code and body["detail"]
    return body


async def test_hostile_bodies_are_clear_problems_not_server_errors(app, db, editor_token, app_id):
    checker = await make_staff(db, email="fc@desk.example", roles=("fact_checker",))
    notes = f"/api/v1/applications/{app_id}/notes"
    headers = {**bearer(editor_token), **JSON}
    async with make_client(app) as api:
        for depth in (1_000, 100_000):
            nested = b'{"text": ' + b"[" * depth + b"]" * depth + b"}"
            _problem(await api.post(notes, content=nested, headers=headers), 400, 422)
            _problem(await api.post(notes, content=b"[" * depth + b"]" * depth, headers=headers), 400, 422)
        body = _problem(await api.post(notes, content=b'{"text": "caf\xe9 \xff"}', headers=headers), 400)
        assert "UTF-8" in body["detail"]
        overflow = await api.post(
            f"/api/v1/applications/{app_id}/tasks",
            json={"assignee_id": checker, "claims": ["A claim."], "due_at": "9999-12-31T23:59:59-23:59"},
            headers=bearer(editor_token),
        )
        assert set(_problem(overflow, 422)["errors"]) == {"due_at"}
        no_such_day = await api.post(
            f"/api/v1/applications/{app_id}/tasks",
            json={"assignee_id": checker, "claims": ["A claim."], "due_at": "2099-02-30T12:00:00Z"},
            headers=bearer(editor_token),
        )
        assert _problem(no_such_day, 422)["errors"] == {"due_at": "This day does not exist."}
        detail = (await api.get(f"/api/v1/applications/{app_id}", headers=bearer(editor_token))).json()
    assert detail["notes"] == [] and detail["tasks"] == []


async def test_values_are_never_coerced_and_unknown_fields_are_refused(app, db, editor_token, app_id):
    checker, checker_token = await staff_token(app, db, "fc@desk.example", roles=("fact_checker",))
    moves = f"/api/v1/applications/{app_id}/moves"
    async with make_client(app) as api:
        for body, field in (
            ({"to": "screening", "version": "1"}, "version"),
            ({"to": "screening", "version": True}, "version"),
            ({"to": "screening", "version": 1.5}, "version"),
            ({"to": "screening", "urgent": True}, "body"),
            ({"to": "rejected", "reason": "   "}, "reason"),
            ({"to": "screening", "message": "Hello\x00"}, "message"),
            ({"to": "screening", "task": {"assignee_id": checker, "claims": ["c"]}}, "task"),
        ):
            refused = await api.post(moves, json=body, headers=bearer(editor_token))
            assert set(_problem(refused, 422)["errors"]) == {field}, body
        assert (await stored(db, app_id)).version == 1
        for body, field in (
            ({"assignee_id": str(checker), "claims": ["A claim."]}, "assignee_id"),
            ({"assignee_id": checker, "claims": [""]}, "claims[0]"),
            ({"assignee_id": checker, "claims": [" \u3000\t"]}, "claims[0]"),
            ({"assignee_id": checker, "claims": ["A\x00claim"]}, "claims[0]"),
            ({"assignee_id": checker, "claims": ["A claim."], "priority": 1}, "body"),
        ):
            refused = await api.post(
                f"/api/v1/applications/{app_id}/tasks", json=body, headers=bearer(editor_token)
            )
            assert set(_problem(refused, 422)["errors"]) == {field}, body
        # 1.0 is the integer 1 in JSON Schema, and is read as one.
        moved = await api.post(moves, json={"to": "screening", "version": 1.0}, headers=bearer(editor_token))
        assert moved.status_code == 201, moved.text
        await api.post(
            moves,
            json={"to": "fact_check", "task": {"assignee_id": checker, "claims": ["c"]}},
            headers=bearer(editor_token),
        )
        task_id = (await api.get("/api/v1/tasks", headers=bearer(checker_token))).json()["later"][0]["id"]
        claim_id = (await api.get(f"/api/v1/tasks/{task_id}", headers=bearer(checker_token))).json()[
            "claims"
        ][0]["id"]
        work = f"/api/v1/tasks/{task_id}/work"
        for body, field in (
            ({"complete": 0}, "complete"),
            ({"complete": "true"}, "complete"),
            ({"claims": [{"claim_id": claim_id, "sources": [""]}]}, "claims[0].sources[0]"),
            ({"claims": [{"claim_id": claim_id, "sources": ["ftp://example.org"]}]}, "claims[0].sources[0]"),
            (
                {"claims": [{"claim_id": claim_id, "sources": ["https://example.org/a\n"]}]},
                "claims[0].sources[0]",
            ),
            ({"claims": [{"claim_id": claim_id, "note": "\x00"}]}, "claims[0].note"),
            ({"summary": "ok", "done": True}, "body"),
        ):
            refused = await api.put(work, json=body, headers=bearer(checker_token))
            assert set(_problem(refused, 422)["errors"]) == {field}, body
        task = (await api.get(f"/api/v1/tasks/{task_id}", headers=bearer(checker_token))).json()
    assert task["state"] == "open" and task["claims"][0]["sources"] == []


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        (None, 415),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("application/json; charset=latin-1", 415),
        ("application/jsonx", 415),
        ("application/json", 201),
        ("Application/JSON; charset=UTF-8", 201),
        ("application/vnd.byline+json", 201),
    ],
)
async def test_a_body_must_be_sent_as_json(app, content_type, status, editor_token, app_id):
    headers = bearer(editor_token) | ({"Content-Type": content_type} if content_type else {})
    async with make_client(app) as api:
        response = await api.post(
            f"/api/v1/applications/{app_id}/notes", content=b'{"text": "Checked."}', headers=headers
        )
    assert response.status_code == status, response.text
    if status == 415:
        assert "application/json" in _problem(response, 415)["detail"]


async def test_ids_are_read_only_as_the_api_writes_them(app, db, editor_token, app_id):
    arabic = str(app_id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    async with make_client(app) as api:
        assert (
            await api.get(f"/api/v1/applications/{app_id}", headers=bearer(editor_token))
        ).status_code == 200
        for written in (f"0{app_id}", f"+{app_id}", f"{app_id}_0", arabic):
            response = await api.get(f"/api/v1/applications/{written}", headers=bearer(editor_token))
            _problem(response, 404)
            moved = await api.post(
                f"/api/v1/applications/{written}/moves",
                json={"to": "screening"},
                headers=bearer(editor_token),
            )
            _problem(moved, 404)
        # Litestar's own OPTIONS answer has no route name to write the path with: it is left as it is.
        options = await api.options(f"/api/v1/applications/{app_id}/moves", headers=bearer(editor_token))
        assert options.status_code == 204 and "POST" in options.headers["allow"]
    assert (await stored(db, app_id)).state == State.submitted


def _validator(document: dict, name: str):
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


async def test_the_document_refuses_exactly_what_the_server_refuses(app, client, db, editor_token):
    """Each body through the document's schema and through the server: both accept it or both refuse it."""
    app_id = await submit(client, db)
    async with make_client(app) as api:
        document = (await api.get("/api/v1/openapi.json")).json()
        note = _validator(document, "NoteIn")
        for body in (
            {"text": "Fine."},
            {"text": ""},
            {"text": " \t\u2028"},
            {"text": "a\x00"},
            {"text": "a", "x": 1},
        ):
            response = await api.post(
                f"/api/v1/applications/{app_id}/notes", json=body, headers=bearer(editor_token)
            )
            assert note.is_valid(body) == (response.status_code == 201), (body, response.text)
        move = _validator(document, "MoveIn")
        for body in (
            {"to": "rejected"},
            {"to": "rejected", "reason": "\u3000"},
            {"to": "screening", "version": "1"},
            {"to": "screening", "task": {"assignee_id": 1, "claims": ["c"]}},
            {"to": "screening", "version": 1},
        ):
            response = await api.post(
                f"/api/v1/applications/{app_id}/moves", json=body, headers=bearer(editor_token)
            )
            assert move.is_valid(body) == (response.status_code != 422), (body, response.text)
    task, work = _validator(document, "TaskIn"), _validator(document, "TaskWorkIn")
    assert not task.is_valid({"assignee_id": 1, "claims": ["c"], "due_at": "9999-12-31T23:59:59-23:59"})
    assert not task.is_valid({"assignee_id": 1, "claims": ["c"], "due_at": "2099-02-30T12:00:00Z"})
    assert task.is_valid({"assignee_id": 1, "claims": ["c"], "due_at": "2099-02-28T12:00:00.5+05:30"})
    assert not work.is_valid({"claims": [{"claim_id": 1, "sources": ["https://example.org/a\n"]}]})
    assert not work.is_valid({"complete": True, "claims": [{"claim_id": 1, "verdict": "accurate"}]})
    assert work.is_valid(
        {"complete": True, "overall_verdict": "accurate", "claims": [{"claim_id": 1, "verdict": "accurate"}]}
    )
    for name in ("MoveIn", "TaskIn", "NoteIn", "TaskWorkIn", "ClaimWorkIn"):
        assert document["components"]["schemas"][name]["additionalProperties"] is False, name
    bodies = [
        operation["responses"]
        for path in document["paths"].values()
        for operation in path.values()
        if "requestBody" in operation
    ]
    assert bodies and all({"400", "415", "422"} <= set(responses) for responses in bodies)


def test_a_required_message_or_reason_depends_on_the_target_alone():
    """The document states these rules by target state: every editor move into a state must agree."""
    from app.api.schemas import MESSAGE_REQUIRED, REASON_REQUIRED
    from app.core.workflow import MOVES, Actor

    for move in MOVES:
        if move.actor == Actor.editor:
            assert move.message_required == (move.target in MESSAGE_REQUIRED), move
            assert move.reason_required == (move.target in REASON_REQUIRED), move
