"""Byline's benchmarks (B1–B6 of the README's Performance table): each against a baseline measured in the same run.

    make bench                      # everything, SQLite and PostgreSQL, 10k and 1M applications
    python -m bench.run --sizes 10000 --databases sqlite --duration 5

The app and the baseline are served by uvicorn pinned to core 0; wrk (or, for uploads, a Python client) runs
pinned to core 1. Seeded databases are kept under var/bench/ (SQLite) or as bench_<size> (PostgreSQL; another
prefix with BYLINE_BENCH_DATABASE_PREFIX, other ports with BYLINE_BENCH_PORTS), so only the first run seeds.
B4 (the outbox drain against django-post_office and raw aiosmtplib) is bench/mail_drain.py, run as a process of
its own. The table at the end gives absolute figures, the ratio to the baseline and the bar.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.seed import BENCH_EMAIL, BENCH_PASSWORD
from bench.uploads import form_posts, large_uploads

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PYTHON = sys.executable
# Another checkout benchmarking on the same machine can take other ports and databases of its own:
# BYLINE_BENCH_PORTS=8120,8121 BYLINE_BENCH_DATABASE_PREFIX=mine_bench
APP_PORT, BASE_PORT = (int(p) for p in os.environ.get("BYLINE_BENCH_PORTS", "8100,8101").split(","))
DB_PREFIX = os.environ.get("BYLINE_BENCH_DATABASE_PREFIX", "bench")
PG_ADMIN = os.environ.get(
    "BYLINE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Row:
    id: str
    database: str
    case: str
    value: str
    baseline: str = ""
    ratio: str = ""
    bar: str = ""
    met: str = ""


def database_url(kind: str, size: int) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{VAR / f'byline-{size}.db'}"
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_PREFIX}_{size}"


def ensure_seeded(kind: str, size: int) -> str:
    url = database_url(kind, size)
    if kind == "postgres":
        name = f"{DB_PREFIX}_{size}"
        exists = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-Atc",
                f"select 1 from pg_database where datname='{name}'",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not exists:
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f'create database "{name}"'], check=True
            )
    VAR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run([PYTHON, "-m", "bench.seed", "--url", url, "--count", str(size)], check=True, cwd=ROOT)
    took = time.monotonic() - started
    if took > 5:
        print(f"seeded {kind} with {size:,} applications in {took:.0f} s")
    if kind == "postgres":
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                f"{DB_PREFIX}_{size}",
                "-qc",
                "vacuum analyze",
            ]
        )
    return url


def app_env(url: str, port: int) -> dict[str, str]:
    run_dir = VAR / "run"
    return {
        **os.environ,
        "BYLINE_DATABASE_URL": url,
        "BYLINE_VAR_DIR": str(run_dir),
        "BYLINE_BASE_URL": f"http://127.0.0.1:{port}",
        "BYLINE_RATE_APPLY_PER_IP": "100000000",
        "BYLINE_RATE_APPLY_PER_EMAIL": "100000000",
        "BYLINE_LOGIN_MAX_FAILURES": "100000000",
        "BYLINE_SPAM_MIN_FORM_SECONDS": "0",
        "BYLINE_WORKER_INPROCESS": "false",
        "BYLINE_MAIL_CATCHER": "false",
        "BASELINE_UPLOAD_DIR": str(run_dir / "baseline-uploads"),
    }


@contextlib.contextmanager
def served(
    factory: str, url: str, port: int, *, quiet: bool = False
) -> Iterator[tuple[psutil.Process, float]]:
    """uvicorn serving `factory` on core 0; yields the process and its start-up time in seconds.

    `quiet`: the server's own output (the access log) is dropped.
    """
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            "taskset",
            "-c",
            "0",
            PYTHON,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=app_env(url, port),
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.DEVNULL if quiet else None,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{factory} did not start")
            time.sleep(0.05)
        yield psutil.Process(proc.pid), time.monotonic() - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def session_cookie(port: int) -> str:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=False) as client:
        page = client.get("/login").text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page)
        assert token, "no CSRF token on the login page"
        answer = client.post(
            "/login", data={"_csrf_token": token.group(1), "email": BENCH_EMAIL, "password": BENCH_PASSWORD}
        )
        assert answer.status_code == 303, answer.text
        return f"byline_session={client.cookies['byline_session']}"


@dataclass
class Load:
    rps: float
    p50_ms: float
    errors: int


def wrk(url: str, duration: int, cookie: str = "", connections: int = 64) -> Load:
    """Load from wrk on core 1; 64 connections measure throughput, one connection measures latency."""
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if cookie:
        command[5:5] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    assert p50, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(n) for n in socket_errors.groups())
    return Load(rps, float(p50.group(1)) * scale, count)


def warm(url: str, cookie: str) -> None:
    for _ in range(20):
        httpx.get(url, headers={"Cookie": cookie} if cookie else {}, timeout=30)


def queue_benchmarks(kind: str, sizes: list[int], duration: int, rows: list[Row]) -> None:
    p50s: dict[int, float] = {}
    for size in sizes:
        url = ensure_seeded(kind, size)
        with served("bench.baseline_app:create_app", url, BASE_PORT):
            base_url = f"http://127.0.0.1:{BASE_PORT}/rows"
            warm(base_url, "")
            base = wrk(base_url, duration)
            lookup_url = f"http://127.0.0.1:{BASE_PORT}/lookup?email=nobody@applicant.example"
            warm(lookup_url, "")
            lookup = wrk(lookup_url, duration, connections=1)
        with served("app.main:create_app", url, APP_PORT) as (_, startup):
            cookie = session_cookie(APP_PORT)
            page_url = f"http://127.0.0.1:{APP_PORT}/dashboard?state=screening&department=news"
            warm(page_url, cookie)
            page = wrk(page_url, duration, cookie)
            p50s[size] = page.p50_ms
            rows.append(
                Row(
                    "B1",
                    kind,
                    f"queue page, state + department, {size:,} apps",
                    f"{page.rps:,.0f} req/s, p50 {page.p50_ms:.1f} ms, {page.errors} errors",
                    f"{base.rps:,.0f} req/s",
                    f"{page.rps / base.rps:.2f}",
                    "≥ 0.7 at 10k",
                    ("yes" if page.rps / base.rps >= 0.7 else "NO") if size <= 10_000 else "",
                )
            )
            search_url = f"http://127.0.0.1:{APP_PORT}/dashboard?state=all&q=nino+tsereteli"
            warm(search_url, cookie)
            found = wrk(search_url, duration, cookie, connections=1)
            rows.append(
                Row(
                    "B2",
                    kind,
                    f"full-text search in the queue, {size:,} apps (one client)",
                    f"p50 {found.p50_ms:.1f} ms ({found.rps:,.0f} req/s)",
                    f"index lookup p50 {lookup.p50_ms:.1f} ms",
                    f"{found.p50_ms / max(lookup.p50_ms, 0.001):.1f}× lookup",
                    "p50 ≤ 50 ms at 1M",
                    ("yes" if found.p50_ms <= 50 else "NO") if size >= 1_000_000 else "",
                )
            )
            rows.append(Row("B6", kind, f"start-up to first page, {size:,} apps", f"{startup:.2f} s"))
    if len(p50s) > 1:
        small, large = min(p50s), max(p50s)
        growth = p50s[large] / p50s[small]
        rows.append(
            Row(
                "B1",
                kind,
                f"queue p50 at {large:,} vs {small:,}",
                f"{p50s[large]:.1f} ms vs {p50s[small]:.1f} ms",
                ratio=f"{growth:.2f}",
                bar="≤ 2",
                met="yes" if growth <= 2 else "NO",
            )
        )


def upload_benchmarks(kind: str, rows: list[Row], posts: int, *, only: set[str], rounds: int = 1) -> None:
    url = ensure_seeded(kind, 10_000)
    for _ in range(rounds if "B3" in only else 0):
        # Baseline and app one after the other in each round, so that a change in the machine's load shows.
        with served("bench.baseline_app:create_app", url, BASE_PORT):
            base = asyncio.run(form_posts(f"http://127.0.0.1:{BASE_PORT}", posts, baseline=True))
        with served("app.main:create_app", url, APP_PORT):
            mine = asyncio.run(
                form_posts(f"http://127.0.0.1:{APP_PORT}", posts, baseline=False, database_url=url)
            )
        stored = mine.stored_rows
        rows.append(
            Row(
                "B3",
                kind,
                "form post: 1 MB PDF, a link, pasted text",
                f"{mine.rps:.1f} posts/s, {mine.errors} errors, {stored} stored of {mine.redirects} answered 303",
                f"{base.rps:.1f} posts/s",
                f"{mine.rps / base.rps:.2f}",
                "≥ 0.6, no errors, rows = 303s",
                "yes"
                if mine.rps / base.rps >= 0.6 and not mine.errors and stored == mine.redirects
                else "NO",
            )
        )
    if "B5" not in only:
        return
    with served("app.main:create_app", url, APP_PORT) as (process, _):
        growth = asyncio.run(large_uploads(f"http://127.0.0.1:{APP_PORT}", process, count=20))
    rows.append(
        Row(
            "B5",
            kind,
            "memory: 20 concurrent 20 MB uploads",
            f"peak RSS +{growth.peak_growth_mb:.1f} MB over idle {growth.idle_mb:.0f} MB "
            f"({growth.accepted} stored)",
            bar="≤ 64 MB",
            met="yes" if growth.peak_growth_mb <= 64 else "NO",
        )
    )


def cold_make_test(rows: list[Row]) -> None:
    """A fresh clone and `make test` from nothing: venv, install, both databases."""
    target = VAR / "cold-clone"
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True)
    started = time.monotonic()
    result = subprocess.run(["make", "test"], cwd=target, capture_output=True, text=True)
    took = time.monotonic() - started
    shutil.rmtree(target, ignore_errors=True)
    rows.append(
        Row(
            "B6",
            "both",
            "cold `make test` (fresh clone)",
            f"{took / 60:.1f} min, exit {result.returncode}",
            bar="< 5 min",
            met="yes" if took < 300 and result.returncode == 0 else "NO",
        )
    )


class Table(list[Row]):
    """The results, each printed as soon as it is measured, and all of them again at the end."""

    def append(self, row: Row) -> None:
        super().append(row)
        print(" | ".join(getattr(row, f) for f in Row.__dataclass_fields__), flush=True)


def print_table(rows: list[Row]) -> None:
    header = Row("id", "database", "case", "measured", "baseline", "ratio", "bar", "met")
    table = [header, *rows]
    widths = [max(len(getattr(r, f)) for r in table) for f in Row.__dataclass_fields__]
    for n, row in enumerate(table):
        cells = [getattr(row, f).ljust(w) for f, w in zip(Row.__dataclass_fields__, widths, strict=True)]
        print("| " + " | ".join(cells) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def mail_drain(kind: str, messages: int, rows: list[Row]) -> None:
    """B4: bench/mail_drain.py in its own process (it pins itself to core 0), its rows read back."""
    out = VAR / f"mail-drain-{kind}.json"
    out.unlink(missing_ok=True)
    command = [PYTHON, "-m", "bench.mail_drain", "--databases", kind, "--messages", str(messages)]
    subprocess.run([*command, "--json", str(out)], check=True, cwd=ROOT)
    for row in json.loads(out.read_text(encoding="utf-8")):
        rows.append(Row(**row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per wrk run")
    parser.add_argument("--posts", type=int, default=200, help="form posts per B3 run")
    parser.add_argument("--only", default="B1,B2,B3,B4,B5,B6")
    parser.add_argument("--messages", type=int, default=10_000, help="messages per B4 drain")
    parser.add_argument("--rounds", type=int, default=1, help="B3 runs, each baseline then app")
    parser.add_argument("--cold-test", action="store_true", help="also time a cold `make test` (B6)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (make bench does this)")
    only = set(args.only.split(","))
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[Row] = Table()
    for kind in args.databases.split(","):
        if only & {"B1", "B2", "B6"}:
            queue_benchmarks(kind, sizes, args.duration, rows)
        if only & {"B3", "B5"}:
            upload_benchmarks(kind, rows, args.posts, only=only, rounds=args.rounds)
        if "B4" in only:
            mail_drain(kind, args.messages, rows)
    if args.cold_test:
        cold_make_test(rows)
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
