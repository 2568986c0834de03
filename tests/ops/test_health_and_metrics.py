"""/healthz, /readyz and /metrics through the real routes; who may read the metrics."""

from __future__ import annotations

import logging
import re
import sqlite3
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import update

from app.main import create_app
from app.models import Application
from app.settings import Settings
from tests.factories import make_client, open_form, post_application, submit, valid_fields
from tests.ops.support import metric_value

TOKEN = "scrape-token-for-the-tests-0123456789"


async def test_healthz_answers_without_the_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


async def test_readyz_is_ready_on_a_migrated_database(client):
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.text == "ready\n"


async def test_readyz_says_why_it_is_not_ready(settings, tmp_path):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    behind = tmp_path / "behind.db"
    with sqlite3.connect(behind) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('0001_old')")
    cases = {
        empty: "the database cannot be queried",
        behind: "the database is at migration 0001_old, this code expects",
    }
    for path, reason in cases.items():
        local = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{path}"})
        local.__dict__.pop("db_url", None)
        app = create_app(local)
        async with make_client(app) as client:
            response = await client.get("/readyz")
            health = await client.get("/healthz")
        await app.state.db.dispose()
        assert response.status_code == 503
        assert response.text.startswith(f"not ready: {reason}"), response.text
        assert health.status_code == 200


async def _scrape(settings: Settings, **headers: str):
    app = create_app(settings)
    async with make_client(app) as client:
        response = await client.get("/metrics", headers=headers)
    await app.state.db.dispose()
    return response


async def test_metrics_are_refused_outside_the_configured_networks_without_the_token(settings):
    local = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    refused = await _scrape(local)
    assert refused.status_code == 403
    assert "configured networks" in refused.text
    wrong = await _scrape(local, authorization="Bearer not-the-token")
    assert wrong.status_code == 403
    allowed = await _scrape(local, authorization=f"Bearer {TOKEN}")
    assert allowed.status_code == 200
    assert allowed.headers["content-type"].startswith("text/plain; version=0.0.4")
    no_token_set = await _scrape(settings, authorization="Bearer ")
    assert no_token_set.status_code == 403


async def test_behind_the_proxy_the_metrics_follow_the_real_client_address(settings):
    """nginx connects from loopback: what counts is the address it forwards, so the public is refused."""
    proxied = settings.model_copy(update={"trusted_proxies": ["testclient"]})
    public = await _scrape(proxied, **{"x-forwarded-for": "203.0.113.9"})
    assert public.status_code == 403
    local = await _scrape(proxied, **{"x-forwarded-for": "127.0.0.1"})
    assert local.status_code == 200
    # Without the proxy being trusted, its header is not believed at all.
    spoofed = await _scrape(settings, **{"x-forwarded-for": "127.0.0.1"})
    assert spoofed.status_code == 403


async def test_metrics_read_the_queues_from_the_database_at_scrape_time(client, db, settings):
    response = await post_application(client)
    assert response.status_code == 303
    public_id = response.headers["location"].rsplit("/", 1)[-1]
    assert (await client.get(f"/status/{public_id}")).status_code == 200
    assert (await client.get("/no-such-page")).status_code == 404
    late_id = await submit(client, db)
    async with db.write_session() as session:
        past = datetime.now(UTC) - timedelta(days=2)
        await session.execute(
            update(Application).where(Application.id == late_id).values(due_at=past)  # type: ignore[arg-type]
        )

    scrape = await _scrape(
        settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}), authorization=f"Bearer {TOKEN}"
    )
    text = scrape.text
    assert metric_value(text, "byline_outbox_messages", status="queued") >= 2
    assert metric_value(text, "byline_outbox_messages", status="dead") == 0
    assert metric_value(text, "byline_outbox_oldest_queued_age_seconds") >= 0
    assert metric_value(text, "byline_webhook_deliveries", status="queued") == 0
    assert metric_value(text, "byline_applications_overdue") == 1
    assert public_id not in text


