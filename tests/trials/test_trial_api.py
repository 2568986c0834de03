"""The trials in the JSON API: an application's trials with the brief, the piece, its checks as stored and the
fee; a fee's next step for finance and admin tokens with the rules of the pages (one step at a time, 409 when
someone moved it first), strict input, and both in the OpenAPI document."""

from __future__ import annotations

from sqlalchemy import update

from app.models import TrialPiece
from tests.factories import accept_fee, bearer, insert_trial, make_client, staff_token
from tests.queries import fee_of


async def test_an_application_s_trials_show_the_brief_the_piece_its_checks_and_the_fee(
    app, client, db, app_id, editor
):
    trial_id = await insert_trial(
        db, app_id, fee_kind="per_word", fee_amount_minor=2_000, fee_cap_minor=1_000_000
    )
    checks = {"words": {"count": 850, "min": 600, "max": 1200, "within": True}, "late": False}
    async with db.write_session() as session:
        await session.execute(update(TrialPiece).where(TrialPiece.trial_id == trial_id).values(checks=checks))
    assert (await accept_fee(client, trial_id)).status_code == 303
    _, token = await staff_token(app, db, "reader@desk.example", roles=("editor",))
    async with make_client(app) as api:
        answer = await api.get(f"/api/v1/applications/{app_id}/trials", headers=bearer(token))
        missing = await api.get("/api/v1/applications/999999/trials", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    [trial] = answer.json()
    assert trial["id"] == trial_id and trial["state"] == "submitted"
    brief = trial["brief"]
    assert brief["topic"].startswith("The new harbour budget")
    assert (brief["min_words"], brief["max_words"], brief["deadline_firm"]) == (600, 1200, True)
    assert (brief["fee_kind"], brief["fee_amount"], brief["fee_cap"], brief["currency"]) == (
        "per_word",
        "20.00",
        "10000.00",
        "RUB",
    )
    piece = trial["piece"]
    assert piece["is_final"] and piece["word_count"] == 850 and piece["kind"] == "text"
    assert piece["text"].startswith("The council approved") and piece["checks"] == checks
    fee = trial["fee"]
    assert (fee["status"], fee["amount"], fee["amount_minor"], fee["currency"]) == (
        "agreed",
        "10000.00",
        1_000_000,
        "RUB",
    )
    assert [step["status"] for step in fee["steps"]] == ["agreed"]
    assert fee["steps"][0]["by"] == {"id": editor, "name": "Eda Editor"}
    assert missing.status_code == 404


async def test_finance_moves_a_fee_through_the_api_one_step_at_a_time(app, client, db, app_id, editor):
    trial_id = await insert_trial(db, app_id)
    await accept_fee(client, trial_id)
    finance_id, finance = await staff_token(
        app, db, "fay@desk.example", name="Fay Finance", roles=("finance",)
    )
    _, editor_token = await staff_token(app, db, "ed2@desk.example", roles=("editor",))
    url = f"/api/v1/trials/{trial_id}/fee/status"
    async with make_client(app) as api:
        refused = await api.post(
            url, json={"current": "agreed", "status": "invoiced"}, headers=bearer(editor_token)
        )
        assert refused.status_code == 403
        skipped = await api.post(url, json={"current": "agreed", "status": "paid"}, headers=bearer(finance))
        assert skipped.status_code == 422 and "status" in skipped.json()["errors"]
        loose = await api.post(
            url, json={"current": "agreed", "status": "invoiced", "by": 1}, headers=bearer(finance)
        )
        assert loose.status_code == 422
        moved = await api.post(
            url,
            json={"current": "agreed", "status": "invoiced", "note": "Invoice 2026-117"},
            headers=bearer(finance),
        )
        assert moved.status_code == 201, moved.text
        body = moved.json()
        assert body["status"] == "invoiced" and body["note"] == "Invoice 2026-117"
        assert body["steps"][-1]["by"] == {"id": finance_id, "name": "Fay Finance"}
        stale = await api.post(url, json={"current": "agreed", "status": "invoiced"}, headers=bearer(finance))
        assert stale.status_code == 409 and stale.json()["status"] == 409
        no_fee = await api.post(
            f"/api/v1/trials/{await insert_trial(db, app_id)}/fee/status",
            json={"current": "agreed", "status": "invoiced"},
            headers=bearer(finance),
        )
        assert no_fee.status_code == 404
        trials = await api.get(f"/api/v1/applications/{app_id}/trials", headers=bearer(finance))
        assert trials.status_code == 200
    assert (await fee_of(db, trial_id)).status == "invoiced"


async def test_the_openapi_document_describes_the_trial_routes(app):
    async with make_client(app) as api:
        document = (await api.get("/api/v1/openapi.json")).json()
    assert "/api/v1/applications/{application_id}/trials" in document["paths"]
    operation = document["paths"]["/api/v1/trials/{trial_id}/fee/status"]["post"]
    assert {"403", "404", "409", "422"} <= set(operation["responses"])
    body = document["components"]["schemas"]["FeeMoveIn"]
    assert body["additionalProperties"] is False and body["allOf"]
    assert "finance" in document["components"]["schemas"]["Me"]["properties"]["roles"]["items"]["enum"]
