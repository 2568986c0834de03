"""The failure matrix of docs/email.md, M1-M15: the outbox worker against a real SMTP server on 127.0.0.1, on the real
database of this run (SQLite or PostgreSQL); crashes and races with the worker as real processes."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.core.outbound import enqueue
from app.models import EmailStatus
from app.settings import Settings
from tests.environment import backend, free_port
from tests.factories import open_form, post_application, staff_login, valid_fields
from tests.mail.support import mail_settings, stop_process, until, worker_process, worker_running
from tests.queries import outbox


async def queue(
    db, settings: Settings, count: int, *, template: str = "staff_task_cancelled", **row: Any
) -> list[int]:
    ids = []
    async with db.write_session() as session:
        for n in range(count):
            message = await enqueue(
                session,
                settings=settings,
                template=template,
                recipient=row.get("recipient", f"person{n}@desk.example"),
                dedupe_key=f"test:{time.time_ns()}:{n}",
                context={"task_url": f"{settings.base_url}/tasks/{n}", "editor_name": "Eda", "reason": ""},
            )
            await session.flush()
            ids.append(message.id)
    return ids


def all_status(*statuses: str):
    async def check(db) -> bool:
        return all(row.status in statuses for row in await outbox(db))

    return check


async def test_m1_a_rolled_back_change_leaves_no_row_and_sends_nothing(db, settings, relay):
    with pytest.raises(RuntimeError):
        async with db.write_session() as session:
            await enqueue(
                session,
                settings=settings,
                template="staff_task_cancelled",
                recipient="a@desk.example",
                dedupe_key="rolled-back",
                context={"task_url": "x", "editor_name": "E", "reason": ""},
            )
            await session.flush()
            raise RuntimeError("the change fails after queueing its mail")
    assert await outbox(db) == []
    async with worker_running(db, mail_settings(settings, relay)):
        await asyncio.sleep(0.3)
    assert relay.received == []


async def test_m2_server_down_then_back_delivers_once(db, settings, relay):
    relay.stop()
    [message] = await queue(db, settings, 1)
    config = mail_settings(settings, relay)
    async with worker_running(db, config):
        await until(lambda: _attempts_at_least(db, message, 2))  # retried while the server is down
        row = (await outbox(db))[0]
        assert row.status != EmailStatus.sent and row.last_error  # each failure is kept for staff to read
        relay.start()
        await until(lambda: all_status(EmailStatus.sent)(db))
    assert len(relay.received) == 1


async def _attempts_at_least(db, message_id: int, count: int) -> bool:
    return any(row.id == message_id and row.attempts >= count for row in await outbox(db))


@pytest.mark.parametrize(
    "code", ["421 Try later", "450 Mailbox busy", "451 Local error", "452 Out of storage"]
)
async def test_m3_temporary_replies_are_retried_and_delivered_once(db, settings, relay, code):
    relay.replies = [code, code]
    await queue(db, settings, 1)
    async with worker_running(db, mail_settings(settings, relay)):
        await until(lambda: all_status(EmailStatus.sent)(db))
    [row] = await outbox(db)
    assert row.attempts == 3 and len(relay.received) == 1
    assert row.last_error is None  # cleared on delivery; each failure was kept until then


@pytest.mark.parametrize("code", ["550 No such user", "553 Bad address", "554 Rejected"])
async def test_m4_permanent_refusals_fail_at_once(db, settings, relay, code):
    relay.always = code
    await queue(db, settings, 1)
    async with worker_running(db, mail_settings(settings, relay)):
        await until(lambda: all_status(EmailStatus.failed)(db))
        await asyncio.sleep(0.2)
    [row] = await outbox(db)
    assert row.attempts == 1 and code.split()[0] in (row.last_error or "")
    assert relay.data_commands == 1


async def test_worker_log_lines_carry_no_email_addresses(db, settings, relay, caplog):
    relay.always = "550 No such user"
    await queue(db, settings, 1, recipient="leyla.private@applicant.example")
    async with worker_running(db, mail_settings(settings, relay)):
        await until(lambda: all_status(EmailStatus.failed)(db))
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("byline"))  # not the relay's
    assert "550" in ours and "leyla.private@applicant.example" not in ours


async def test_m5_a_refused_login_pauses_the_queue_without_spending_attempts(
    client, db, settings, relay, caplog
):
    relay.refuse_login = True
    await queue(db, settings, 3)
    config = mail_settings(
        settings, relay, smtp_username="desk", smtp_password=SecretStr("wrong"), mail_pause_seconds=600
    )
    async with worker_running(db, config):
        await until(lambda: _any_error(db))
        await asyncio.sleep(0.3)
    assert all(row.status == EmailStatus.queued and row.attempts == 0 for row in await outbox(db))
    assert "authentication refused" in ((await outbox(db))[0].last_error or "")
    assert any("ALERT" in record.message for record in caplog.records)
    assert relay.received == []
    await staff_login(client, db, "eda@desk.example")
    page = (await client.get("/outbox")).text
    assert 'id="paused"' in page and "authentication refused" in page  # staff see it, not only the log


async def _any_error(db) -> bool:
    return any(row.last_error for row in await outbox(db))


async def test_m6_a_server_that_hangs_in_data_times_out_and_is_retried(db, settings, relay):
    relay.hang = True
    await queue(db, settings, 1)
    async with worker_running(db, mail_settings(settings, relay, smtp_timeout_seconds=0.5)):
        await until(lambda: _any_error(db))
        [row] = await outbox(db)
        assert row.status != EmailStatus.sent and "Timed out" in row.last_error  # transient: tried again
        relay.hang = False
        await until(lambda: all_status(EmailStatus.sent)(db))
    assert len(relay.received) == 1


async def test_m13_a_broken_row_fails_with_its_reason_and_the_others_go_out(db, settings, relay):
    good = await queue(db, settings, 2)
    [broken] = await queue(db, settings, 1, template="no_such_template")
    [bad_address] = await queue(db, settings, 1, recipient="not an address")
    async with worker_running(db, mail_settings(settings, relay)):
        await until(lambda: all_status(EmailStatus.sent, EmailStatus.failed)(db))
    by_id = {row.id: row for row in await outbox(db)}
    assert {by_id[i].status for i in good} == {EmailStatus.sent}
    assert by_id[broken].status == EmailStatus.failed and "no_such_template" in by_id[broken].last_error
    assert (
        by_id[bad_address].status == EmailStatus.failed
        and "not an email address" in by_id[bad_address].last_error
    )
    assert len(relay.received) == 2


async def test_m14_a_message_that_always_gets_451_ends_dead(db, settings, relay):
    relay.always = "451 Try again"
    await queue(db, settings, 1)
    async with worker_running(db, mail_settings(settings, relay, delivery_max_attempts=3)):
        await until(lambda: all_status(EmailStatus.dead)(db))
    [row] = await outbox(db)
    assert row.attempts == 3 and "451" in row.last_error


async def test_m15_a_double_submit_queues_and_sends_one_message(app, client, db, settings, relay):
    data = valid_fields(email="twice@applicant.example")
    tokens = await open_form(client)
    first = await post_application(client, data, tokens=tokens)
    second = await post_application(client, data, tokens=tokens)
    assert first.status_code == second.status_code == 303
    assert [r.template for r in await outbox(db)].count("applicant_received") == 1
    with pytest.raises(IntegrityError):  # the dedupe key is unique in the database itself
        async with db.write_session() as session:
            row = (await outbox(db))[0]
            await enqueue(
                session,
                settings=settings,
                template=row.template,
                recipient=row.recipient,
                dedupe_key=row.dedupe_key,
                context=row.context,
            )
            await session.flush()
    async with worker_running(db, mail_settings(settings, relay), app.state.clock):
        await until(lambda: all_status(EmailStatus.sent)(db))
    assert [r.to for r in relay.received].count(["twice@applicant.example"]) == 1


async def test_m12_the_worker_and_a_busy_web_process_share_the_database(app, client, db, settings, relay):
    async with worker_running(db, mail_settings(settings, relay), app.state.clock):
        answers = await asyncio.gather(
            *(post_application(client, valid_fields(email=f"busy{n}@applicant.example")) for n in range(12))
        )
        assert [a.status_code for a in answers] == [303] * 12
        await until(lambda: all_status(EmailStatus.sent)(db), within=30)
    assert len({r.message_id for r in relay.received}) == len(await outbox(db))


async def test_m11_the_worker_reconnects_after_its_database_connection_is_killed(db, settings, relay):
    if backend() != "postgres":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    await queue(db, settings, 5)
    relay.delay = 0.05
    async with worker_running(db, mail_settings(settings, relay, delivery_batch_size=1, mail_connections=1)):
        await until(lambda: _sent_at_least(db, 1))
        async with db.engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        await queue(db, settings, 5)
        await until(lambda: all_status(EmailStatus.sent)(db), within=30)
    assert sorted(set(relay.ids())) == sorted(relay.ids())  # nothing twice
    assert len(relay.received) == 10


async def _sent_at_least(db, count: int) -> bool:
    return sum(1 for row in await outbox(db) if row.status == EmailStatus.sent) >= count


# --- real worker processes ---------------------------------------------------------------------------------


async def kill_a_worker_while_it_sends(db, settings, relay) -> None:
    """A worker process claims what is due and is killed while the relay holds it in DATA."""
    first = worker_process(settings, relay)
    try:
        await until(lambda: all_status(EmailStatus.sending)(db))
        stop_process(first, signal.SIGKILL)
    finally:
        stop_process(first, signal.SIGKILL)


async def another_worker_sends_everything(db, settings, relay) -> None:
    """A second worker process runs until every message is sent."""
    second = worker_process(settings, relay)
    try:
        await until(lambda: all_status(EmailStatus.sent)(db))
    finally:
        stop_process(second)


async def test_m7_a_worker_killed_after_claiming_leaves_the_rows_to_another_worker(db, settings, relay):
    relay.hang = True  # the first worker claims and is stuck in DATA when it is killed
    await queue(db, settings, 3)
    await kill_a_worker_while_it_sends(db, settings, relay)
    assert relay.received == []
    relay.hang = False
    await another_worker_sends_everything(db, settings, relay)
    assert sorted(relay.ids()) == sorted(row.message_id for row in await outbox(db))  # each once


async def test_m7_a_worker_killed_with_a_batch_claimed_ahead_leaves_both_batches_to_another_worker(
    db, settings, relay
):
    relay.hang = True  # the first batch is stuck in DATA while the worker has claimed the next one
    await queue(db, settings, 20)  # two batches of the worker's 10
    await kill_a_worker_while_it_sends(db, settings, relay)
    assert relay.received == []
    assert len({row.locked_by for row in await outbox(db)}) == 1  # both batches were the first worker's
    relay.hang = False
    await another_worker_sends_everything(db, settings, relay)
    ids = relay.ids()
    assert len(ids) == 20 and sorted(ids) == sorted(row.message_id for row in await outbox(db))  # each once


async def test_m8_a_worker_killed_after_the_relay_accepted_sends_again_with_the_same_message_id(
    db, settings, relay
):
    await queue(db, settings, 1)
    accepted = asyncio.Event()
    loop = asyncio.get_running_loop()
    first = worker_process(settings, relay)
    relay.on_accept = lambda _got: (
        first.send_signal(signal.SIGKILL),
        loop.call_soon_threadsafe(accepted.set),
    )
    try:
        await asyncio.wait_for(accepted.wait(), timeout=15)
    finally:
        stop_process(first, signal.SIGKILL)
    relay.on_accept = None
    second = worker_process(settings, relay)
    try:
        await until(lambda: all_status(EmailStatus.sent)(db))
    finally:
        stop_process(second)
    [row] = await outbox(db)
    assert relay.ids() == [row.message_id, row.message_id]  # at least once: the copy is recognisable


async def test_m9_several_worker_processes_send_every_message_exactly_once(db, settings, relay):
    await queue(db, settings, 120)
    workers = [worker_process(settings, relay, BYLINE_DELIVERY_LOCK_SECONDS="60") for _ in range(3)]
    try:
        await until(lambda: all_status(EmailStatus.sent)(db), within=60)
    finally:
        for process in workers:
            stop_process(process)
    ids = relay.ids()
    assert len(ids) == 120 and len(set(ids)) == 120
    assert len({row.locked_by for row in await outbox(db)}) == 1  # locks are cleared once sent


async def test_m10_sigterm_finishes_the_message_in_flight_and_gives_back_the_rest(db, settings, relay):
    relay.delay = 0.3
    await queue(db, settings, 20)
    process = worker_process(settings, relay, BYLINE_MAIL_CONNECTIONS="1", BYLINE_DELIVERY_BATCH_SIZE="20")
    try:
        await asyncio.to_thread(relay.wait_for, 1)
    finally:
        code = stop_process(process, signal.SIGTERM)
    assert code == 0
    final = await outbox(db)
    assert not [row for row in final if row.status == EmailStatus.sending or row.locked_by]
    sent = [row for row in final if row.status == EmailStatus.sent]
    assert 1 <= len(sent) < 20
    assert sorted(relay.ids()) == sorted(
        row.message_id for row in sent
    )  # the one in flight went out and counts
    assert all(row.attempts == 0 for row in final if row.status == EmailStatus.queued)  # given back unspent


async def test_the_worker_sends_what_the_app_queued_and_the_catcher_keeps_it(
    app, client, db, settings, relay
):
    """The embedded default: the worker delivers to the local mail catcher, whose pages show the mail."""
    from app.mail import catcher

    catcher_settings = settings.model_copy(update={"mail_catcher": True, "mail_catcher_port": free_port()})
    server = await catcher.start(catcher_settings)
    try:
        assert (
            await post_application(client, valid_fields(email="leyla@applicant.example"))
        ).status_code == 303
        config = catcher_settings.model_copy(update={"delivery_poll_seconds": 0.02, "smtp_host": ""})
        async with worker_running(db, config, app.state.clock):
            await until(lambda: all_status(EmailStatus.sent)(db))
    finally:
        server.close()
        await server.wait_closed()
    caught = catcher.listing(catcher_settings, to="leyla@")
    assert len(caught) == 1 and "received" in caught[0].subject.lower()
    message = catcher.read(catcher_settings, caught[0].id)
    assert "/status/" in message["text"] and "<html" in message["html"]
