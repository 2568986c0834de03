"""The JSON API through its real routes: the queue, one application, moves, notes, tasks and the outbox,
with the same services, events and emails as the HTML pages."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Claim, OutboxEmail, State, WebhookDelivery
from tests.factories import bearer, make_client, make_staff, page_form, staff_login, staff_token, submit
from tests.queries import outbox, stored


async def test_the_queue_lists_filters_searches_and_pages(app, client, db, editor_token):
    first = await submit(client, db, name="Amira Haddad", departments=["news"])
    second = await submit(client, db, name="Bruno Costa", departments=["analysis"])
    async with make_client(app) as api:
        listed = (await api.get("/api/v1/applications", headers=bearer(editor_token))).json()
        assert {item["id"] for item in listed["items"]} == {first, second}
        assert listed["page"] == 1 and listed["has_next"] is False
        assert listed["counts"]["submitted"] == 2
        assert listed["items"][0]["state_label"] == "Submitted"

        found = (
            await api.get("/api/v1/applications", params={"q": "bruno"}, headers=bearer(editor_token))
        ).json()
        assert [item["id"] for item in found["items"]] == [second]
        news = (await api.get("/api/v1/applications?department=news", headers=bearer(editor_token))).json()
        assert [item["id"] for item in news["items"]] == [first]
        assert (await api.get("/api/v1/applications?state=accepted", headers=bearer(editor_token))).json()[
            "items"
        ] == []
        by_name = (
            await api.get("/api/v1/applications?state=all&sort=name", headers=bearer(editor_token))
        ).json()
        assert [item["name"] for item in by_name["items"]] == ["Amira Haddad", "Bruno Costa"]
        empty_page = (await api.get("/api/v1/applications?page=2", headers=bearer(editor_token))).json()
        assert empty_page["items"] == [] and empty_page["page"] == 2

        for query, field in (
            ("state=nonsense", "state"),
            ("page=0", "page"),
            ("assignee=someone", "assignee"),
        ):
            bad = await api.get(f"/api/v1/applications?{query}", headers=bearer(editor_token))
            assert bad.status_code == 422, query
            assert bad.headers["content-type"].startswith("application/problem+json")
            assert set(bad.json()["errors"]) == {field}


async def test_one_application_with_samples_moves_and_timeline(app, client, db, editor_token):
    app_id = await submit(client, db, name="Amira Haddad")
    async with make_client(app) as api:
        response = await api.get(f"/api/v1/applications/{app_id}", headers=bearer(editor_token))
        missing = await api.get("/api/v1/applications/999999", headers=bearer(editor_token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["applicant"]["name"] == "Amira Haddad" and body["state"] == "submitted" and body["version"] == 1
    )
    assert body["samples"][0]["kind"] == "text" and body["samples"][0]["download_path"] is None
    assert {move["to"] for move in body["moves"]} == {"screening", "spam", "rejected"}
    assert any(item["text"] == "Application received" for item in body["timeline"])
    assert any(item["kind"] == "email" and item["email_status"] == "queued" for item in body["timeline"])
    assert missing.status_code == 404 and missing.json()["status"] == 404


async def test_a_move_through_the_api_is_the_html_move(app, client, db, editor_token):
    """Same event on the HTML timeline, same emails queued, as the application page's own move."""
    by_page = await submit(client, db)
    by_api = await submit(client, db)
    await staff_login(client, db, "page-editor@desk.example", name="Page Editor")
    message = "Which of your pieces were edited by others?"

    _, hidden = await page_form(client, by_page)
    await client.post(f"/applications/{by_page}/move", data={**hidden, "to": "screening"})
    _, hidden = await page_form(client, by_page)
    done = await client.post(
        f"/applications/{by_page}/move", data={**hidden, "to": "info_requested", "message": message}
    )
    assert done.status_code == 303
    async with make_client(app) as api:
        first = await api.post(
            f"/api/v1/applications/{by_api}/moves", json={"to": "screening"}, headers=bearer(editor_token)
        )
        assert first.status_code == 201, first.text
        assert first.json()["from_state"] == "submitted" and first.json()["to_state"] == "screening"
        second = await api.post(
            f"/api/v1/applications/{by_api}/moves",
            json={"to": "info_requested", "message": message, "version": first.json()["version"]},
            headers=bearer(editor_token),
        )
        assert second.status_code == 201, second.text

    assert (await stored(db, by_api)).state == (await stored(db, by_page)).state == State.info_requested

    def mail(rows: list[OutboxEmail]) -> list[tuple[str, str, str]]:
        return [(m.template, m.status, m.context.get("message", "")) for m in rows]

    assert mail(await outbox(db, by_api)) == mail(await outbox(db, by_page))
    assert ("applicant_info_requested", "queued", message) in mail(await outbox(db, by_api))

    page, _ = await page_form(client, by_api)
    timeline = page[page.index('id="timeline"') :]
    assert "Screening → Info requested" in timeline and "Api Editor" in timeline and message in timeline


