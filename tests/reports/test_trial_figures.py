"""Trial figures on the reports page and in its CSV exports: trials offered in the range, pieces on time and
late, the median time to submit, acceptance after a trial and fees by status and currency."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from app.models import FeeStatus, TrialFee, TrialState
from tests.factories import (
    choose_language,
    csrf_of,
    insert_submitted_trial,
    move,
    staff_login,
    submit,
)

PIECE = "The port authority spent 40 million manat on the new quay. Its accounts were never published."


def row(page: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}">(.*?)</tr>', page, re.S)
    assert found, row_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


async def _export(client, name: str) -> list[list[str]]:
    response = await client.get(f"/reports/export/{name}")
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def _desk(app, client, db, settings):
    """Four applications with trials: on time and accepted, late and rejected, declined, and one offered long
    before the range; fees on the first two (inserted directly: the fee's own pages are another feature's)."""
    now = app.state.clock()
    ids = [await submit(client, db, name=f"Applicant {n}") for n in range(4)]
    editor = await staff_login(client, db, "eda@desk.example", name="Eda Editor")
    on_time = await insert_submitted_trial(
        db,
        ids[0],
        PIECE,
        offered_by_id=editor,
        settings=settings,
        now=now,
        created_at=now - timedelta(days=2),
    )
    await insert_submitted_trial(
        db,
        ids[1],
        PIECE,
        offered_by_id=editor,
        settings=settings,
        now=now,
        created_at=now - timedelta(days=4),
        late=True,
    )
    await insert_submitted_trial(
        db,
        ids[2],
        PIECE,
        offered_by_id=editor,
        settings=settings,
        now=now,
        state=TrialState.declined,
        submitted_at=None,
        created_at=now - timedelta(days=1),
    )
    await insert_submitted_trial(
        db,
        ids[3],
        PIECE,
        offered_by_id=editor,
        settings=settings,
        now=now,
        created_at=now - timedelta(days=200),
    )
    # The pieces' tasks wait at the desk; an editor cancels them so that the decisions can be made.
    task_page = await client.get("/tasks")
    for task_id in sorted(set(re.findall(r'href="/tasks/(\d+)"', task_page.text))):
        cancelled = await client.post(
            f"/tasks/{task_id}/cancel", data={"_csrf_token": csrf_of(task_page.text)}
        )
        assert cancelled.status_code == 303
    await move(client, ids[0], "accepted", message="Welcome")
    await move(client, ids[1], "rejected", reason="Late and thin", message="Thank you")
    async with db.write_session() as session:
        session.add(
            TrialFee(trial_id=on_time.trial_id, amount_minor=1_500_000, currency="RUB", agreed_at=now)
        )
        session.add(
            TrialFee(
                trial_id=on_time.trial_id + 1,
                amount_minor=25_050,
                currency="EUR",
                status=FeeStatus.paid,
                agreed_at=now,
            )
        )
    return ids


async def test_trial_figures_on_the_page_and_in_the_exports(app, client, db, settings):
    await _desk(app, client, db, settings)
    page = (await client.get("/reports")).text
    assert "Trial assignments" in page
    assert row(page, "trials-offered").endswith("3")  # the one offered 200 days ago is out of the range
    assert row(page, "trials-received").endswith("2")
    assert row(page, "trials-on-time").startswith("Received on time 1")
    assert row(page, "trials-late").endswith("1")
    assert row(page, "trials-declined").endswith("1")
    assert row(page, "trials-median").endswith("3.0 days")  # 2 and 4 days from the offer to the final send
    assert "50%" in row(page, "trials-acceptance") and "1 of 2" in row(page, "trials-acceptance")
    fees = page[page.index('id="trial-fees"') :]
    assert "RUB" in fees and "15,000.00" in fees and "€250.50" in fees

    figures = dict(tuple(line) for line in (await _export(client, "trials"))[1:])
    assert figures["trials offered"] == "3" and figures["pieces received on time"] == "1"
    assert figures["median hours to submit"] == "72.0"
    assert figures["acceptance after a trial (%)"] == "50.0"
    assert await _export(client, "trial-fees") == [
        ["status", "currency", "count", "amount"],
        ["agreed", "RUB", "1", "15000.00"],
        ["paid", "EUR", "1", "250.50"],
    ]

    earlier = (await client.get("/reports?from=2000-01-01")).text
    assert row(earlier, "trials-offered").endswith("4")
    none = (await client.get("/reports?from=2001-01-01&to=2001-02-01")).text
    assert row(none, "trials-offered").endswith("0") and row(none, "trials-median").endswith("—")
    assert "No fees recorded for these trials." in none


async def test_trial_figures_in_russian(app, client, db, settings):
    await _desk(app, client, db, settings)
    await choose_language(client, "ru")
    page = (await client.get("/reports")).text
    assert "Пробные задания" in page
    assert row(page, "trials-median").endswith("3,0 дня")
    assert "Медианное время до сдачи" in page
    assert (await _export(client, "trials"))[0] == ["показатель", "значение"]
