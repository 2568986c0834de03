"""Staff notification choices: instant or daily digest (docs/email.md), and List-Unsubscribe honoured at once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from app.mail.digest import queue_daily_digests
from app.mail.render import render
from app.models import EmailStatus, NotifyMode, OutboxEmail, User
from tests.factories import make_staff, page_form, staff_login, submit, update_staff
from tests.queries import outbox


async def digests(db, settings, now: datetime) -> int:
    async with db.write_session() as session:
        return await queue_daily_digests(session, settings, now)


def morning(day: datetime, hour: int) -> datetime:
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


async def test_digest_readers_get_one_message_a_day_with_everything_since_the_last(app, client, db, settings):
    daily = await make_staff(db, email="daily@desk.example", name="Dana Daily")
    await make_staff(db, email="instant@desk.example", name="Ivan Instant")
    await update_staff(db, daily, notify=NotifyMode.digest)
    await submit(client, db, name="Ana Ribeiro")
    await submit(client, db, name="Tomas Berger")

    instant = await outbox(db, to="instant@desk.example", template="staff_new_application")
    assert [m.status for m in instant] == [EmailStatus.queued, EmailStatus.queued]
    waiting = await outbox(db, to="daily@desk.example")
    assert [m.status for m in waiting] == [EmailStatus.digest, EmailStatus.digest]  # not sent one by one

    today = app.state.clock()
    assert await digests(db, settings, morning(today, settings.digest_hour) - timedelta(minutes=1)) == 0
    at = morning(today, settings.digest_hour) + timedelta(minutes=1)
    assert await digests(db, settings, at) == 1
    assert await digests(db, settings, at + timedelta(hours=3)) == 0  # once a day
    [digest] = await outbox(db, to="daily@desk.example", template="staff_digest")
    assert digest.status == EmailStatus.queued
    text = render(digest, settings).get_body(("plain",)).get_content()
    assert "Ana Ribeiro" in text and "Tomas Berger" in text and "New application notice" in text
    assert {
        m.status for m in await outbox(db, to="daily@desk.example", template="staff_new_application")
    } == {EmailStatus.digested}
    # The next day: only what came since.
    await submit(client, db, name="Nino Beridze")
    assert await digests(db, settings, at + timedelta(days=1)) == 1
    latest = (await outbox(db, to="daily@desk.example", template="staff_digest"))[-1]
    latest_text = render(latest, settings).get_body(("plain",)).get_content()
    assert "Nino Beridze" in latest_text and "Ana Ribeiro" not in latest_text
    assert await digests(db, settings, at + timedelta(days=2)) == 0  # nothing new, nothing overdue: no mail


async def test_the_digest_lists_overdue_work_assigned_to_the_person(app, client, db, settings):
    app_id = await submit(client, db, name="Ana Ribeiro")
    await staff_login(client, db, "eda@desk.example", name="Eda Editor")
    _, hidden = await page_form(client, app_id)
    await client.post(f"/applications/{app_id}/assign", data={**hidden, "assignee": "me"})
    later = app.state.clock() + timedelta(days=30)
    assert await digests(db, settings, morning(later, settings.digest_hour)) == 1
    [digest] = await outbox(db, to="eda@desk.example", template="staff_digest")
    text = render(digest, settings).get_body(("plain",)).get_content()
    assert "Overdue applications assigned to you (1)" in text and "Ana Ribeiro" in text


async def test_several_schedulers_queue_one_digest_each(app, client, db, settings):
    for n in range(3):
        user = await make_staff(db, email=f"d{n}@desk.example", name=f"Daily {n}")
        await update_staff(db, user, notify=NotifyMode.digest)
    await submit(client, db)
    at = morning(app.state.clock() + timedelta(days=1), settings.digest_hour)
    counts = await asyncio.gather(*(digests(db, settings, at) for _ in range(4)))
    assert sum(counts) == 3
    async with db.sessionmaker() as session:
        rows = (
            await session.scalars(select(OutboxEmail).where(OutboxEmail.template == "staff_digest"))
        ).all()
    assert len(rows) == 3


async def test_staff_notifications_carry_list_unsubscribe_and_it_is_honoured(app, client, db, settings):
    editor = await make_staff(db, email="eda@desk.example", name="Eda Editor")
    await submit(client, db, name="Ana Ribeiro")
    [notice] = await outbox(db, to="eda@desk.example", template="staff_new_application")
    message = render(notice, settings)
    header = str(message["List-Unsubscribe"]).strip()  # a long value is folded onto its own line
    assert header.startswith(f"<{settings.base_url}/unsubscribe/") and header.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    async with db.sessionmaker() as session:
        receipt = (
            await session.scalars(select(OutboxEmail).where(OutboxEmail.template == "applicant_received"))
        ).first()
    assert receipt is not None and render(receipt, settings)["List-Unsubscribe"] is None

    path = header[1:-1].removeprefix(settings.base_url)
    page = await client.get(path)
    assert page.status_code == 200 and "New application notice" in page.text
    russian = (await client.get(path, headers={"Accept-Language": "ru"})).text
    assert (
        "Отписаться от этих писем?" in russian
        and "Eda Editor, вы отписываетесь от писем этого вида" in russian
    )
    # A mail client's one-click POST (RFC 8058) carries no form token and still works.
    done = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no more of these" in done.text
    async with db.sessionmaker() as session:
        assert (await session.get(User, editor)).muted == ["staff_new_application"]
    await submit(client, db, name="Tomas Berger")
    assert len(await outbox(db, to="eda@desk.example", template="staff_new_application")) == 1  # no new one

    forged = path[:-4] + ("abcd" if not path.endswith("abcd") else "wxyz")
    assert (await client.post(forged)).status_code == 404
    assert (await client.get("/unsubscribe/not-a-token")).status_code == 404
