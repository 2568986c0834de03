"""Task reminders on an injected clock: before the due time, when it passes, then to the creator; each once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from app.factcheck.reminders import queue_task_reminders
from app.mail.render import render
from tests.factories import create_task, csrf_of
from tests.queries import outbox, tasks_of


async def run(db, settings, now) -> int:
    async with db.write_session() as session:
        return await queue_task_reminders(session, settings, now)


async def test_each_reminder_is_queued_once_at_its_time(app, client, db, settings, fact_check_desk):
    app_id, _, checker, _ = fact_check_desk
    await create_task(client, db, app_id, checker)
    [task] = await tasks_of(db, app_id)
    due = task.due_at
    assert await run(db, settings, app.state.clock()) == 0  # days ahead: nothing yet

    assert await run(db, settings, due - timedelta(hours=23)) == 1
    assert await run(db, settings, due - timedelta(hours=22)) == 0  # once, however often the scheduler runs
    assert await run(db, settings, due + timedelta(minutes=5)) == 1
    assert await run(db, settings, due + timedelta(hours=47)) == 0
    assert await run(db, settings, due + timedelta(hours=49)) == 1
    assert await run(db, settings, due + timedelta(days=9)) == 0

    sent = await outbox(db, template="staff_task_reminder")
    assert [(m.context["kind"], m.recipient) for m in sent] == [
        ("due_soon", "fc@desk.example"),
        ("overdue", "fc@desk.example"),
        ("escalated", "eda@desk.example"),
    ]
    texts = [render(m, settings).get_body(("plain",)).get_content() for m in sent]
    assert "is due" in texts[0] and "was due" in texts[1] and "Farid Checker" in texts[2]


async def test_a_task_created_late_skips_the_early_reminder_and_a_closed_one_gets_none(
    app, client, db, settings, fact_check_desk
):
    app_id, _, checker, _ = fact_check_desk
    await create_task(client, db, app_id, checker)
    [task] = await tasks_of(db, app_id)
    assert await run(db, settings, task.due_at + timedelta(hours=1)) == 1
    assert [m.context["kind"] for m in await outbox(db, template="staff_task_reminder")] == ["overdue"]

    second = await create_task(client, db, app_id, checker, claims="Another claim.")
    page = (await client.get(f"/tasks/{second}")).text
    await client.post(f"/tasks/{second}/cancel", data={"_csrf_token": csrf_of(page)})
    assert await run(db, settings, task.due_at + timedelta(days=30)) == 1  # only the first task's escalation


async def test_several_schedulers_at_once_queue_each_reminder_once(
    app, client, db, settings, fact_check_desk
):
    app_id, _, checker, _ = fact_check_desk
    for n in range(3):
        await create_task(client, db, app_id, checker, claims=f"Claim {n}.")
    [task, *_] = await tasks_of(db, app_id)
    at = task.due_at + timedelta(hours=1)
    counts = await asyncio.gather(*(run(db, settings, at) for _ in range(4)))
    assert sum(counts) == 3
    assert len(await outbox(db, template="staff_task_reminder")) == 3
