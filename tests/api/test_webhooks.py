"""Outgoing webhooks: the admin page, one signed delivery per state change, retries with the outbox's backoff,
failure and give-up, all against a real HTTP receiver on 127.0.0.1 that checks every signature."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient
from pydantic import SecretStr
from sqlalchemy import update

from app.main import create_app, webhook_sender
from app.models import EmailStatus, OutboxEmail, Webhook, WebhookDelivery
from app.settings import Settings
from tests.api.support import signed_correctly
from tests.factories import (
    SECRET_RE,
    add_webhook,
    bearer,
    csrf_of,
    make_client,
    staff_login,
    staff_token,
    submit,
)
from tests.mail.support import stop_process, until, worker_process
from tests.queries import count_rows, outbox, webhook_deliveries


async def test_a_state_change_is_delivered_signed_and_retried_after_a_500(
    app, client, db, settings, receiver, admin
):
    secret = await add_webhook(client, receiver.url)
    app_id = await submit(client, db)
    _, token = await staff_token(app, db, "ed@desk.example")
    async with make_client(app) as api:
        moved = await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(token)
        )
    assert moved.status_code == 201
    [queued] = await webhook_deliveries(db)
    assert queued.status == EmailStatus.queued

    receiver.statuses = [500]
    clock = app.state.clock
    sender = webhook_sender(db, settings, clock=clock)
    assert await sender.run_once() == 1
    [failed_once] = await webhook_deliveries(db)
    assert failed_once.status == EmailStatus.queued and failed_once.attempts == 1
    assert failed_once.last_error.startswith("HTTP 500")
    assert failed_once.next_attempt_at <= clock() + timedelta(seconds=settings.delivery_retry_base_seconds)
    assert await sender.run_once() == 0, "not due again before its backoff"

    clock.advance(timedelta(seconds=settings.delivery_retry_base_seconds + 1))
    assert await sender.run_once() == 1
    [sent] = await webhook_deliveries(db)
    assert sent.status == EmailStatus.sent and sent.attempts == 2 and sent.last_error is None

    assert len(receiver.requests) == 2
    for headers, body in receiver.requests:
        assert signed_correctly(secret, headers, body)
        assert headers["content-type"] == "application/json"
        assert headers["x-byline-event"] == "application.state_changed"
        assert not signed_correctly("another secret", headers, body)
    (first_headers, first_body), (second_headers, second_body) = receiver.requests
    assert first_body == second_body, "every attempt sends the same bytes"
    assert first_headers["x-byline-delivery"] == second_headers["x-byline-delivery"] == sent.uid
    assert int(second_headers["x-byline-timestamp"]) > int(first_headers["x-byline-timestamp"])
    payload = json.loads(first_body)
    assert payload["type"] == "application.state_changed" and payload["id"] == sent.uid
    assert payload["data"]["application_id"] == app_id
    assert (payload["data"]["from_state"], payload["data"]["to_state"]) == ("submitted", "screening")
    assert payload["data"]["actor"] == "editor" and payload["data"]["version"] == 2

    page = await client.get("/admin/webhooks")
    assert "sent 1" in page.text


async def test_a_move_on_the_html_page_and_a_withdrawal_are_delivered_too(
    app, client, db, settings, receiver
):
    await staff_login(client, db, "admin@desk.example", roles=("admin", "editor"))
    await add_webhook(client, receiver.url)
    app_id = await submit(client, db)
    page = await client.get(f"/applications/{app_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    moved = await client.post(
        f"/applications/{app_id}/move",
        data={"_csrf_token": csrf_of(page.text), "version": version, "to": "spam"},
    )
    assert moved.status_code == 303
    sender = webhook_sender(db, settings, clock=app.state.clock)
    await sender.run_once()
    [(_, body)] = receiver.requests
    assert json.loads(body)["data"]["to_state"] == "spam"


async def test_a_refusal_fails_at_once_and_too_many_errors_make_a_delivery_dead(
    app, client, db, settings, receiver, admin
):
    await add_webhook(client, receiver.url)
    app_id = await submit(client, db)
    _, token = await staff_token(app, db, "ed@desk.example")
    async with make_client(app) as api:
        await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(token)
        )
        await api.post(
            f"/api/v1/applications/{app_id}/moves",
            json={"to": "rejected", "reason": "x"},
            headers=bearer(token),
        )
    settings.delivery_max_attempts = 2
    sender = webhook_sender(db, settings, clock=app.state.clock)
    # The two deliveries go out side by side: whichever arrives first is refused for good, the other fails for now.
    receiver.statuses = [410, 503]
    await sender.run_once()
    by_status = {d.status: d for d in await webhook_deliveries(db)}
    refused, waiting = by_status[EmailStatus.failed], by_status[EmailStatus.queued]
    assert (refused.last_error or "").startswith("HTTP 410")
    assert waiting.attempts == 1 and (waiting.last_error or "").startswith("HTTP 503")

    receiver.statuses = [502]
    app.state.clock.advance(timedelta(seconds=settings.delivery_retry_base_seconds + 1))
    await sender.run_once()
    current = {d.id: d for d in await webhook_deliveries(db)}
    assert current[waiting.id].status == EmailStatus.dead and current[waiting.id].attempts == 2
    assert current[refused.id].status == EmailStatus.failed

    # From the admin page: retry the dead one; it goes out on the next round.
    page = await client.get("/admin/webhooks")
    assert "dead" in page.text
    retried = await client.post(
        f"/admin/webhooks/deliveries/{waiting.id}/retry", data={"_csrf_token": csrf_of(page.text)}
    )
    assert retried.status_code == 303 and "retried" in retried.headers["location"]
    await sender.run_once()
    current = {d.id: d for d in await webhook_deliveries(db)}
    assert current[refused.id].status == EmailStatus.failed
    assert current[waiting.id].status == EmailStatus.sent


async def test_an_unreachable_receiver_is_retried(app, client, db, settings, admin):
    await add_webhook(client, "http://127.0.0.1:9/nothing-listens-here")
    app_id = await submit(client, db)
    _, token = await staff_token(app, db, "ed@desk.example")
    async with make_client(app) as api:
        await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(token)
        )
    await webhook_sender(db, settings, clock=app.state.clock).run_once()
    [delivery] = await webhook_deliveries(db)
    assert delivery.status == EmailStatus.queued and delivery.attempts == 1
    assert "Connect" in (delivery.last_error or "")


async def test_the_admin_turns_a_webhook_off_and_deletes_it(app, client, db, settings, receiver, admin):
    await add_webhook(client, receiver.url)
    page = await client.get("/admin/webhooks")
    hook_id = re.search(r'action="/admin/webhooks/(\d+)/active"', page.text).group(1)
    off = await client.post(
        f"/admin/webhooks/{hook_id}/active", data={"_csrf_token": csrf_of(page.text), "active": "off"}
    )
    assert off.status_code == 303
    app_id = await submit(client, db)
    _, token = await staff_token(app, db, "ed@desk.example")
    async with make_client(app) as api:
        await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(token)
        )
    assert await webhook_deliveries(db) == [], "a webhook that is off gets no deliveries"

    page = await client.get("/admin/webhooks")
    assert ">Turn on<" in page.text
    deleted = await client.post(f"/admin/webhooks/{hook_id}/delete", data={"_csrf_token": csrf_of(page.text)})
    assert deleted.status_code == 303
    assert 'id="no-webhooks"' in (await client.get("/admin/webhooks")).text


async def test_a_delivery_queued_before_its_webhook_was_turned_off_fails_until_retried(
    app, client, db, settings, receiver, admin
):
    await add_webhook(client, receiver.url)
    app_id = await submit(client, db)
    _, token = await staff_token(app, db, "ed@desk.example")
    async with make_client(app) as api:
        await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(token)
        )
    page = await client.get("/admin/webhooks")
    hook_id = re.search(r'action="/admin/webhooks/(\d+)/active"', page.text).group(1)
    await client.post(
        f"/admin/webhooks/{hook_id}/active", data={"_csrf_token": csrf_of(page.text), "active": "off"}
    )
    await webhook_sender(db, settings, clock=app.state.clock).run_once()
    [delivery] = await webhook_deliveries(db)
    assert delivery.status == EmailStatus.failed and "turned off" in (delivery.last_error or "")
    assert receiver.requests == []


async def test_the_webhook_address_is_checked(client, admin):
    page = await client.get("/admin/webhooks")
    for url in ("ftp://example.org/x", "not an address", "https://", "https://[::1/x"):
        response = await client.post("/admin/webhooks", data={"_csrf_token": csrf_of(page.text), "url": url})
        assert response.status_code == 422, url
        assert 'id="url-error"' in response.text and not SECRET_RE.search(response.text)


# --- production: webhooks reach public addresses only ------------------------------------------------------

PRODUCTION_BASE_URL = "https://127.0.0.1:8000"


def production(settings: Settings, **changes) -> Settings:
    """The test settings as production runs them (same database)."""
    update = {"env": "production", "secret_key": SecretStr("p" * 40), "base_url": PRODUCTION_BASE_URL}
    return settings.model_copy(update={**update, **changes})


async def production_admin(app, db, settings: Settings):
    """An admin's client on the app started with production settings."""
    served = create_app(settings)
    client = AsyncTestClient(app=served, base_url=PRODUCTION_BASE_URL)
    client.follow_redirects = False
    await client.__aenter__()
    await staff_login(client, db, "admin@desk.example", roles=("admin",))
    return served, client