async def test_a_stale_or_illegal_move_is_a_409_and_changes_nothing(app, db, editor_token, app_id):
    async with make_client(app) as api:
        moved = await api.post(
            f"/api/v1/applications/{app_id}/moves",
            json={"to": "screening", "version": 1},
            headers=bearer(editor_token),
        )
        assert moved.status_code == 201
        stale = await api.post(
            f"/api/v1/applications/{app_id}/moves",
            json={"to": "rejected", "reason": "Off topic", "version": 1},
            headers=bearer(editor_token),
        )
        illegal = await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "submitted"}, headers=bearer(editor_token)
        )
        guarded = await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "fact_check"}, headers=bearer(editor_token)
        )
        no_reason = await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "rejected"}, headers=bearer(editor_token)
        )
        unknown_state = await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "promoted"}, headers=bearer(editor_token)
        )
        unknown_app = await api.post(
            "/api/v1/applications/999999/moves", json={"to": "screening"}, headers=bearer(editor_token)
        )
        not_json = await api.post(
            f"/api/v1/applications/{app_id}/moves",
            content=b"{nope",
            headers={**bearer(editor_token), "Content-Type": "application/json"},
        )
    assert stale.status_code == 409 and "changed this application" in stale.json()["detail"]
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert illegal.status_code == 409 and "cannot be moved" in illegal.json()["detail"]
    # The body fits the document; the application has no task to check yet: a rule of the desk, 409.
    assert guarded.status_code == 409 and "task_claims" in guarded.json()["errors"]
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["errors"]
    assert unknown_state.status_code == 422
    assert unknown_app.status_code == 404
    assert not_json.status_code == 400 and not_json.json()["status"] == 400
    application = await stored(db, app_id)
    assert application.state == State.screening and application.version == 2


