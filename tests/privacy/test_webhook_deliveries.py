"""Erasure and webhooks: delivered notices about the erased application go; others stay."""

from __future__ import annotations

import json

from app.main import webhook_sender
from app.models import EmailStatus
from tests.factories import add_webhook, csrf_of, make_client, page_form, staff_login, submit
from tests.queries import stored, webhook_deliveries


def about(delivery) -> tuple[int, str]:
    data = json.loads(delivery.body)["data"]
    return data["application_id"], data["to_state"]


async def test_erasure_deletes_the_delivered_webhook_deliveries_about_the_application(
    app, client, db, settings, receiver
):
    await staff_login(client, db, "admin@desk.example", roles=("admin", "editor"))
    await add_webhook(client, receiver.url)
    erased, kept = await submit(client, db), await submit(client, db)
    for app_id in (erased, kept):
        _, hidden = await page_form(client, app_id)
        assert (
            await client.post(f"/applications/{app_id}/assign", data={**hidden, "assignee": "me"})
        ).status_code == 303
    assert await webhook_sender(db, settings, clock=app.state.clock).run_once() == 2
    assert {d.status for d in await webhook_deliveries(db)} == {EmailStatus.sent}

    status_url = f"/status/{(await stored(db, erased)).public_id}"
    async with make_client(app) as applicant:
        page = await applicant.get(f"{status_url}/erase")
        response = await applicant.post(f"{status_url}/erase", data={"_csrf_token": csrf_of(page.text)})
        assert response.status_code == 303
    left = await webhook_deliveries(db)
    assert sorted(about(d) for d in left) == sorted([(kept, "screening"), (erased, "withdrawn")])
    # The withdrawal that came with the erasure is still told, with ids and states only.
    [withdrawal] = [d for d in left if about(d)[0] == erased]
    assert withdrawal.status == EmailStatus.queued
    assert set(json.loads(withdrawal.body)["data"]) == {
        "application_id",
        "application_url",
        "event_id",
        "from_state",
        "to_state",
        "actor",
        "actor_user_id",
        "version",
        "at",
    }