async def test_production_refuses_internal_webhook_addresses_when_saved(app, db, settings):
    served, client = await production_admin(app, db, production(settings))
    try:
        page = await client.get("/admin/webhooks")
        refused = {
            "https://127.0.0.1:8443/hook": "127.0.0.1 is a loopback address",
            "https://169.254.169.254/latest/meta-data/": "169.254.169.254 is a link-local address",
            "https://[::1]/": "::1 is a loopback address",
            "https://10.0.0.1/": "10.0.0.1 is a private address",
            "https://[::ffff:127.0.0.1]/": "is a loopback address",
            "https://[::ffff:a9fe:a9fe]/": "is a link-local address",
            "https://0.0.0.0/": "0.0.0.0 is an unspecified address",
            "https://224.0.0.1/": "224.0.0.1 is a multicast address",
            "https://240.0.0.1/": "240.0.0.1 is a reserved address",
            "https://localhost/hook": "localhost resolves to 127.0.0.1, which is a loopback address",
            "https://2130706433/": "2130706433 resolves to 127.0.0.1, which is a loopback address",
        }
        for url, message in refused.items():
            response = await client.post(
                "/admin/webhooks", data={"_csrf_token": csrf_of(page.text), "url": url}
            )
            assert response.status_code == 422, url
            assert 'id="url-error"' in response.text and message in response.text, url
            assert "BYLINE_WEBHOOK_ALLOWED_HOSTS" in response.text
            assert not SECRET_RE.search(response.text)
        assert await count_rows(db, Webhook) == 0
        # A name that does not resolve now is saved: every delivery checks it again.
        await add_webhook(client, f"https://{'a' * 70}.example/hook")
    finally:
        await client.__aexit__(None, None, None)
        await served.state.db.dispose()


