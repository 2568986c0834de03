"""B8: the similarity check of a trial piece at 10k and 1M stored work samples, against baselines in the same run.

    python -m bench.similarity                                   # SQLite and PostgreSQL, 10k and 1M samples
    python -m bench.similarity --databases sqlite --sizes 10000 --runs 20

Each size has its own database (var/bench/similarity-<size>.db, or bench_similarity_<size> on PostgreSQL),
migrated and seeded once: N work samples with their prints in `text_print`, written in bulk (executemany on
SQLite, COPY on PostgreSQL, the indexes dropped during the load and built again after it, foreign keys off:
no applicant or application rows are made, the lookup never reads them). The bulk samples' prints are random
64-bit values, as the hashes of texts made of a shuffled vocabulary would be, PRINTS per sample (a sample of
about 150 words); 3 % of them come from a pool of common phrases (real prints of sentences made from the
project's texts), so common prints have long index entries and at 1M pass the boilerplate cap. Three samples
hold a real paragraph and its real prints.

The measured case is `similar_texts` (app/core/similarity.py), what `run_checks` runs for the piece: a fresh
piece of about 700 words (its own words, the planted paragraph and a few common phrases), p50 and p95 over
--runs runs. Baselines: at 10k the naive check that reads every stored print and compares it with the piece's
(what the index saves); at 1M, the index lookup at 10k (how the cost grows with the archive), with the bar
B2 has for search: p50 ≤ 50 ms at a million.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from app.core import similarity
from app.core.migrate import upgrade_sync
from bench.run import PG_ADMIN, Row, Table, print_table

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PRINTS = 24
COMMON_SHARE = 0.03
COMMON_SENTENCES = 200
PLANTED = 3
CHUNK = 50_000
CREATED = datetime(2026, 1, 5, tzinfo=UTC)
APPLICATION_IDS_FROM = 10  # a sample's application: (sample id + 1) // 2 + APPLICATION_IDS_FROM
PARAGRAPH = (
    "The water utility raised its tariff by eleven percent in March, although the regional audit chamber had "
    "found that a third of the money collected for pipe repairs in the previous two years was never spent on "
    "pipes. The chamber's report names three contractors that were paid in advance for work nobody can find, "
    "and the utility's director declined to say whether the advances would ever be returned."
)


def vocabulary() -> list[str]:
    words: set[str] = set()
    for path in (ROOT / "app" / "content").glob("*.txt"):
        words.update(w.strip(".,;:!?«»\"'()—") for w in path.read_text(encoding="utf-8").split())
    return sorted(w for w in words if w.isalpha())


def sentence(rng: random.Random, words: list[str], count: int) -> str:
    return " ".join(rng.choice(words) for _ in range(count)).capitalize() + "."


def database_url(kind: str, size: int) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{VAR / f'similarity-{size}.db'}"
    return PG_ADMIN.rsplit("/", 1)[0] + f"/bench_similarity_{size}"


def create_postgres(size: int) -> None:
    name = f"bench_similarity_{size}"
    query = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc"]
    exists = subprocess.run(
        [*query, f"select 1 from pg_database where datname='{name}'"],
        capture_output=True,
        text=True,
        check=True,
    )
    if not exists.stdout.strip():
        subprocess.run([*query, f'create database "{name}"'], check=True)


class Corpus:
    """What the seed and the piece share: the vocabulary, the common phrases and their prints."""

    def __init__(self) -> None:
        rng = random.Random(15)
        self.words = vocabulary()
        self.common = [sentence(rng, self.words, 20) for _ in range(COMMON_SENTENCES)]
        self.common_hashes = [p.hash for s in self.common for p in similarity.fingerprints(s)]
        piece_words = " ".join(sentence(rng, self.words, 15) for _ in range(40))
        self.piece = f"{piece_words}\n\n{PARAGRAPH}\n\n" + " ".join(self.common[:5])


def bulk_prints(corpus: Corpus, rng: random.Random, sample_id: int) -> Iterator[tuple[int, int, int, int]]:
    application_id = (sample_id + 1) // 2 + APPLICATION_IDS_FROM
    for n in range(PRINTS):
        if rng.random() < COMMON_SHARE:
            value = rng.choice(corpus.common_hashes)
        else:
            value = rng.getrandbits(64) - (1 << 63)
        yield (value, application_id, sample_id, n * 6 + rng.randrange(6))


async def _indexes(conn: AsyncConnection, kind: str) -> list[tuple[str, str]]:
    if kind == "sqlite":
        rows = await conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'text_print' AND sql"
            )
        )
    else:
        rows = await conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'text_print' AND indexname <> :pk"
            ),
            {"pk": "pk_text_print"},
        )
    return [(str(name), str(sql)) for name, sql in rows.all()]


async def seed(engine: AsyncEngine, kind: str, size: int, corpus: Corpus) -> None:
    rng = random.Random(size)
    started = time.monotonic()
    async with engine.begin() as conn:
        if kind == "sqlite":
            await conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        else:
            await conn.exec_driver_sql("SET session_replication_role = replica")  # no foreign key triggers
        indexes = await _indexes(conn, kind)
        for name, _ in indexes:
            await conn.exec_driver_sql(f'DROP INDEX "{name}"')
        for start in range(1, size + 1, CHUNK):
            ids = range(start, min(start + CHUNK, size + 1))
            samples = [
                {
                    "id": i,
                    "application_id": (i + 1) // 2 + APPLICATION_IDS_FROM,
                    "position": (i + 1) % 2,
                    "kind": "text",
                    "title": f"Sample {i}",
                    "text": sentence(rng, corpus.words, 12),
                    "word_count": 12,
                }
                for i in ids
            ]
            prints = [row for i in ids for row in bulk_prints(corpus, rng, i)]
            await _write(conn, kind, samples, prints)
            print(f"  {kind} {size:,}: {ids[-1]:,} samples", flush=True)
        # The planted samples: a real paragraph with its real prints.
        for n in range(PLANTED):
            sample_id = size + 1 + n
            body = f"{sentence(rng, corpus.words, 30)}\n\n{PARAGRAPH}\n\n{sentence(rng, corpus.words, 30)}"
            application_id = sample_id + APPLICATION_IDS_FROM + size
            sample = {
                "id": sample_id,
                "application_id": application_id,
                "position": 0,
                "kind": "text",
                "title": "Planted",
                "text": body,
                "word_count": len(body.split()),
            }
            prints = [(p.hash, application_id, sample_id, p.position) for p in similarity.fingerprints(body)]
            await _write(conn, kind, [sample], prints)
        for _, sql in indexes:
            await conn.exec_driver_sql(sql)
    if kind == "postgres":
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM ANALYZE text_print")
            await conn.exec_driver_sql("VACUUM ANALYZE work_sample")
    else:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    print(f"seeded {kind} with {size:,} samples in {time.monotonic() - started:.0f} s", flush=True)


async def _write(
    conn: AsyncConnection, kind: str, samples: list[dict[str, Any]], prints: list[tuple[int, int, int, int]]
) -> None:
    sample_columns = ["id", "application_id", "position", "kind", "title", "text", "word_count"]
    print_columns = ["hash", "application_id", "sample_id", "position"]
    if kind == "postgres":
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table(
            "work_sample",
            records=[(*(s[c] for c in sample_columns), CREATED) for s in samples],
            columns=[*sample_columns, "created_at"],
        )
        await raw.copy_records_to_table("text_print", records=prints, columns=print_columns)
        return
    await conn.exec_driver_sql(
        "INSERT INTO work_sample (id, application_id, position, kind, title, text, word_count, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(*(s[c] for c in sample_columns), CREATED.strftime("%Y-%m-%d %H:%M:%S.%f")) for s in samples],
    )
    await conn.exec_driver_sql(
        "INSERT INTO text_print (hash, application_id, sample_id, position) VALUES (?, ?, ?, ?)", prints
    )


async def prepared(kind: str, size: int, corpus: Corpus) -> AsyncEngine:
    url = database_url(kind, size)
    if kind == "postgres":
        create_postgres(size)
    else:
        VAR.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade_sync, url)
    engine = create_async_engine(url)  # pooled, as the app runs
    async with engine.connect() as conn:
        stored = await conn.scalar(text("SELECT count(*) FROM work_sample"))
    if not stored:
        await seed(engine, kind, size, corpus)
    elif stored != size + PLANTED:
        raise SystemExit(f"{url} holds {stored} samples, not {size + PLANTED}: remove it to seed again")
    return engine


async def lookup_times(engine: AsyncEngine, corpus: Corpus, runs: int) -> tuple[list[float], dict[str, Any]]:
    prints = similarity.fingerprints(corpus.piece)
    times, found = [], {}
    for _ in range(runs + 2):
        started = time.perf_counter()
        async with AsyncSession(engine) as session:
            found = await similarity.similar_texts(
                session, application_id=1, body=corpus.piece, prints=prints
            )
        times.append(time.perf_counter() - started)
    return times[2:], found  # the first two warm the caches


async def scan_times(engine: AsyncEngine, corpus: Corpus, runs: int) -> list[float]:
    """The naive check: read every stored print and count, per sample, those the piece shares."""
    mine = {p.hash for p in similarity.fingerprints(corpus.piece)}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        shared: dict[int, int] = defaultdict(int)
        async with engine.connect() as conn:
            result = await conn.execute(text("SELECT sample_id, hash FROM text_print"))
            for sample_id, value in result.all():
                if value in mine:
                    shared[sample_id] += 1
        assert sum(1 for n in shared.values() if n >= similarity.MIN_SHARED) >= PLANTED
        times.append(time.perf_counter() - started)
    return times


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def measure(kinds: list[str], sizes: list[int], runs: int, rows: list[Row]) -> None:
    corpus = Corpus()
    for kind in kinds:
        small_p50: float | None = None
        for size in sorted(sizes):
            engine = await prepared(kind, size, corpus)
            try:
                times, found = await lookup_times(engine, corpus, runs)
                planted = [m for m in found["others"] if m["sample_id"] > size]
                assert len(planted) == PLANTED, found["others"]
                p50, p95 = ms(times, 0.5), ms(times, 0.95)
                value = (
                    f"p50 {p50:.1f} ms, p95 {p95:.1f} ms ({found['prints']} prints, {found['common']} common)"
                )
                if size <= 10_000:
                    scans = await scan_times(engine, corpus, 5)
                    scan = statistics.median(scans) * 1000
                    rows.append(
                        Row(
                            "B8",
                            kind,
                            f"similarity check, {size:,} samples",
                            value,
                            f"full scan {scan:.0f} ms",
                            f"{p50 / scan:.3f}",
                            "report",
                        )
                    )
                    small_p50 = p50
                else:
                    base = f"index lookup at 10k p50 {small_p50:.1f} ms" if small_p50 else ""
                    ratio = f"{p50 / small_p50:.2f}" if small_p50 else ""
                    rows.append(
                        Row(
                            "B8",
                            kind,
                            f"similarity check, {size:,} samples",
                            value,
                            base,
                            ratio,
                            "p50 ≤ 50 ms at 1M",
                            "yes" if p50 <= 50 else "NO",
                        )
                    )
            finally:
                await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    rows: list[Row] = Table()
    sizes = [int(s) for s in args.sizes.split(",")]
    asyncio.run(measure(args.databases.split(","), sizes, args.runs, rows))
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
