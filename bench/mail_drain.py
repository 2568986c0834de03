"""B4: the outbox worker draining 10,000 queued messages to a local SMTP sink, against raw aiosmtplib sending
the same messages over the same number of persistent connections to the same sink, in the same run.

    python -m bench.mail_drain [--messages 10000] [--connections 4] [--databases sqlite,postgres]

The sink is an aiosmtpd server in its own process pinned to core 1; the worker and the raw sender run here,
pinned to core 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy import func, insert, select, text

from app.core.db import Database
from app.core.migrate import upgrade_sync
from app.mail.render import build, render
from app.main import mail_sender
from app.models import EmailStatus, OutboxEmail
from app.settings import Settings
from bench.uploads import VAR

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""
PG_ADMIN = os.environ.get(
    "BYLINE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def start_sink(port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        ["taskset", "-c", "1", sys.executable, "-c", SINK, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def database(kind: str) -> str:
    if kind == "sqlite":
        path = VAR / "mail-drain.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        VAR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "drop database if exists bench_mail"],
            check=True,
        )
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "create database bench_mail"], check=True
        )
        url = PG_ADMIN.rsplit("/", 1)[0] + "/bench_mail"
    upgrade_sync(url)
    return url


async def fill(db: Database, count: int, settings: Settings) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "recipient": f"person{n}@desk.example",
            "recipient_name": f"Person {n}",
            "is_staff": True,
            "template": "staff_task_cancelled",
            "context": {
                "task_url": f"{settings.base_url}/tasks/{n}",
                "editor_name": "Eda Editor",
                "reason": "",
            },
            "message_id": f"<bench-{n}@meridian.example>",
            "dedupe_key": f"bench:{n}",
            "status": EmailStatus.queued,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for n in range(count)
    ]
    async with db.write_session() as session:
        for start in range(0, count, 2000):
            await session.execute(insert(OutboxEmail), rows[start : start + 2000])
    if settings.is_sqlite:
        async with db.write_session() as session:
            await session.execute(text("ANALYZE"))


async def drain(db: Database, settings: Settings, count: int) -> float:
    worker = mail_sender(db, settings)
    assert worker is not None
    started = time.perf_counter()
    task = asyncio.create_task(worker.run())
    while True:
        await asyncio.sleep(0.05)
        async with db.sessionmaker() as session:
            sent = await session.scalar(
                select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == EmailStatus.sent)
            )
        if sent == count:
            break
    took = time.perf_counter() - started
    worker.stop()
    await task
    return count / took


def _rows(settings: Settings, count: int) -> list[OutboxEmail]:
    return [
        OutboxEmail(
            recipient=f"person{n}@desk.example",
            recipient_name=f"Person {n}",
            is_staff=True,
            template="staff_task_cancelled",
            context={"task_url": f"{settings.base_url}/tasks/{n}", "editor_name": "Eda Editor", "reason": ""},
            message_id=f"<raw-{n}@meridian.example>",
            dedupe_key=f"raw:{n}",
        )
        for n in range(count)
    ]


async def raw(settings: Settings, count: int, connections: int, port: int, *, encoded: bool) -> float:
    """aiosmtplib alone: the same messages made beforehand (untimed), sent over `connections` connections.

    `encoded`: as ready bytes with sendmail (the floor of the wire); otherwise as EmailMessage objects with
    send_message, aiosmtplib's own API and the bar's baseline.
    """
    rows = _rows(settings, count)
    messages: list[Any] = (
        [build(row, settings) for row in rows] if encoded else [render(row, settings) for row in rows]
    )

    async def sender() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, use_tls=False, start_tls=False)
        await smtp.connect()
        while messages:
            message = messages.pop()
            if encoded:
                await smtp.sendmail(message.sender, message.recipients, message.data)
            else:
                await smtp.send_message(message)
        await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(connections)))
    return count / (time.perf_counter() - started)


async def measure(url: str, count: int, connections: int, port: int) -> tuple[float, float, float]:
    settings = Settings(
        database_url=url,
        var_dir=VAR / "run",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_connections=connections,
        delivery_batch_size=200,
        delivery_poll_seconds=0.01,
        worker_inprocess=False,
    )
    db = Database(settings)
    try:
        await fill(db, count, settings)
        baseline = await raw(settings, count, connections, port, encoded=False)
        floor = await raw(settings, count, connections, port, encoded=True)
        worker_rate = await drain(db, settings, count)
    finally:
        await db.dispose()
    return worker_rate, baseline, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    port = 2525
    sink = start_sink(port)
    try:
        print(
            f"| B4 | database | worker msg/s | aiosmtplib send_message msg/s ({args.connections} connections) "
            "| ratio | bar | aiosmtplib sendmail of ready bytes msg/s | ratio |"
        )
        print("|----|----------|---:|---:|---:|---|---:|---:|")
        for kind in args.databases.split(","):
            url = database(kind)
            worker_rate, baseline, floor = asyncio.run(measure(url, args.messages, args.connections, port))
            ratio = worker_rate / baseline
            met = "yes" if ratio >= 0.8 else "NO"
            print(
                f"| B4 | {kind} | {worker_rate:,.0f} | {baseline:,.0f} | {ratio:.2f} | ≥ 0.8 {met} "
                f"| {floor:,.0f} | {worker_rate / floor:.2f} |"
            )
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(timeout=10)


if __name__ == "__main__":
    main()