async def test_production_accepts_public_addresses_and_allowed_internal_hosts(app, db, settings):
    allowed = production(settings, webhook_allowed_hosts=["hooks.newsroom.internal"])
    served, client = await production_admin(app, db, allowed)
    try:
        await add_webhook(client, "https://93.184.215.14/byline-hook")
        await add_webhook(client, "https://hooks.newsroom.internal/byline")
        assert await count_rows(db, Webhook) == 2
    finally:
        await client.__aexit__(None, None, None)
        await served.state.db.dispose()


async def test_production_refuses_a_delivery_whose_host_resolves_to_loopback(
    app, client, db, settings, receiver
):
    port = receiver.url.split(":")[2].split("/")[0]
    await staff_login(client, db, "admin@desk.example", roles=("admin",))
    await add_webhook(client, f"http://localhost:{port}/byline-hook")  # saved outside production
    app_id = await submit(client, db)
    _, token = await staff_token(app, db, "ed@desk.example")
    async with make_client(app) as api:
        moved = await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(token)
        )
    assert moved.status_code == 201

    assert await webhook_sender(db, production(settings), clock=app.state.clock).run_once() == 1
    [refused] = await webhook_deliveries(db)
    assert refused.status == EmailStatus.failed, "refused for good, not retried"
    assert "localhost resolves to 127.0.0.1, which is a loopback address" in (refused.last_error or "")
    assert receiver.requests == [], "nothing reached the receiver"
    assert "loopback address" in (await client.get("/admin/webhooks")).text

    # Listed as allowed, the same host is reached: at the address checked, under its own name.
    page = await client.get("/admin/webhooks")
    await client.post(
        f"/admin/webhooks/deliveries/{refused.id}/retry", data={"_csrf_token": csrf_of(page.text)}
    )
    allowed = production(settings, webhook_allowed_hosts=["localhost"])
    await webhook_sender(db, allowed, clock=app.state.clock).run_once()
    [sent] = await webhook_deliveries(db)
    assert sent.status == EmailStatus.sent
    [(headers, _)] = receiver.requests
    assert headers["host"] == f"localhost:{port}"


