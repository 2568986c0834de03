"""B4: the outbox worker draining 10,000 queued messages into a local SMTP sink, against django-post_office
(the peer) and raw aiosmtplib draining the same messages into the same sink, interleaved in the same run.

    python -m bench.mail_drain [--messages 10000] [--connections 4] [--rounds 2] [--databases sqlite,postgres]

The sink is an aiosmtpd server in its own process pinned to core 1; Byline's worker, the peer and the raw
sender run pinned to core 0, one at a time. How each sends:

- Byline: the outbox worker (`app.main.mail_sender`) as `byline worker` runs it, over `--connections`
  persistent aiosmtplib connections, claiming `BYLINE_DELIVERY_BATCH_SIZE` rows at a time.
- post_office: django-post_office in its own venv (var/bench/peers/post_office, pinned in
  bench/peers/post_office.txt, created on first use), `send_queued_mail_until_done()` as its management
  command runs it: batches of 100, sync smtplib, one connection per thread per batch with as many threads
  as Byline has connections; its own database (SQLite file or PostgreSQL database). It is given the
  messages Byline renders (sender, recipient, subject, text and HTML parts, Message-ID, headers).
- aiosmtplib: the same messages made beforehand (untimed) as EmailMessage objects, sent with `send_message`
  over the same number of persistent connections; and ready bytes with `sendmail` (the floor of the wire).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formataddr
from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy import func, insert, select, text

from app.core.db import Database
from app.core.migrate import upgrade_sync
from app.mail.render import build, compose, render
from app.main import mail_sender
from app.models import EmailStatus, OutboxEmail
from app.settings import Settings
from bench.uploads import VAR

ROOT = Path(__file__).resolve().parent.parent
PEER_REQUIREMENTS = ROOT / "bench" / "peers" / "post_office.txt"
PEER_DRAIN = ROOT / "bench" / "peers" / "post_office_drain.py"
PEER_VENV = VAR / "peers" / "post_office"
PEER_PYTHON = PEER_VENV / "bin" / "python"
BAR = 1.2

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


def ensure_peer() -> Path:
    """The peer's venv with the pinned requirements, made (or brought up to date) with uv or pip."""
    stamp = PEER_VENV / ".requirements"
    wanted = PEER_REQUIREMENTS.read_text()
    if PEER_PYTHON.exists() and stamp.exists() and stamp.read_text() == wanted:
        return PEER_PYTHON
    uv = Path(sys.executable).parent / "uv"
    env = dict(os.environ)
    if Path("/etc/ssl/certs/ca-certificates.crt").exists():
        env.setdefault("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    if not PEER_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    if uv.exists():
        command = [
            str(uv),
            "pip",
            "install",
            "-q",
            "--python",
            str(PEER_PYTHON),
            "-r",
            str(PEER_REQUIREMENTS),
        ]
    else:
        command = [str(PEER_PYTHON), "-m", "pip", "install", "-q", "-r", str(PEER_REQUIREMENTS)]
    subprocess.run(command, check=True, env=env)
    stamp.write_text(wanted)
    return PEER_PYTHON


def _psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)


def fresh_postgres(name: str) -> None:
    _psql(f"drop database if exists {name}")
    _psql(f"create database {name}")


def fresh_sqlite(path: Path) -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def database(kind: str) -> str:
    """A new, migrated database for Byline's outbox."""
    if kind == "sqlite":
        path = VAR / "mail-drain.db"
        fresh_sqlite(path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        fresh_postgres("bench_mail")
        url = PG_ADMIN.rsplit("/", 1)[0] + "/bench_mail"
    upgrade_sync(url)
    return url


def row_values(n: int, settings: Settings, prefix: str = "bench") -> dict[str, Any]:
    """Message number `n`: a staff notification, every other one in Russian (a Russian subject and bodies)."""
    return {
        "recipient": f"person{n}@desk.example",
        "recipient_name": f"Person {n}" if n % 2 == 0 else f"Сотрудник {n}",
        "is_staff": True,
        "template": "staff_task_cancelled",
        "context": {
            "task_url": f"{settings.base_url}/tasks/{n}",
            "editor_name": "Eda Editor" if n % 2 == 0 else "Ольга Редактор",
            "reason": "",
        },
        "message_id": f"<{prefix}-{n}@meridian.example>",
        "dedupe_key": f"{prefix}:{n}",
        "locale": "en" if n % 2 == 0 else "ru",
        "time_zone": "UTC",
    }


async def fill(db: Database, count: int, settings: Settings) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            **row_values(n, settings),
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


def dump_messages(settings: Settings, count: int, path: Path) -> int:
    """The messages as Byline renders them, for the peer; returns the mean size of Byline's encoded message."""
    messages = []
    size = 0
    for n in range(count):
        row = OutboxEmail(**row_values(n, settings))
        parts = compose(row, settings)
        size += len(build(row, settings).data)
        messages.append(
            {
                "from": formataddr((parts.sender_name, parts.sender)),
                "to": formataddr((parts.recipient_name, parts.recipient)),
                "subject": parts.subject,
                "text": parts.text,
                "html": parts.html,
                "message_id": parts.message_id,
                "headers": dict(parts.headers),
            }
        )
    path.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
    return size // max(count, 1)


async def drain(db: Database, settings: Settings, count: int) -> tuple[float, float]:
    """The worker's rate and CPU seconds: until it has recorded `count` messages sent (its own counter, kept
    after each round's outcomes are committed), checked against the table once it has stopped."""
    worker = mail_sender(db, settings)
    assert worker is not None
    started, cpu = time.perf_counter(), time.process_time()
    task = asyncio.create_task(worker.run())
    while worker.sent < count:  # noqa: ASYNC110 - the counter is the worker's own, without an event
        await asyncio.sleep(0.01)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    worker.stop()
    await task
    async with db.sessionmaker() as session:
        sent = await session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == EmailStatus.sent)
        )
    if sent != count:
        raise RuntimeError(f"the worker counted {worker.sent} sent, the table holds {sent}")
    return count / took, cpu


