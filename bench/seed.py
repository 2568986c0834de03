"""Seed a database with an archive of applications for the benchmarks: bulk inserts, a progress bar.

    python -m bench.seed --url sqlite+aiosqlite:///var/bench/byline-10k.db --count 10000

The database is migrated first. Applications spread over every state the way a long-running desk's archive does
(most decided, a working set open), each with one or two departments, one to three topics and one sample; the
searchable text is written too, so full-text search has the whole archive to look through. A bench editor is
created (email bench@byline.example, password BENCH_PASSWORD) for the load runs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from tqdm import tqdm

from app.accounts.passwords import hash_password
from app.core.counts import recount
from app.core.migrate import upgrade_sync
from app.core.search import document, index_words
from app.core.site import ensure_reference_data
from app.models import (
    Applicant,
    Application,
    ApplicationDepartment,
    ApplicationSearch,
    ApplicationTopic,
    Department,
    Event,
    Topic,
    User,
    UserDepartment,
    WorkSample,
)
from app.settings import Settings

BENCH_EMAIL = "bench@byline.example"
BENCH_PASSWORD = "bench password for load runs only"  # noqa: S105
CHUNK = 5_000

FIRST = (
    "Ana Tomas Nino Leyla Farid Olga Eda Ivan Dana Marta Lucas Sofia Omar Irina Pablo Giulia Karim Yusuf Hana "
    "Mateo Elif Arman Salome Jonas Aylin Rustam Mariam Luka Teona Davit Ayan Zara Nika Selin Emre Lia Tariq"
).split()
LAST = (
    "Ribeiro Berger Beridze Mammadova Aliyev Petrova Kaya Novak Horvat Rossi Haddad Yilmaz Sarkisian Gelashvili "
    "Demir Costa Nowak Lindqvist Moreau Hoffmann Kowalski Ivanova Tsereteli Hakobyan Bakirov Sokolova Duarte"
).split()
WORDS = (
    "election budget inflation parliament ministry pipeline ceasefire border trade sanctions energy drought "
    "harvest currency reform protest court verdict coalition summit refugee water grain tariff census "
    "corruption audit pension vaccine hospital school transport railway port bank loan deficit export"
).split()
# A desk that has run for years: most applications decided, a working set open.
STATES = [
    ("rejected", 50),
    ("accepted", 12),
    ("withdrawn", 8),
    ("spam", 5),
    ("submitted", 8),
    ("screening", 7),
    ("info_requested", 4),
    ("fact_check", 3),
    ("trial", 3),
]
OPEN = {"submitted", "screening", "info_requested", "fact_check", "trial"}


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def chunks(total: int) -> Iterator[range]:
    for start in range(0, total, CHUNK):
        yield range(start, min(start + CHUNK, total))


async def _ids(conn: AsyncConnection, model: Any) -> list[int]:
    return list((await conn.execute(select(model.id).order_by(model.id))).scalars().all())


async def seed(url: str, count: int, *, seed_value: int = 7) -> None:
    """Fill a migrated, empty database with `count` applications (a database already filled is left alone)."""
    engine = create_async_engine(url, poolclass=NullPool)
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        already = await conn.scalar(select(func.count()).select_from(Application))
        if already:
            print(f"{url}: already holds {already} applications; nothing to do")
            await engine.dispose()
            return

    async with AsyncSession(engine) as session:
        await ensure_reference_data(session)
        await session.commit()
    async with engine.begin() as conn:
        departments = await _ids(conn, Department)
        topics = await _ids(conn, Topic)
        editor = (
            await conn.execute(
                insert(User).returning(User.id),
                [
                    {
                        "email": BENCH_EMAIL,
                        "name": "Bench Editor",
                        "password_hash": hash_password(BENCH_PASSWORD),
                        "is_editor": True,
                        "is_admin": False,
                        "is_fact_checker": False,
                        "is_active": True,
                        "notify": "instant",
                        "muted": [],
                        "must_change_password": False,
                        "created_at": now,
                    }
                ],
            )
        ).scalar_one()
        await conn.execute(insert(UserDepartment), [{"user_id": editor, "department_id": departments[0]}])
    names = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(997)]
    states = [state for state, weight in STATES for _ in range(weight)]
    with tqdm(total=count, unit="app", desc=url.split("///")[-1][-40:]) as bar:
        for block in chunks(count):
            async with engine.begin() as conn:
                await _insert_block(conn, block, rng, now, names, states, departments, topics, editor)
            bar.update(len(block))
    async with AsyncSession(engine) as session:
        await recount(session)
        await session.commit()
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    await engine.dispose()


async def _insert_block(
    conn: AsyncConnection,
    block: range,
    rng: random.Random,
    now: datetime,
    names: list[str],
    states: list[str],
    departments: list[int],
    topics: list[int],
    editor: int,
) -> None:
    applicants: list[dict[str, Any]] = []
    for n in block:
        name = names[n % len(names)]
        email = f"{name.lower().replace(' ', '.')}.{n}@applicant.example"
        created = now - timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
        applicants.append(
            {
                "name": name,
                "email": email,
                "email_normalized": email,
                "phone": None,
                "city": "Tbilisi",
                "country": "Georgia",
                "links": [],
                "consent_text": "I agree.",
                "consent_version": "2026-11",
                "consent_at": created,
                "created_at": created,
            }
        )
    applicant_ids = (
        (await conn.execute(insert(Applicant).returning(Applicant.id), applicants)).scalars().all()
    )
    applications: list[dict[str, Any]] = []
    for applicant_id, person in zip(applicant_ids, applicants, strict=True):
        state = rng.choice(states)
        created = person["created_at"]
        changed = created + timedelta(hours=rng.randrange(1, 24 * 20)) if state != "submitted" else created
        is_open = state in OPEN
        applications.append(
            {
                "public_id": secrets.token_urlsafe(24),
                "submission_key": None,
                "applicant_id": applicant_id,
                "motivation": sentence(rng, 40),
                "experience": sentence(rng, 20),
                "availability": "Two pieces a month",
                "state": state,
                "state_changed_at": min(changed, now),
                "due_at": now + timedelta(hours=rng.randrange(-240, 240)) if is_open else None,
                "assigned_editor_id": editor if is_open and rng.random() < 0.3 else None,
                "version": 1,
                "spam_score": 1.0 if state == "spam" else 0.0,
                "spam_reason": None,
                "is_repeat": rng.random() < 0.03,
                "repeat_of_id": None,
                "created_at": created,
                "updated_at": changed,
                "decided_at": changed if state in ("accepted", "rejected") else None,
            }
        )
    app_ids = (
        (await conn.execute(insert(Application).returning(Application.id), applications)).scalars().all()
    )
    links_d: list[dict[str, int]] = []
    links_t: list[dict[str, int]] = []
    samples: list[dict[str, Any]] = []
    search: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for app_id, row, person in zip(app_ids, applications, applicants, strict=True):
        for department in rng.sample(departments, rng.choice((1, 1, 2))):
            links_d.append({"application_id": app_id, "department_id": department})
        for topic in rng.sample(topics, rng.choice((1, 2, 3))):
            links_t.append({"application_id": app_id, "topic_id": topic})
        kind = rng.choice(("text", "link", "link"))
        text = " ".join(sentence(rng, 12) for _ in range(6)) if kind == "text" else None
        title = sentence(rng, 4)
        samples.append(
            {
                "application_id": app_id,
                "position": 0,
                "kind": kind,
                "title": title,
                "url": f"https://clips.example/{app_id}" if kind == "link" else None,
                "text": text,
                "word_count": 72 if text else None,
                "created_at": row["created_at"],
            }
        )
        body = document(
            name=person["name"], email=person["email"], motivation=row["motivation"], samples=[(title, text)]
        )
        words = (
            index_words(body) if conn.dialect.name == "sqlite" else ""
        )  # PostgreSQL stems in its own vector
        search.append({"application_id": app_id, "document": body, "words": words})
        events.append(
            {
                "application_id": app_id,
                "kind": "submitted",
                "actor": "applicant",
                "to_state": "submitted",
                "message": "Application received",
                "data": {},
                "is_public": True,
                "created_at": row["created_at"],
            }
        )
    await conn.execute(insert(ApplicationDepartment), links_d)
    await conn.execute(insert(ApplicationTopic), links_t)
    await conn.execute(insert(WorkSample), samples)
    await conn.execute(insert(ApplicationSearch), search)
    await conn.execute(insert(Event), events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=Settings().db_url, help="SQLAlchemy URL of the database to fill")
    parser.add_argument("--count", type=int, default=10_000, help="applications to create")
    args = parser.parse_args()
    upgrade_sync(args.url)
    asyncio.run(seed(args.url, args.count))


if __name__ == "__main__":
    main()