# --- one sender loop for mail and webhooks ---------------------------------------------------------------


async def test_a_worker_gives_up_on_a_webhook_delivery_and_a_message_after_the_same_max_attempts(
    app, client, db, settings, receiver, relay, admin
):
    """`byline worker` sends both kinds with one loop: BYLINE_DELIVERY_MAX_ATTEMPTS makes either dead."""
    await add_webhook(client, receiver.url)
    app_id = await submit(client, db)  # queues the applicant's confirmation and the editors' notice
    _, token = await staff_token(app, db, "ed@desk.example")
    async with make_client(app) as api:
        moved = await api.post(
            f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=bearer(token)
        )
    assert moved.status_code == 201
    receiver.statuses = [503] * 10
    relay.always = "451 Try again later"
    await _due_now(db)  # queued on the app's clock, a minute ahead; the worker runs on the real one

    worker = worker_process(
        settings,
        relay,
        BYLINE_DELIVERY_MAX_ATTEMPTS="2",
        BYLINE_DELIVERY_RETRY_BASE_SECONDS="0.05",
        BYLINE_DELIVERY_RETRY_MAX_SECONDS="0.1",
    )
    try:
        await until(lambda: _all_dead(db))
    finally:
        assert stop_process(worker) == 0
    [hook_delivery] = await webhook_deliveries(db)
    assert hook_delivery.attempts == 2 and (hook_delivery.last_error or "").startswith("HTTP 503")
    messages = await outbox(db)
    assert messages and all(m.attempts == 2 and "451" in (m.last_error or "") for m in messages)
    assert len(receiver.requests) == 2 and relay.data_commands == 2 * len(messages)


async def _due_now(db) -> None:
    now = datetime.now(UTC)
    async with db.write_session() as session:
        for model in (WebhookDelivery, OutboxEmail):
            await session.execute(update(model).values(next_attempt_at=now))


async def _all_dead(db) -> bool:
    rows = [*await webhook_deliveries(db), *await outbox(db)]
    return bool(rows) and all(row.status == EmailStatus.dead for row in rows)
