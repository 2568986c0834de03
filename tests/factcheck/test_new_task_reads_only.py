"""The new-task page only reads: it answers while another connection holds SQLite's write lock."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select, update

from app.demo import make_docx, make_pdf
from app.models import WorkSample
from app.settings import Settings
from tests.factories import ARTICLE, post_application, read_samples, staff_login, valid_fields


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A short busy timeout, so that a page that tried to write would fail quickly."""
    return settings.model_copy(update={"sqlite_busy_timeout_ms": 1000})


@contextmanager
def write_lock_held(settings: Settings) -> Iterator[None]:
    """Another connection holding SQLite's write lock (BEGIN IMMEDIATE) for the length of the block."""
    if not settings.is_sqlite:
        yield
        return
    other = sqlite3.connect(settings.db_url.split("///", 1)[1], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def rows(db: Any) -> list[dict[str, Any]]:
    async with db.sessionmaker() as session:
        found = await session.scalars(select(WorkSample).order_by(WorkSample.id))
        return [sample.model_dump() for sample in found.all()]


async def test_the_new_task_page_writes_nothing_and_answers_under_a_held_write_lock(
    app, client, db, settings
):
    fields = valid_fields(**{"sample-0-title": "As PDF", "sample-1-title": "As DOCX", "sample-0-text": None})
    files = [
        ("sample-0-file", ("piece.pdf", make_pdf("Harbour", ARTICLE), "application/pdf")),
        ("sample-1-file", ("piece.docx", make_docx("Harbour", ARTICLE), "application/octet-stream")),
    ]
    assert (await post_application(client, fields, files)).status_code == 303
    await read_samples(app)  # the PDF's text, read after the form's answer
    pdf, docx = await rows(db)
    async with db.write_session() as session:  # a row stored before texts were read at upload
        await session.execute(
            update(WorkSample).where(WorkSample.id == docx["id"]).values(extracted_text=None)
        )
    await staff_login(client, db, "eda@desk.example")
    before = await rows(db)
    with write_lock_held(settings):
        with_text = await client.get(f"/applications/{pdf['application_id']}/tasks/new?sample={pdf['id']}")
        without = await client.get(f"/applications/{pdf['application_id']}/tasks/new?sample={docx['id']}")
    assert with_text.status_code == 200, with_text.text
    assert (
        'value="Opposition members said the port authority had not published its accounts."' in with_text.text
    )
    assert without.status_code == 200, without.text
    assert "The text of this file could not be extracted; " in without.text
    assert await rows(db) == before
