"""Deadline reminders to the applicant 48 and 6 hours ahead, on the app's clock: each once, with several
schedulers at once, in the applicant's language, and none once the trial is over."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from app.mail.render import render
from app.trials.reminders import queue_trial_reminders
from tests.factories import make_client, offer_trial, page_form, submit_piece
from tests.queries import outbox, stored, trial_of


async def run(db, settings, now) -> int:
    async with db.write_session() as session:
        return await queue_trial_reminders(session, settings, now)


def days_ahead(app, days: int) -> str:
    return (app.state.clock() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


async def test_each_reminder_is_queued_once_at_its_time(app, client, db, settings, app_id, editor):
    await offer_trial(client, app_id, deadline=days_ahead(app, 5))
    deadline = (await trial_of(db, app_id)).deadline_at
    assert await run(db, settings, app.state.clock()) == 0
    assert await run(db, settings, deadline - timedelta(hours=49)) == 0
    assert await run(db, settings, deadline - timedelta(hours=47)) == 1
    assert await run(db, settings, deadline - timedelta(hours=30)) == 0  # once, however often it runs
    assert await run(db, settings, deadline - timedelta(hours=5)) == 1
    assert await run(db, settings, deadline - timedelta(hours=1)) == 0
    assert await run(db, settings, deadline + timedelta(hours=1)) == 0
    sent = await outbox(db, app_id, template="applicant_trial_reminder")
    assert [m.context["hours"] for m in sent] == [48, 6]
    text = render(sent[0], settings).get_body(("plain",)).get_content()
    assert "/trial" in text


async def test_two_workers_at_once_queue_each_reminder_once(app, client, db, settings, app_id, editor):
    await offer_trial(client, app_id, deadline=days_ahead(app, 5))
    deadline = (await trial_of(db, app_id)).deadline_at
    at = deadline - timedelta(hours=40)
    counts = await asyncio.gather(run(db, settings, at), run(db, settings, at))
    assert sum(counts) == 1
    counts = await asyncio.gather(*(run(db, settings, deadline - timedelta(hours=3)) for _ in range(3)))
    assert sum(counts) == 1
    assert len(await outbox(db, app_id, template="applicant_trial_reminder")) == 2


async def test_no_reminder_after_the_piece_is_in(app, client, db, settings, app_id, editor):
    await offer_trial(client, app_id, deadline=days_ahead(app, 5))
    deadline = (await trial_of(db, app_id)).deadline_at
    public_id = (await stored(db, app_id)).public_id
    async with make_client(app) as applicant:
        await submit_piece(applicant, public_id, "A short piece of words.")
    assert await run(db, settings, deadline - timedelta(hours=40)) == 0
    assert await run(db, settings, deadline - timedelta(hours=3)) == 0


async def test_an_extended_deadline_earns_its_reminders_again(app, client, db, settings, app_id, editor):
    await offer_trial(client, app_id, deadline=days_ahead(app, 3))
    trial = await trial_of(db, app_id)
    assert await run(db, settings, trial.deadline_at - timedelta(hours=40)) == 1
    _, hidden = await page_form(client, app_id)
    response = await client.post(
        f"/applications/{app_id}/trial/{trial.id}/extend", data={**hidden, "deadline": days_ahead(app, 6)}
    )
    assert response.status_code == 303
    later = (await trial_of(db, app_id)).deadline_at
    assert await run(db, settings, later - timedelta(hours=40)) == 1