async def test_moving_to_fact_check_with_a_task_then_completing_it(app, db, editor_token, app_id):
    checker_id, checker_token = await staff_token(
        app, db, "checker@desk.example", roles=("fact_checker",), name="Fay Checker"
    )
    async with make_client(app) as api:
        await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(editor_token)
        )
        moved = await api.post(
            f"/api/v1/applications/{app_id}/moves",
            json={
                "to": "fact_check",
                "task": {
                    "assignee_id": checker_id,
                    "claims": ["The call lasted an hour.", "They met in 2019."],
                },
            },
            headers=bearer(editor_token),
        )
        assert moved.status_code == 201, moved.text
        mine = (await api.get("/api/v1/tasks", headers=bearer(checker_token))).json()
        rows = mine["overdue"] + mine["due_soon"] + mine["later"]
        assert len(rows) == 1 and rows[0]["claims"] == 2
        task_id = rows[0]["id"]
        task = (await api.get(f"/api/v1/tasks/{task_id}", headers=bearer(checker_token))).json()
        claims = task["claims"]
        assert [c["quote"] for c in claims] == ["The call lasted an hour.", "They met in 2019."]

        first_only = [{"claim_id": claims[0]["id"], "verdict": "accurate"}]
        # Completing without an overall verdict does not match the document (422); without a verdict for the
        # task's other claim it does, and the desk's rule refuses it (409).
        no_overall = await api.put(
            f"/api/v1/tasks/{task_id}/work",
            json={"claims": first_only, "complete": True},
            headers=bearer(checker_token),
        )
        assert no_overall.status_code == 422 and set(no_overall.json()["errors"]) == {"overall_verdict"}
        incomplete = await api.put(
            f"/api/v1/tasks/{task_id}/work",
            json={"claims": first_only, "overall_verdict": "accurate", "complete": True},
            headers=bearer(checker_token),
        )
        assert incomplete.status_code == 409
        assert f"verdict-{claims[1]['id']}" in incomplete.json()["errors"]
        bad_source = await api.put(
            f"/api/v1/tasks/{task_id}/work",
            json={"claims": [{"claim_id": claims[0]["id"], "sources": ["ftp://x"]}]},
            headers=bearer(checker_token),
        )
        assert bad_source.status_code == 422
        foreign = await api.put(
            f"/api/v1/tasks/{task_id}/work",
            json={"claims": [{"claim_id": 999999}]},
            headers=bearer(checker_token),
        )
        assert foreign.status_code == 409
        by_editor = await api.put(f"/api/v1/tasks/{task_id}/work", json={}, headers=bearer(editor_token))
        assert by_editor.status_code == 403

        work = {
            "claims": [
                {"claim_id": claims[0]["id"], "verdict": "accurate", "sources": ["https://example.org/a"]},
                {"claim_id": claims[1]["id"], "verdict": "misleading", "note": "It was 2018."},
            ],
            "overall_verdict": "misleading",
            "summary": "One date is off.",
            "complete": True,
        }
        done = await api.put(f"/api/v1/tasks/{task_id}/work", json=work, headers=bearer(checker_token))
        assert done.status_code == 200, done.text
        assert done.json()["state"] == "done" and done.json()["claims"][1]["verdict"] == "misleading"
        again = await api.put(f"/api/v1/tasks/{task_id}/work", json=work, headers=bearer(checker_token))
        assert again.status_code == 409

        decided = await api.post(
            f"/api/v1/applications/{app_id}/moves",
            json={"to": "accepted", "message": "Welcome!"},
            headers=bearer(editor_token),
        )
        assert decided.status_code == 201, decided.text
    async with db.sessionmaker() as session:
        stored_claims = (await session.scalars(select(Claim).order_by(Claim.position))).all()
        assert [c.verdict for c in stored_claims] == ["accurate", "misleading"]
        assert stored_claims[0].sources == ["https://example.org/a"]
    templates = [m.template for m in await outbox(db, app_id)]
    assert "staff_task_assigned" in templates and "staff_task_completed" in templates
    assert "applicant_decision" in templates


