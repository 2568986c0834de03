"""The reader beside the pages (app/applications/reading.py): PDFs sent with the form are read after the answer,
once, by whichever reader claims them; a reader that dies holding one leaves it to another."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlmodel import col

from app.applications import reading
from app.demo import make_pdf
from app.models import TextPrint, WorkSample
from tests.factories import ARTICLE, post_application, valid_fields
from tests.queries import samples_of


async def _send_pdf(client) -> None:
    fields = valid_fields(**{"sample-0-title": "My piece", "sample-0-text": None})
    files = [("sample-0-file", ("piece.pdf", make_pdf("Harbour", ARTICLE), "application/pdf"))]
    assert (await post_application(client, fields, files)).status_code == 303


async def test_a_sample_a_dead_reader_held_is_read_by_another_once_its_lock_has_passed(
    app, client, db, settings
):
    await _send_pdf(client)
    now = app.state.clock()
    async with db.write_session() as session:  # a reader claims it, then dies before writing anything
        [claimed] = await reading.claim(session, now=now, limit=2, settings=settings)
    assert claimed.unread
    assert await reading.read_due(db, settings, now) == 0  # still its claim
    [sample] = await samples_of(db)
    assert sample.text_pending and sample.word_count is None
    later = now + timedelta(seconds=reading.lock_seconds(settings) + 1)
    assert await reading.read_due(db, settings, later) == 1
    [sample] = await samples_of(db)
    assert sample.word_count == 26 and not sample.text_pending
    assert await reading.read_due(db, settings, later) == 0  # read once


async def test_a_sample_deleted_while_it_was_read_gets_nothing_written(app, client, db, settings):
    await _send_pdf(client)
    async with db.write_session() as session:
        [claimed] = await reading.claim(session, now=app.state.clock(), limit=2, settings=settings)
    found = await reading.read_one(settings, claimed)
    assert found.word_count == 26 and found.prints
    async with db.write_session() as session:  # as an erasure does, meanwhile
        await session.execute(delete(WorkSample).where(col(WorkSample.id) == claimed.id))
    async with db.write_session() as session:
        assert await reading.record(session, claimed, found) is False
    async with db.sessionmaker() as session:
        assert not await session.scalar(select(func.count()).select_from(TextPrint))
