"""Schemathesis against the live app (uvicorn, a real port) with every one of its checks, for a token of each
role: no server error, answers as documented, and the document and the server agree both ways (valid data is
accepted, invalid data refused). Bounded: a few examples per operation, mode and role.

What valid data may meet (positive_data_acceptance): success, 403 for a route the role may not use, 404 for a
generated id that names nothing, 409 for a rule of the desk or the application's state (a move not open from
it, an assignee who is not a fact-checker, a due time already past): all documented on each route. Never 400,
415 or 422: those mean the document allowed what the server refused. Invalid data (negative_data_rejection)
must meet 400, 404 (an id the API does not write that way), 415 or 422, 401 when it leaves out the token, or
403 before any reading for a role that may not use the route; never a success nor a 409, which would mean it
reached a service.
"""

from __future__ import annotations

import asyncio

import httpx
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, is_check_class, load_all_checks
from schemathesis.config import SchemathesisConfig

from app.api.tokens import create_token
from app.models import utcnow
from tests.api.support import API_ACCESS
from tests.environment import deep
from tests.factories import bearer, insert_trial, make_staff
from tests.ops.support import apply_over_http

# Cases per operation and role: a few in `make test`, many more in `make test-deep`.
EXAMPLES = 25 if deep() else 3
ROLES = ("admin", "editor", "fact_checker", "finance")
# Who may use each operation of the document (its paths have no `:int`).
ALLOWED = {(method, path.replace(":int}", "}")): roles for (method, path), roles in API_ACCESS.items()}
CONFIG = {
    "checks": {
        "positive_data_acceptance": {"expected-statuses": ["2xx", "403", "404", "409"]},
        "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "415", "422"]},
    }
}


def apply(base_url: str) -> None:
    """One application through the public form of the live app."""
    with httpx.Client(base_url=base_url, follow_redirects=False) as browser:
        response = apply_over_http(browser)
        assert response.status_code == 303, response.text


def every_check() -> list[schemathesis.CheckFunction]:
    load_all_checks()
    checks = [check for check in CHECKS.get_all() if not is_check_class(check)]
    assert {check.__name__ for check in checks} == set(CHECKS.get_all_names())
    return checks


def fuzz(strategy, base_url: str, headers: dict[str, str], checks: list[schemathesis.CheckFunction]) -> int:
    """Up to EXAMPLES cases from `strategy`, each sent and put through `checks`; how many were sent."""
    sent = 0

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(base_url=base_url, headers=headers, checks=checks)

    run()
    return sent


async def test_every_check_passes_for_every_role(clean_db, live_server_for_fuzzing, tmp_path):
    base_url = live_server_for_fuzzing
    await asyncio.to_thread(apply, base_url)
    tokens: dict[str, str] = {}
    ids: dict[str, int] = {}
    for role in ROLES:
        ids[role] = await make_staff(clean_db, email=f"{role}@desk.example", roles=(role,))
        async with clean_db.write_session() as session:
            _, tokens[role] = await create_token(session, user_id=ids[role], name="fuzz", now=utcnow())
    async with httpx.AsyncClient(base_url=base_url, headers=bearer(tokens["editor"])) as api:
        app_id = (await api.get("/api/v1/applications")).json()["items"][0]["id"]
        task = await api.post(
            f"/api/v1/applications/{app_id}/tasks",
            json={"assignee_id": ids["fact_checker"], "claims": ["A claim."]},
        )
        assert task.status_code == 201, task.text
        trial_id = await insert_trial(clean_db, app_id)
        fixed = {"application_id": app_id, "task_id": task.json()["id"], "trial_id": trial_id}

    schema = schemathesis.openapi.from_url(
        f"{base_url}/api/v1/openapi.json", config=SchemathesisConfig.from_dict(CONFIG)
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 13
    checks = every_check()
    calls = 0
    for role in ROLES:
        headers = bearer(tokens[role])
        for operation in operations:
            known = {name: value for name, value in fixed.items() if f"{{{name}}}" in operation.path}
            # Valid input on the real application and task, valid input anywhere, input the schema forbids;
            # a role that may not use the operation meets a 403 whatever it sends: one run tells.
            runs = [(GenerationMode.POSITIVE, known)]
            if role in ALLOWED[(operation.method.upper(), operation.path)]:
                runs.append((GenerationMode.NEGATIVE, {}))
                if known:
                    runs.append((GenerationMode.POSITIVE, {}))
            for mode, path_parameters in runs:
                strategy = operation.as_strategy(mode, path_parameters=path_parameters or None)
                calls += await asyncio.to_thread(fuzz, strategy, base_url, headers, checks)
    assert calls >= len(ROLES) * len(operations)
    log = (tmp_path / "server.log").read_text()
    assert "unhandled error" not in log, log[-3000:]