async def test_notes_and_tasks_through_the_api(app, client, db, editor_token, app_id):
    checker = await make_staff(db, email="fc@desk.example", roles=("fact_checker",), name="Fay")
    async with make_client(app) as api:
        note = await api.post(
            f"/api/v1/applications/{app_id}/notes",
            json={"text": "Strong on sources."},
            headers=bearer(editor_token),
        )
        assert note.status_code == 201 and note.json()["text"] == "Strong on sources."
        empty = await api.post(
            f"/api/v1/applications/{app_id}/notes", json={"text": ""}, headers=bearer(editor_token)
        )
        assert empty.status_code == 422
        blank = await api.post(
            f"/api/v1/applications/{app_id}/notes", json={"text": "  "}, headers=bearer(editor_token)
        )
        assert blank.status_code == 422 and "text" in blank.json()["errors"]
        created = await api.post(
            f"/api/v1/applications/{app_id}/tasks",
            json={"assignee_id": checker, "claims": ["A claim."], "due_at": "2099-01-01T12:00:00Z"},
            headers=bearer(editor_token),
        )
        assert created.status_code == 201, created.text
        assert created.json()["assignee"]["name"] == "Fay" and created.json()["state"] == "open"
        naive = await api.post(
            f"/api/v1/applications/{app_id}/tasks",
            json={"assignee_id": checker, "claims": ["A claim."], "due_at": "2099-01-01T12:00:00"},
            headers=bearer(editor_token),
        )
        assert naive.status_code == 422
        not_a_checker = await api.post(
            f"/api/v1/applications/{app_id}/tasks",
            json={"assignee_id": 999999, "claims": ["A claim."]},
            headers=bearer(editor_token),
        )
        assert not_a_checker.status_code == 409 and "task_assignee" in not_a_checker.json()["errors"]
        detail = (await api.get(f"/api/v1/applications/{app_id}", headers=bearer(editor_token))).json()
    assert [n["text"] for n in detail["notes"]] == ["Strong on sources."]
    assert detail["notes"][0]["author"] == "Api Editor"
    assert [t["assignee"] for t in detail["tasks"]] == ["Fay"]
    await staff_login(client, db, "page-editor@desk.example")
    page, _ = await page_form(client, app_id)
    assert "Strong on sources." in page


async def test_a_task_on_a_closed_application_is_a_409(app, db, editor_token, app_id):
    checker = await make_staff(db, email="fc@desk.example", roles=("fact_checker",))
    async with make_client(app) as api:
        await api.post(
            f"/api/v1/applications/{app_id}/moves",
            json={"to": "rejected", "reason": "x"},
            headers=bearer(editor_token),
        )
        response = await api.post(
            f"/api/v1/applications/{app_id}/tasks",
            json={"assignee_id": checker, "claims": ["c"]},
            headers=bearer(editor_token),
        )
    assert response.status_code == 409


async def test_the_outbox_lists_messages_with_filters(app, db, app_id):
    _, token = await staff_token(app, db, "admin@desk.example", roles=("admin",))
    async with make_client(app) as api:
        listed = (await api.get("/api/v1/outbox", headers=bearer(token))).json()
        assert [item["template"] for item in listed["items"]] == ["applicant_received"]
        assert listed["items"][0]["application_id"] == app_id and listed["next_before"] is None
        assert listed["counts"] == {"queued": 1}
        assert (await api.get("/api/v1/outbox?status=sent", headers=bearer(token))).json()["items"] == []
        assert (await api.get("/api/v1/outbox?status=bogus", headers=bearer(token))).status_code == 422


async def test_the_workflow_table_is_the_one_in_code(app, db):
    from app.core.workflow import MOVES

    _, token = await staff_token(app, db, "fc@desk.example", roles=("fact_checker",))
    async with make_client(app) as api:
        table = (await api.get("/api/v1/workflow", headers=bearer(token))).json()
    assert len(table) == len(MOVES)
    assert {"source": "screening", "target": "fact_check"}.items() <= next(
        m for m in table if m["target"] == "fact_check"
    ).items()


async def test_nul_characters_are_refused_before_the_database(app, editor_token, app_id):
    async with make_client(app) as api:
        in_query = await api.get("/api/v1/applications?department=a%00b", headers=bearer(editor_token))
        in_body = await api.post(
            f"/api/v1/applications/{app_id}/notes", json={"text": "a\x00b"}, headers=bearer(editor_token)
        )
    assert in_query.status_code == 422 and in_body.status_code == 422


async def test_state_changes_queue_nothing_for_webhooks_when_there_are_none(app, db, editor_token, app_id):
    async with make_client(app) as api:
        await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(editor_token)
        )
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(WebhookDelivery))).all() == []
