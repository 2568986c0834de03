"""Trial events as webhook deliveries: each webhook is told of the events it chose (none chosen: every event),
a fee step queues "trial.fee_status_changed" in the step's transaction, and the real HTTP receiver gets it
signed, with ids, states and links only."""

from __future__ import annotations

import json
import re

import pytest

from app.core.outbound import TRIAL_EVENTS
from app.main import webhook_sender
from app.models import EmailStatus, Trial
from app.trials.events import trial_event
from tests.api.support import signed_correctly
from tests.factories import SECRET_RE, accept_fee, csrf_of, insert_trial, make_client, staff_login, step_fee
from tests.queries import webhook_deliveries


async def add_webhook_for(client, url: str, events: list[str]) -> str:
    """Add a webhook on /admin/webhooks told of `events` only; returns its secret."""
    page = await client.get("/admin/webhooks")
    assert all(f'value="{name}"' in page.text for name in TRIAL_EVENTS), "every trial event can be chosen"
    response = await client.post(
        "/admin/webhooks", data={"_csrf_token": csrf_of(page.text), "url": url, "events": events}
    )
    assert response.status_code == 200, response.text
    return SECRET_RE.search(response.text).group(1)


async def test_a_fee_step_is_delivered_to_the_webhooks_that_chose_it(
    app, client, db, settings, receiver, app_id
):
    await staff_login(client, db, "chief@desk.example", name="Chief", roles=("admin", "editor"))
    secret = await add_webhook_for(client, receiver.url, ["trial.fee_status_changed"])
    await add_webhook_for(client, "http://127.0.0.1:9/state-changes-only", ["application.state_changed"])
    page = await client.get("/admin/webhooks")
    assert "<code>trial.fee_status_changed</code>" in page.text

    trial_id = await insert_trial(db, app_id)
    assert (await accept_fee(client, trial_id)).status_code == 303
    async with make_client(app) as finance:
        await staff_login(finance, db, "fay@desk.example", roles=("finance",))
        assert (await step_fee(finance, trial_id, "agreed", "invoiced")).status_code == 303
    queued = await webhook_deliveries(db)
    assert [d.event for d in queued] == ["trial.fee_status_changed"] * 2, "only the webhook that chose it"

    sender = webhook_sender(db, settings, clock=app.state.clock)
    assert await sender.run_once() == 2
    assert {d.status for d in await webhook_deliveries(db)} == {EmailStatus.sent}
    assert len(receiver.requests) == 2
    payloads = []
    for headers, body in receiver.requests:
        assert signed_correctly(secret, headers, body)
        assert headers["x-byline-event"] == "trial.fee_status_changed"
        payloads.append(json.loads(body))
    payloads.sort(key=lambda payload: ["agreed", "invoiced"].index(payload["data"]["fee"]["status"]))
    first = payloads[0]
    assert first["type"] == "trial.fee_status_changed"
    data = first["data"]
    assert (data["trial_id"], data["application_id"], data["state"]) == (trial_id, app_id, "submitted")
    assert data["application_url"].endswith(f"/api/v1/applications/{app_id}")
    assert data["trials_url"].endswith(f"/api/v1/applications/{app_id}/trials")
    assert data["fee"] == {"status": "agreed", "amount": "15000.00", "currency": "RUB"}
    assert payloads[1]["data"]["fee"]["status"] == "invoiced"
    assert "Leyla" not in receiver.requests[0][1].decode(), "no names in a delivery"


async def test_a_webhook_that_chose_nothing_is_told_of_every_trial_event(
    app, client, db, settings, receiver, app_id
):
    await staff_login(client, db, "chief@desk.example", roles=("admin",))
    await add_webhook_for(client, receiver.url, [])
    trial_id = await insert_trial(db, app_id, state="offered")
    async with db.write_session() as session:
        trial = await session.get(Trial, trial_id)
        for name in TRIAL_EVENTS:
            await trial_event(session, settings, trial=trial, name=name, data={"note": name})
        with pytest.raises(ValueError):
            await trial_event(session, settings, trial=trial, name="trial.renamed")
    await webhook_sender(db, settings, clock=app.state.clock).run_once()
    received = sorted(json.loads(body)["type"] for _, body in receiver.requests)
    assert received == sorted(TRIAL_EVENTS)
    assert all(json.loads(body)["data"]["state"] == "offered" for _, body in receiver.requests)


async def test_a_webhook_for_state_changes_only_is_not_told_of_trial_events(
    app, client, db, settings, receiver, app_id
):
    await staff_login(client, db, "chief@desk.example", roles=("admin", "editor"))
    await add_webhook_for(client, receiver.url, ["application.state_changed", "not.an.event"])
    trial_id = await insert_trial(db, app_id)
    await accept_fee(client, trial_id)
    assert await webhook_deliveries(db) == []
    page = await client.get("/admin/webhooks")
    assert "not.an.event" not in page.text


async def test_an_admin_changes_the_events_of_a_webhook(app, client, db, settings, receiver, app_id):
    await staff_login(client, db, "chief@desk.example", roles=("admin", "editor"))
    await add_webhook_for(client, receiver.url, ["application.state_changed"])
    page = await client.get("/admin/webhooks")
    hook_id = re.search(r'action="/admin/webhooks/(\d+)/chosen-events"', page.text).group(1)
    saved = await client.post(
        f"/admin/webhooks/{hook_id}/chosen-events",
        data={"_csrf_token": csrf_of(page.text), "events": ["trial.fee_status_changed", "not.an.event"]},
    )
    assert saved.status_code == 303
    await accept_fee(client, await insert_trial(db, app_id))
    assert [d.event for d in await webhook_deliveries(db)] == ["trial.fee_status_changed"]
    page = await client.get("/admin/webhooks")
    assert 'value="trial.fee_status_changed" checked' in page.text and "not.an.event" not in page.text
