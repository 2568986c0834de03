"""Scheduled jobs: registered once at the composition root (app/main.py), run by every worker."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from app.core.jobs import JobRunner, Jobs
from app.main import scheduled_jobs
from app.models import EmailStatus, OutboxEmail
from tests.factories import create_task
from tests.mail.support import stop_process, until, worker_process
from tests.queries import outbox


async def reminders(db) -> list[OutboxEmail]:
    return await outbox(db, template="staff_task_reminder")


async def test_a_worker_runs_the_reminder_job_registered_at_the_root_and_sends_the_reminder(
    client, db, settings, relay, fact_check_desk
):
    assert "fact-check reminders" in scheduled_jobs().names
    app_id, _, checker, _ = fact_check_desk
    await create_task(client, db, app_id, checker)  # due in BYLINE_TASK_DUE_DAYS, so "due soon" at 1000 hours
    assert await reminders(db) == []

    worker = worker_process(settings, relay, BYLINE_TASK_REMIND_BEFORE_HOURS="1000")
    try:
        await until(lambda: _reminder_sent(db))
    finally:
        assert stop_process(worker) == 0
    [reminder] = await reminders(db)
    assert reminder.recipient == "fc@desk.example" and reminder.context["kind"] == "due_soon"
    assert reminder.message_id in relay.ids()


async def _reminder_sent(db) -> bool:
    return any(row.status == EmailStatus.sent for row in await reminders(db))


async def test_each_job_runs_at_its_interval_and_a_failing_one_stops_no_other(db, settings, caplog):
    ran: list[tuple[str, datetime]] = []

    async def counted(session, settings, now) -> None:
        ran.append(("counted", now))

    async def broken(session, settings, now) -> None:
        raise RuntimeError("the job has a fault")

    jobs = Jobs()
    jobs.add("broken", every=3600, run=broken)
    jobs.add("counted", every=3600, run=counted)
    with pytest.raises(ValueError, match="registered already"):
        jobs.add("counted", every=60, run=counted)
    runner = JobRunner(db, settings, jobs)
    with caplog.at_level(logging.ERROR, logger="byline.jobs"):
        assert await runner.run_due() == ["broken", "counted"]
    assert [name for name, _ in ran] == ["counted"]
    assert any("job broken failed" in record.getMessage() for record in caplog.records)
    assert await runner.run_due() == [], "each waits its interval before it runs again"
