"""Log lines: JSON with the request id, and never an applicant's name, address or sample text (H3)."""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.ops.logs import configure_logging, mask_addresses
from tests.factories import hidden_fields
from tests.ops.support import apply_over_http, in_thread, serving


def _submit_and_ask_for_a_reset(base_url: str, name: str, email: str, sample_text: str) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = apply_over_http(client, name=name, email=email, **{"sample-0-text": sample_text})
        assert response.status_code == 303, response.text
        assert client.get(response.headers["location"]).status_code == 200
        forgot = client.get("/password/forgot")
        asked = client.post("/password/forgot", data={**hidden_fields(forgot.text), "email": email})
        assert asked.status_code in (200, 303), asked.text
        return response


async def test_served_logs_are_json_lines_with_the_request_id_and_no_personal_data(
    clean_db, settings, tmp_path
):
    name = f"Zofia Wyszomirska-{uuid.uuid4().hex[:6]}"
    email = f"zofia.{uuid.uuid4().hex[:8]}@applicant.example"
    sample_text = f"A distinctive sentence about the harbour budget {uuid.uuid4().hex}. " * 20
    log = tmp_path / "serve.log"
    with serving(settings, log, BYLINE_LOG_FORMAT="json", BYLINE_LOG_LEVEL="DEBUG") as base_url:
        response = await in_thread(_submit_and_ask_for_a_reset, base_url, name, email, sample_text)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    posts = [r for r in records if r.get("route") == "/apply" and r.get("method") == "POST"]
    assert [r["request_id"] for r in posts] == [response.headers["x-request-id"]]
    assert posts[0]["status"] == 303
    whole = log.read_text()
    for secret in (name, email, email.split("@")[0], sample_text[:60]):
        assert secret not in whole
    public_id = response.headers["location"].rsplit("/", 1)[-1]
    assert public_id not in whole  # the status link's secret: the route template is logged instead


def test_log_lines_mask_addresses_in_messages_and_tracebacks(settings, capsys):
    configure_logging(settings.model_copy(update={"log_format": "json"}))
    log = logging.getLogger("byline.test")
    try:
        raise ValueError("refused for someone@applicant.example")
    except ValueError:
        log.exception("sending to %s failed", "leyla.m@applicant.example")
    configure_logging(settings)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "sending to l***@applicant.example failed"
    assert "s***@applicant.example" in line["exception"]
    assert "someone@" not in line["exception"]
    assert mask_addresses("a@b.example and bob@x.org") == "a***@b.example and b***@x.org"


async def test_a_failed_statement_does_not_carry_its_values(db):
    email = "hidden.value@applicant.example"
    with pytest.raises(IntegrityError) as failure:
        async with db.write_session() as session:
            await session.execute(text("INSERT INTO staff_user (email) VALUES (:email)"), {"email": email})
    assert email not in str(failure.value)
    assert "hidden due to hide_parameters" in str(failure.value)


def _refuse_and_hang_up(base_url: str) -> tuple[httpx.Response, str]:
    """A POST without its CSRF token, then a form whose sender closes the connection halfway."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        refused = client.post("/login", data={"email": "a@b.example", "password": "b"})
        hidden = hidden_fields(client.get("/apply").text)
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    address = base_url.removeprefix("http://")
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            (
                "POST /apply HTTP/1.1\r\n"
                f"Host: {address}\r\n"
                f"Cookie: {cookie}\r\n"
                f"X-CSRFToken: {hidden['_csrf_token']}\r\n"
                "Content-Type: multipart/form-data; boundary=xyz\r\n"
                "Content-Length: 100000\r\n\r\n"
                '--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nLeyla\r\n'
            ).encode()
        )
        time.sleep(0.2)  # the server is now waiting for the rest of the body
    with httpx.Client(base_url=base_url, timeout=30) as client:
        deadline = time.monotonic() + 20
        while True:
            scrape = client.get("/metrics").text
            if 'status="499"' in scrape or time.monotonic() > deadline:
                return refused, scrape
            time.sleep(0.1)


async def test_refusals_and_hang_ups_are_logged_with_the_status_the_client_got(clean_db, settings, tmp_path):
    log = tmp_path / "serve.log"
    with serving(settings, log, BYLINE_LOG_FORMAT="json") as base_url:
        refused, scrape = await in_thread(_refuse_and_hang_up, base_url)
    assert refused.status_code == 403
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    access = {(r["method"], r["route"], r["status"]): r for r in records if r["logger"] == "byline.access"}
    assert access["POST", "/login", 403]["request_id"] == refused.headers["x-request-id"]
    assert ("POST", "/apply", 499) in access
    assert not [key for key in access if key[2] == 500]
    assert 'byline_http_requests_total{method="POST",route="/login",status="403"} 1.0' in scrape
    assert 'byline_http_requests_total{method="POST",route="/apply",status="499"} 1.0' in scrape
    assert 'status="500"' not in scrape