async def test_request_counters_carry_the_template_never_the_path(app, client, settings):
    metrics = app.state.metrics
    status = {"method": "GET", "route": "/status/{public_id}", "status": "200"}
    apply = {"method": "POST", "route": "/apply", "status": "303"}
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    bucket = {"le": "+Inf", "method": "POST", "route": "/apply"}
    series = [
        ("byline_http_requests_total", status),
        ("byline_http_requests_total", apply),
        ("byline_http_requests_total", unmatched),
        ("byline_http_request_duration_seconds_bucket", bucket),
    ]

    def values() -> list[float]:
        # The process's counters keep what earlier tests on this app counted: each request adds exactly one.
        text = metrics.exposition([]).decode()
        return [metric_value(text, name, **labels) or 0.0 for name, labels in series]

    before = values()
    response = await post_application(client)
    public_id = response.headers["location"].rsplit("/", 1)[-1]
    await client.get(f"/status/{public_id}")
    await client.get("/no-such-page")
    assert [after - start for after, start in zip(values(), before, strict=True)] == [1, 1, 1, 1]
    assert public_id not in metrics.exposition([]).decode()


async def test_every_response_carries_a_request_id_and_only_a_trusted_proxy_may_choose_it(settings):
    async def request_id(local: Settings, sent: str | None) -> str:
        app = create_app(local)
        async with make_client(app) as client:
            response = await client.get("/healthz", headers={"x-request-id": sent} if sent else {})
        await app.state.db.dispose()
        return response.headers["x-request-id"]

    generated = await request_id(settings, None)
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert await request_id(settings, "chosen-by-a-client") != "chosen-by-a-client"
    proxied = settings.model_copy(update={"trusted_proxies": ["testclient"]})
    assert await request_id(proxied, "edge-7f3a.42") == "edge-7f3a.42"
    assert await request_id(proxied, "bad id\nwith a newline") != "bad id\nwith a newline"


async def test_probes_may_use_any_host_header_and_pages_may_not(client):
    probe = await client.get("/healthz", headers={"host": "10.0.0.5:8000"})
    assert probe.status_code == 200
    page = await client.get("/apply", headers={"host": "10.0.0.5:8000"})
    assert page.status_code == 400


async def test_refusals_before_the_handler_are_logged_and_counted_with_the_status_sent(settings, caplog):
    """A CSRF refusal (403), a body over the limit (413) and a foreign Host (400) are not 500s."""
    caplog.set_level(logging.INFO, logger="byline.access")
    local = settings.model_copy(update={"max_application_bytes": 0})
    app = create_app(local)
    async with make_client(app) as client:
        no_csrf = await client.post("/login", data={"email": "a@b.example", "password": "b"})
        tokens = await open_form(client)
        too_big = await client.post(
            "/apply",
            data={**tokens, **valid_fields()},
            files=[("sample-0-file", ("big.txt", b"x" * (local.max_request_bytes + 1), "text/plain"))],
        )
        foreign = await client.get("/apply", headers={"host": "elsewhere.example"})
    text = app.state.metrics.exposition([]).decode()
    await app.state.db.dispose()
    assert (no_csrf.status_code, too_big.status_code, foreign.status_code) == (403, 413, 400)
    lines = [r.getMessage().rsplit(" ", 2)[0] for r in caplog.records if r.name == "byline.access"]
    assert lines == ["POST /login 403", "GET /apply 200", "POST /apply 413", "GET /apply 400"]
    assert all(re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"]) for r in (no_csrf, too_big, foreign))
    assert metric_value(text, "byline_http_requests_total", method="POST", route="/login", status="403") == 1
    assert metric_value(text, "byline_http_requests_total", method="POST", route="/apply", status="413") == 1
    assert metric_value(text, "byline_http_requests_total", method="GET", route="/apply", status="400") == 1
    assert 'status="500"' not in text