def raw_messages(settings: Settings, count: int, *, encoded: bool) -> list[Any]:
    """The messages the raw sender sends, made beforehand: ready bytes, or EmailMessage objects."""
    rows = [OutboxEmail(**row_values(n, settings, "raw")) for n in range(count)]
    return (
        [build(row, settings, eight_bit=True) for row in rows]
        if encoded
        else [render(row, settings) for row in rows]
    )


async def raw(made: list[Any], connections: int, port: int, *, encoded: bool) -> float:
    """aiosmtplib alone: the same messages made beforehand (untimed), sent over `connections` connections.

    `encoded`: as ready bytes with sendmail (the floor of the wire); otherwise as EmailMessage objects with
    send_message, aiosmtplib's own API.
    """
    messages = list(made)
    count = len(messages)

    async def sender() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, use_tls=False, start_tls=False)
        await smtp.connect()
        while messages:
            message = messages.pop()
            if encoded:
                options = ["BODY=8BITMIME"] if message.eight_bit else None
                await smtp.sendmail(message.sender, message.recipients, message.data, mail_options=options)
            else:
                await smtp.send_message(message)
        await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(connections)))
    return count / (time.perf_counter() - started)


def bench_settings(url: str, port: int, connections: int) -> Settings:
    return Settings(
        database_url=url,
        var_dir=VAR / "run",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_connections=connections,
        delivery_poll_seconds=0.01,
        worker_inprocess=False,
    )


async def byline_round(url: str, count: int, connections: int, port: int) -> tuple[float, float]:
    settings = bench_settings(url, port, connections)
    db = Database(settings)
    try:
        await fill(db, count, settings)
        return await drain(db, settings, count)
    finally:
        await db.dispose()


