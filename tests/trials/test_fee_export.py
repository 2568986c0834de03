"""The accounts department's CSV of a month's trial fees (/fees/export?month=YYYY-MM): one row per fee agreed in
that month in the site's time zone, amounts as plain decimals with a dot, who and when for each step, headers
in the reader's language, and cells a spreadsheet would run kept as text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.factories import (
    accept_fee,
    choose_language,
    insert_trial,
    make_client,
    staff_login,
    step_fee,
    submit,
)


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))


@pytest.fixture
async def finance(app, db):
    async with make_client(app) as client:
        await staff_login(client, db, "fay@desk.example", name="Fay Finance", roles=("finance",))
        yield client


async def test_the_month_csv_has_one_row_per_fee_agreed_that_month(app, client, db, editor, finance):
    hostile = await submit(client, db, name='=HYPERLINK("https://evil.example")')
    plain = await submit(client, db, name="Leyla Mammadova")
    app.state.clock.freeze(datetime(2026, 10, 31, 23, 30, tzinfo=UTC))  # still October in UTC
    october = await insert_trial(db, plain, fee_amount_minor=100)
    await accept_fee(client, october)
    app.state.clock.freeze(datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    first = await insert_trial(
        db, hostile, words=900, fee_kind="per_word", fee_amount_minor=1_050, currency="USD"
    )
    second = await insert_trial(db, plain, topic="-2+3 ways to read the budget")
    await accept_fee(client, first)
    await accept_fee(client, second)
    app.state.clock.freeze(datetime(2026, 11, 10, 15, 45, tzinfo=UTC))
    for seen, to in (("agreed", "invoiced"), ("invoiced", "approved"), ("approved", "paid")):
        assert (await step_fee(finance, second, seen, to)).status_code == 303

    response = await finance.get("/fees/export?month=2026-11")
    assert 'filename="byline-fees-2026-11-' in response.headers["content-disposition"]
    header, *rows = rows_of(response)
    assert header[:8] == [
        "applicant",
        "email",
        "application number",
        "trial topic",
        "words",
        "amount",
        "currency",
        "status",
    ]
    assert header[8:] == [
        "agreed by",
        "agreed at (UTC)",
        "invoiced by",
        "invoiced at (UTC)",
        "approved by",
        "approved at (UTC)",
        "paid by",
        "paid at (UTC)",
        "note",
    ]
    assert len(rows) == 2, "October's fee is not in November's file"
    by_app = {row[2]: row for row in rows}
    risky = by_app[str(hostile)]
    assert risky[0] == '\'=HYPERLINK("https://evil.example")', "a formula is kept as text"
    assert risky[4:8] == ["900", "9450.00", "USD", "agreed"]
    assert risky[8:10] == ["Eda Editor", "2026-11-03 09:00:00"]
    assert risky[10:16] == [""] * 6
    paid = by_app[str(plain)]
    assert paid[3] == "'-2+3 ways to read the budget"
    assert paid[5:8] == ["15000.00", "RUB", "paid"]
    assert paid[14:16] == ["Fay Finance", "2026-11-10 15:45:00"]

    october_rows = rows_of(await finance.get("/fees/export?month=2026-10"))[1:]
    assert [row[5] for row in october_rows] == ["1.00"]


async def test_the_csv_speaks_the_readers_language(app, client, db, editor, finance):
    app_id = await submit(client, db)
    app.state.clock.freeze(datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    await accept_fee(client, await insert_trial(db, app_id))
    await choose_language(finance, "ru")
    header, row = rows_of(await finance.get("/fees/export?month=2026-11"))
    assert header[:8] == [
        "автор заявки",
        "эл. почта",
        "номер заявки",
        "тема пробного задания",
        "слов",
        "сумма",
        "валюта",
        "статус",
    ]
    assert header[8:10] == ["кем согласован", "когда согласован (UTC)"]
    assert row[5:8] == ["15000.00", "RUB", "согласован"]


async def test_a_bad_month_means_this_month(app, client, db, editor, finance):
    app_id = await submit(client, db)
    await accept_fee(client, await insert_trial(db, app_id))
    _header, *rows = rows_of(await finance.get("/fees/export?month=2026-13"))
    assert len(rows) == 1
