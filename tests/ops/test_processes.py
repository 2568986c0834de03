"""Byline at scale on one machine: two `byline serve` and two `byline worker` processes on PostgreSQL.

Nothing is kept per process: submissions, staff sessions, rate-limit counters and the outbox are all in the
database, so a request may land on either web process and a message on either worker.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from app.core.db import Database
from app.demo import make_pdf
from app.models import Applicant, Application, EmailStatus, OutboxEmail, WorkSample
from tests.environment import backend, settings_for
from tests.factories import STAFF_PASSWORD, csrf_of, make_staff
from tests.mail.relay import Relay
from tests.mail.support import stop_process, worker_process
from tests.ops.support import apply_over_http, in_thread, metric_value, own_database, serving

SUBMISSIONS = 20

pytestmark = pytest.mark.skipif(
    backend() != "postgres",
    reason="several web processes and workers need PostgreSQL; on SQLite Byline runs one web process",
)


def _submit_all(base_urls: list[str]) -> list[str]:
    """SUBMISSIONS applications with a PDF, alternating between the web processes, four at a time."""

    def one(n: int) -> str:
        with httpx.Client(base_url=base_urls[n % len(base_urls)], timeout=60) as client:
            pdf = make_pdf(f"Sample {n}", "The council approved the harbour budget.")
            response = apply_over_http(
                client,
                [("sample-1-file", (f"sample-{n}.pdf", pdf, "application/pdf"))],
                email=f"applicant{n}@applicant.example",
                **{"sample-1-title": f"Sample {n}"},
            )
            assert response.status_code == 303, response.text
            return str(response.headers["location"].rsplit("/", 1)[-1])

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(SUBMISSIONS)))


def _staff_across_processes(first: str, second: str) -> tuple[int, list[int]]:
    """A session made by one process works on the other; login failures count across both."""
    with httpx.Client(timeout=30) as browser:
        form = browser.get(f"{first}/login")
        token = {"_csrf_token": csrf_of(form.text)}
        logged_in = browser.post(
            f"{first}/login", data={**token, "email": "desk.editor@desk.example", "password": STAFF_PASSWORD}
        )
        assert logged_in.status_code == 303, logged_in.text
        dashboard = browser.get(f"{second}/dashboard").status_code
    answers = []
    for attempt in range(6):
        with httpx.Client(base_url=(first, second)[attempt % 2], timeout=30) as client:
            token = {"_csrf_token": csrf_of(client.get("/login").text)}
            wrong = {**token, "email": "locked.checker@desk.example", "password": "not the password at all"}
            answers.append(client.post("/login", data=wrong).status_code)
    return dashboard, answers


def _normalized(message_id: str) -> str:
    return message_id.strip().strip("<>")


async def test_two_web_processes_and_two_workers_store_each_submission_once_and_send_each_message_once(
    tmp_path,
):
    async with own_database(tmp_path) as url:
        settings = settings_for(url, tmp_path)
        db = Database(settings, pool=False)
        await make_staff(db, email="desk.editor@desk.example", roles=("editor",))
        await make_staff(db, email="locked.checker@desk.example", roles=("fact_checker",))
        relay = Relay().start()
        metrics = {"BYLINE_METRICS_DIR": str(tmp_path / "metrics")}
        workers = []
        try:
            with (
                serving(settings, tmp_path / "web1.log", **metrics) as first,
                serving(settings, tmp_path / "web2.log", **metrics) as second,
            ):
                workers = [
                    worker_process(settings, relay, BYLINE_DELIVERY_LOCK_SECONDS="120") for _ in range(2)
                ]
                public_ids = await in_thread(_submit_all, [first, second])
                dashboard, attempts = await in_thread(_staff_across_processes, first, second)

                deadline = time.monotonic() + 40
                while True:
                    async with db.sessionmaker() as session:
                        rows = (await session.scalars(select(OutboxEmail))).all()
                    if rows and all(row.status == EmailStatus.sent for row in rows):
                        break
                    assert time.monotonic() < deadline, Counter(row.status for row in rows)
                    await asyncio.sleep(0.2)
                scrape = await in_thread(lambda: httpx.get(f"{first}/metrics", timeout=10).text)
        finally:
            for process in workers:
                stop_process(process)
            relay.stop()

        async with db.sessionmaker() as session:
            stored = (await session.scalars(select(Application.public_id))).all()
            emails = (await session.scalars(select(Applicant.email))).all()
            files = await session.scalar(
                select(func.count()).select_from(WorkSample).where(WorkSample.kind == "file")
            )
        await db.dispose()
        assert sorted(stored) == sorted(public_ids) and len(set(stored)) == SUBMISSIONS
        assert len(emails) == len(set(emails)) == SUBMISSIONS
        assert files == SUBMISSIONS

        # Each submission: the applicant's confirmation and the editor's note; each received exactly once.
        assert len(rows) == 2 * SUBMISSIONS
        received = Counter(_normalized(message_id) for message_id in relay.ids())
        assert set(received) == {_normalized(row.message_id) for row in rows}
        assert set(received.values()) == {1}

        # Sessions and rate-limit counters live in the database: every process sees the same ones.
        assert dashboard == 200
        assert attempts[-1] == 429 and 429 not in attempts[:-1], attempts

        # Both processes' counters, summed through BYLINE_METRICS_DIR, in a scrape of either one.
        posted = metric_value(
            scrape, "byline_http_requests_total", method="POST", route="/apply", status="303"
        )
        assert posted == SUBMISSIONS