def peer_round(kind: str, messages: Path, connections: int, port: int) -> tuple[float, float]:
    """post_office draining the dumped messages from a fresh database of `kind`, pinned to core 0."""
    env = dict(os.environ)
    env.update(
        BENCH_PEER_SMTP_PORT=str(port),
        BENCH_PEER_THREADS=str(connections),
        BENCH_PEER_LOCK=str(VAR / "post_office"),
        PYTHONDONTWRITEBYTECODE="",
    )
    if kind == "sqlite":
        path = VAR / "post-office.db"
        fresh_sqlite(path)
        env["BENCH_PEER_SQLITE"] = str(path)
    else:
        fresh_postgres("bench_mail_peer")
        env["BENCH_PEER_POSTGRES"] = "bench_mail_peer"
    result = subprocess.run(
        ["taskset", "-c", "0", str(ensure_peer()), str(PEER_DRAIN), str(messages)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    if outcome["sent"] != count_of(messages):
        raise RuntimeError(
            f"post_office sent {outcome['sent']} of {count_of(messages)}: {result.stderr[-2000:]}"
        )
    return float(outcome["rate"]), float(outcome["cpu_seconds"])


def count_of(messages: Path) -> int:
    return len(json.loads(messages.read_text(encoding="utf-8")))


@dataclass
class Measured:
    database: str
    byline: list[float]
    peer: list[float]
    send_message: list[float]
    sendmail: list[float]
    size: int
    byline_cpu: list[float]
    peer_cpu: list[float]

    @staticmethod
    def _range(values: list[float]) -> str:
        low, high = min(values), max(values)
        return f"{low:,.0f}" if round(low) == round(high) else f"{low:,.0f}-{high:,.0f}"

    def ratios(self, against: list[float]) -> list[float]:
        return [mine / theirs for mine, theirs in zip(self.byline, against, strict=True)]

    def rows(self, count: int, connections: int) -> list[dict[str, str]]:
        """The README table's rows: Byline against the peer (the bar), against aiosmtplib, against the floor."""
        peer = self.ratios(self.peer)
        met = "yes" if min(peer) >= BAR else "no"
        case = f"outbox drain, {count:,} messages, {connections} connections"
        return [
            {
                "id": "B4",
                "database": self.database,
                "case": f"{case}, vs django-post_office",
                "value": f"{self._range(self.byline)} msg/s",
                "baseline": f"post_office {self._range(self.peer)} msg/s",
                "ratio": self._range_ratio(peer),
                "bar": f"≥ {BAR}",
                "met": met,
            },
            {
                "id": "B4",
                "database": self.database,
                "case": f"{case}, vs raw aiosmtplib",
                "value": f"{self._range(self.byline)} msg/s",
                "baseline": f"send_message {self._range(self.send_message)} msg/s",
                "ratio": self._range_ratio(self.ratios(self.send_message)),
                "bar": "report",
                "met": "",
            },
            {
                "id": "B4",
                "database": self.database,
                "case": f"{case}, vs ready bytes",
                "value": f"{self._range(self.byline)} msg/s",
                "baseline": f"sendmail {self._range(self.sendmail)} msg/s",
                "ratio": self._range_ratio(self.ratios(self.sendmail)),
                "bar": "report",
                "met": "",
            },
        ]

    @staticmethod
    def _range_ratio(values: list[float]) -> str:
        low, high = min(values), max(values)
        return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"


def measure(kind: str, count: int, connections: int, rounds: int, port: int, log: Any = print) -> Measured:
    """Interleaved rounds on one database: Byline, post_office, aiosmtplib send_message, sendmail; repeat."""
    VAR.mkdir(parents=True, exist_ok=True)
    messages = VAR / "mail-drain-messages.json"
    settings = bench_settings("sqlite+aiosqlite:///:memory:", port, connections)
    size = dump_messages(settings, count, messages)
    ensure_peer()
    result = Measured(kind, [], [], [], [], size, [], [])
    objects = raw_messages(settings, count, encoded=False)
    ready = raw_messages(settings, count, encoded=True)
    for number in range(1, rounds + 1):
        rate, cpu = asyncio.run(byline_round(database(kind), count, connections, port))
        result.byline.append(rate)
        result.byline_cpu.append(cpu * 1000 / count)
        rate, cpu = peer_round(kind, messages, connections, port)
        result.peer.append(rate)
        result.peer_cpu.append(cpu * 1000 / count)
        result.send_message.append(asyncio.run(raw(objects, connections, port, encoded=False)))
        result.sendmail.append(asyncio.run(raw(ready, connections, port, encoded=True)))
        log(
            f"  {kind} round {number}: Byline {result.byline[-1]:,.0f} msg/s, post_office {result.peer[-1]:,.0f}"
            f" ({result.byline[-1] / result.peer[-1]:.2f}x), aiosmtplib send_message"
            f" {result.send_message[-1]:,.0f} ({result.byline[-1] / result.send_message[-1]:.2f}x), sendmail"
            f" {result.sendmail[-1]:,.0f} ({result.byline[-1] / result.sendmail[-1]:.2f}x); CPU per message:"
            f" Byline {result.byline_cpu[-1]:.2f} ms, post_office {result.peer_cpu[-1]:.2f} ms"
        )
    return result


def pin_here() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--json", type=Path, help="also write the table's rows to this file (bench/run.py)")
    args = parser.parse_args()
    pin_here()
    port = 2525
    sink = start_sink(port)
    print(
        "How each sends: Byline's outbox worker over "
        f"{args.connections} persistent aiosmtplib connections; post_office {PEER_REQUIREMENTS.name} pins, "
        f"send_queued_mail_until_done(), batches of 100, sync smtplib with {args.connections} threads, one "
        "connection per thread per batch; aiosmtplib send_message / sendmail of messages made beforehand over "
        f"{args.connections} persistent connections. Sink: aiosmtpd on core 1; senders on core 0."
    )
    try:
        results = []
        for kind in args.databases.split(","):
            results.append(measure(kind, args.messages, args.connections, args.rounds, port))
        print()
        print("| id | database | case | measured | baseline | ratio | bar | met |")
        print("|----|----------|------|----------|----------|-------|-----|-----|")
        for result in results:
            for row in result.rows(args.messages, args.connections):
                print("| " + " | ".join(row.values()) + " |")
        if args.json:
            rows = [row for result in results for row in result.rows(args.messages, args.connections)]
            args.json.write_text(json.dumps(rows, ensure_ascii=False))
        for result in results:
            print(
                f"{result.database}: Byline's message {result.size:,} bytes on average; "
                f"median ratio to post_office {statistics.median(result.ratios(result.peer)):.2f}; CPU per "
                f"message (this process; the database server's not counted): Byline "
                f"{statistics.median(result.byline_cpu):.2f} ms, post_office {statistics.median(result.peer_cpu):.2f} ms"
            )
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(timeout=10)


if __name__ == "__main__":
    main()
