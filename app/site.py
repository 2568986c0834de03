"""Site settings an admin can edit (the call text) and the reference data every install starts with."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import Department, SiteSetting, Topic, utcnow

CONTENT_DIR = Path(__file__).resolve().parent / "content"
DEFAULT_DEPARTMENTS = [("news", "News"), ("analysis", "Analysis")]
DEFAULT_TOPICS = [
    ("politics", "Politics"),
    ("economics", "Economics"),
    ("international", "International affairs"),
    ("business", "Business and markets"),
    ("society", "Society"),
]
CONSENT_VERSION = "2026-11"
CONSENT_TEXT = (
    "I agree that {publication} stores and processes the information in this application (my contact "
    "details, letters and work samples) to assess it and to contact me about it. Editors and fact-checkers "
    "of {publication} can read it. Rejected and withdrawn applications are erased after the retention "
    "period, and I can download or erase my data at any time from my private status page."
)


def default_call_text() -> str:
    return (CONTENT_DIR / "call-for-authors.txt").read_text(encoding="utf-8").strip()


def consent_text(publication: str) -> str:
    return CONSENT_TEXT.format(publication=publication)


async def get_setting(session: AsyncSession, key: str, default: Any) -> Any:
    row = await session.get(SiteSetting, key)
    return default if row is None else row.value


async def set_setting(session: AsyncSession, key: str, value: Any, now: datetime) -> None:
    row = await session.get(SiteSetting, key)
    if row is None:
        session.add(SiteSetting(key=key, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
        session.add(row)
    await session.flush()


async def call_text(session: AsyncSession) -> str:
    """The call for authors as the admin last set it."""
    return str(await get_setting(session, "call_text", default_call_text()))


async def due_days(session: AsyncSession) -> dict[str, int]:
    """Per-state due times in days as the admin set them (states left out keep the workflow's default)."""
    value = await get_setting(session, "due_days", {})
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}


async def list_departments(session: AsyncSession) -> list[Department]:
    return list((await session.scalars(select(Department).order_by(col(Department.position)))).all())


async def list_topics(session: AsyncSession) -> list[Topic]:
    return list((await session.scalars(select(Topic).order_by(col(Topic.position)))).all())


async def ensure_reference_data(session: AsyncSession) -> None:
    """Insert the default departments, topics and call text where they are missing."""
    have = set((await session.scalars(select(col(Department.slug)))).all())
    for position, (slug, name) in enumerate(DEFAULT_DEPARTMENTS):
        if slug not in have:
            session.add(Department(slug=slug, name=name, position=position))
    have = set((await session.scalars(select(col(Topic.slug)))).all())
    for position, (slug, name) in enumerate(DEFAULT_TOPICS):
        if slug not in have:
            session.add(Topic(slug=slug, name=name, position=position))
    if await session.get(SiteSetting, "call_text") is None:
        session.add(SiteSetting(key="call_text", value=default_call_text(), updated_at=utcnow()))
    await session.flush()
