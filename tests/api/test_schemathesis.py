"""Schemathesis against the live app (uvicorn, a real port) with a valid token: no request the OpenAPI document
allows, nor any it does not, makes a server error. Bounded: a few examples per operation and mode."""

from __future__ import annotations

import asyncio

import httpx
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from app.api.tokens import create_token
from app.models import utcnow
from tests.api.support import bearer
from tests.conftest import _serve, hidden_fields, make_staff, valid_fields

EXAMPLES = 10


def apply(base_url: str) -> None:
    """One application through the public form of the live app."""
    with httpx.Client(base_url=base_url, follow_redirects=False) as browser:
        tokens = hidden_fields(browser.get("/apply").text)
        response = browser.post(
            "/apply",
            data={**tokens, **valid_fields()},
            files=[("unused", ("", b"", "application/octet-stream"))],
        )
        assert response.status_code == 303, response.text


async def test_no_generated_request_makes_a_server_error(clean_db, settings, tmp_path):
    with _serve(settings, tmp_path, {"BYLINE_API_RATE_PER_MINUTE": "1000000"}) as base_url:
        await asyncio.to_thread(apply, base_url)
        user_id = await make_staff(
            clean_db, email="fuzz@desk.example", roles=("admin", "editor", "fact_checker")
        )
        async with clean_db.write_session() as session:
            _, token = await create_token(session, user_id=user_id, name="schemathesis", now=utcnow())
        headers = bearer(token)
        async with httpx.AsyncClient(base_url=base_url, headers=headers) as api:
            app_id = (await api.get("/api/v1/applications")).json()["items"][0]["id"]
            task = await api.post(
                f"/api/v1/applications/{app_id}/tasks", json={"assignee_id": user_id, "claims": ["A claim."]}
            )
            assert task.status_code == 201, task.text
            fixed = {"application_id": app_id, "task_id": task.json()["id"]}

        schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == 11
        calls = 0
        for operation in operations:
            known = {name: value for name, value in fixed.items() if f"{{{name}}}" in operation.path}
            # Valid input on the real application and task, valid input anywhere, and input the schema forbids.
            runs = [(GenerationMode.POSITIVE, known), (GenerationMode.NEGATIVE, {})]
            if known:
                runs.append((GenerationMode.POSITIVE, {}))
            for mode, path_parameters in runs:
                strategy = operation.as_strategy(mode, path_parameters=path_parameters or None)

                @hypothesis_settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=strategy)
                def run(case: schemathesis.Case) -> None:
                    nonlocal calls
                    calls += 1
                    case.call_and_validate(base_url=base_url, headers=headers, checks=[not_a_server_error])

                await asyncio.to_thread(run)
        assert calls >= len(operations) * 2
        log = (tmp_path / "server.log").read_text()
        assert "unhandled error" not in log, log[-3000:]
