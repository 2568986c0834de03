"""CSV downloads: streamed in batches, one keyset query a batch, cells a spreadsheet would run neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from datetime import date, datetime
from typing import Any

from litestar.response import Stream
from sqlalchemy import Select

from app.core.db import Database

BATCH = 500
# A spreadsheet reads a cell starting with one of these as a formula (or strips it and then does).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell's text, with a leading apostrophe when a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # Numbers are written by us, never negative: only text can carry a formula.
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


async def csv_lines(header: Sequence[str], rows: AsyncIterable[Sequence[object]]) -> AsyncIterator[str]:
    """The header at once (the download starts before any row is read), then the rows in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(title) for title in header])  # department names are admin-editable
    # A byte-order mark first, so that spreadsheets read the names as UTF-8.
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    count = 0
    async for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        count += 1
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


async def keyset(
    db: Database,
    statement: Callable[[Any], Select[*tuple[Any, ...]]],
    key: Callable[[Any], Any],
    *,
    batch: int = BATCH,
) -> AsyncIterator[Any]:
    """Every row of `statement(after)`, a batch at a time, each batch in its own short session.

    `statement(None)` gives the first batch in key order and `statement(key(last_row))` the rows after it:
    no connection is held while the client reads, however slowly.
    """
    after = None
    while True:
        async with db.sessionmaker() as session:
            rows = (await session.execute(statement(after).limit(batch))).all()
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after = key(rows[-1])


def attachment(name: str, today: date, lines: AsyncIterator[str]) -> Stream:
    """A streamed CSV download named after what it holds and the day it was made (an ASCII file name)."""
    filename = f"byline-{name}-{today.isoformat()}.csv"
    return Stream(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
