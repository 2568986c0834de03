"""The reports page and its exports, on applications moved through the workflow with the app's clock."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from app.core.csv_export import keyset, neutralise
from app.models import Department
from app.reports import work
from app.review.queue import QueueFilters, export_statement
from tests.factories import (
    assign_to_me,
    choose_language,
    login,
    make_client,
    make_staff,
    move,
    new_task,
    staff_login,
    submit,
)

EDITOR = "eda@desk.example"


async def later(app, client, days: int) -> None:
    """Move the clock on, and log in again (staff sessions end when idle)."""
    app.state.clock.advance(timedelta(days=days))
    assert (await login(client, EDITOR)).status_code == 303


def table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def export(client, path: str) -> list[list[str]]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return table(response.content.decode("utf-8-sig"))


def cell(html: str, section: str, row: str) -> list[str]:
    """The cells of the row headed `row` in the table with id `section`."""
    part = html[html.index(f'id="{section}"') :]
    part = part[: part.index("</table>")]
    match = re.search(rf"<th scope=\"row\">(?:<bdi>)?{re.escape(row)}.*?</tr>", part, re.S)
    assert match, f"no row {row} in {section}"
    return re.findall(r'<td class="num">([^<]*)</td>', match.group(0))


@dataclass
class Desk:
    start: datetime
    ids: dict[str, int]
    checker: int


@pytest.fixture
async def desk(app, client, db) -> Desk:
    """Four applications worked over five days, a fifth arriving on day ten, a fact-check task overdue.

    day 0: A (news), B (analysis), C (news and analysis), D (news) arrive
    day 1: A and B to screening, D rejected
    day 3: A accepted, C assigned to the editor (screening), a task on C for the fact-checker
    day 5: B rejected
    day 10: E (analysis) arrives; C (due on day 8) and its task are overdue
    """
    start = app.state.clock()
    ids = {
        "A": await submit(client, db, name="Ana Accepted", departments=["news"]),
        "B": await submit(client, db, name="Bruno Rejected", departments=["analysis"]),
        "C": await submit(client, db, name="Chen Screening", departments=["news", "analysis"]),
        "D": await submit(client, db, name="Dara Spurned", departments=["news"]),
    }
    await staff_login(client, db, EDITOR, name="Eda Editor")
    checker = await make_staff(db, email="fc@desk.example", name="Farid Checker", roles=("fact_checker",))
    await later(app, client, 1)
    await move(client, ids["A"], "screening")
    await move(client, ids["B"], "screening")
    await move(client, ids["D"], "rejected", reason="Off topic", message="Thank you.")
    await later(app, client, 2)
    await move(client, ids["A"], "accepted", message="Welcome.")
    await assign_to_me(client, ids["C"])
    _, created = await new_task(client, ids["C"], task_assignee=str(checker), task_claims="A claim.")
    assert created.status_code == 303, created.text
    await later(app, client, 2)
    await move(client, ids["B"], "rejected", reason="Thin samples", message="Thank you.")
    await later(app, client, 5)
    ids["E"] = await submit(client, db, name="Emil Late", departments=["analysis"])
    return Desk(start=start, ids=ids, checker=checker)


def span(desk: Desk, first: int, last: int) -> str:
    return (
        f"from={(desk.start + timedelta(days=first)).date()}&to={(desk.start + timedelta(days=last)).date()}"
    )


async def test_report_numbers_on_a_known_desk(client, desk):
    html = (await client.get(f"/reports?{span(desk, 0, 0)}")).text
    # Arrivals on day 0 only: E is outside the range.
    assert cell(html, "funnel", "Received") == ["4", "3", "2"]  # all, news, analysis (C counts in both)
    assert cell(html, "funnel", "Screening") == ["3", "2", "2"]
    assert cell(html, "funnel", "Accepted") == ["1", "1", "0"]
    assert cell(html, "funnel", "Rejected") == ["2", "1", "1"]
    assert cell(html, "funnel", "Acceptance rate") == ["33%", "50%", "0%"]
    # Submitted: 1, 1, 3 and 1 days; screening: 2 and 4 days (C is still in it).
    assert cell(html, "time-in-state", "Submitted") == ["4", "1.0 days", "2.4 days", "1.5 days"]
    assert cell(html, "time-in-state", "Screening") == ["2", "3.0 days", "3.8 days", "3.0 days"]
    # Decisions after 3 (A), 5 (B) and 1 (D) days.
    assert cell(html, "time-to-decision", "All decisions") == ["3", "3.0 days", "4.6 days", "3.0 days"]
    assert cell(html, "time-to-decision", "Rejected") == ["2", "3.0 days", "4.6 days", "3.0 days"]
    assert cell(html, "time-to-decision", "Accepted") == ["1", "3.0 days", "3.0 days", "3.0 days"]
    # Now (day 10): C is with the editor and overdue, its task with the fact-checker and overdue.
    assert cell(html, "workload", "Eda Editor") == ["1", "1", "0", "0"]
    assert cell(html, "workload", "Farid Checker") == ["0", "0", "1", "1"]
    assert cell(html, "overdue-counts", "Screening")[0] == "1"
    assert cell(html, "overdue-counts", "Fact-check tasks")[0] == "1"
    assert "Chen Screening" in html[html.index('id="overdue-items"') :]
    for chart in ("funnel", "time-in-state", "workload", "over-time"):
        assert f'aria-labelledby="chart-{chart}-title" aria-describedby="chart-{chart}-desc"' in html
    assert html.count('role="img"') == 4


async def test_filters_by_arrival_dates_and_department_are_kept_in_the_form(client, desk):
    html = (await client.get(f"/reports?{span(desk, 0, 10)}&department=news&period=month")).text
    assert cell(html, "funnel", "Received") == ["3"]  # news only, one column named after it
    assert '<th scope="col" class="num">News</th>' in html
    assert f'name="from" value="{desk.start.date()}"' in html
    assert f'name="to" value="{(desk.start + timedelta(days=10)).date()}"' in html
    assert '<option value="news" selected>' in html
    assert '<option value="month" selected>' in html
    exported = span(desk, 0, 10).replace("&", "&amp;")
    assert f'href="/reports/export/funnel?{exported}&amp;department=news&amp;period=month"' in html

    wider = (await client.get(f"/reports?{span(desk, 0, 10)}")).text
    assert cell(wider, "funnel", "Received")[0] == "5"
    later_only = (await client.get(f"/reports?{span(desk, 9, 10)}")).text
    assert cell(later_only, "funnel", "Received") == ["1", "0", "1"]
    assert "No decision yet." in later_only
    # The workload follows the department, not the dates.
    analysis = (await client.get(f"/reports?{span(desk, 9, 10)}&department=analysis")).text
    assert cell(analysis, "workload", "Eda Editor") == ["1", "1", "0", "0"]


async def test_dates_that_are_not_dates_fall_back_to_the_last_ninety_days(client, desk, app):
    today = app.state.clock().date()
    for query in (
        "from=0001-01-01&to=9999-12-31",
        "from=yesterday&to=2026-02-31",
        "period=year&department=x",
    ):
        page = await client.get(f"/reports?{query}")
        assert page.status_code == 200, query
        assert f'name="to" value="{today}"' in page.text
        assert f'name="from" value="{today - timedelta(days=89)}"' in page.text
        assert '<option value="week" selected>' in page.text
    first, last = desk.start.date(), (desk.start + timedelta(days=10)).date()
    swapped = (await client.get(f"/reports?from={last}&to={first}")).text
    assert f'name="from" value="{first}"' in swapped and f'name="to" value="{last}"' in swapped


async def test_each_report_exports_the_numbers_of_the_page(client, desk):
    query = span(desk, 0, 0)
    funnel = await export(client, f"/reports/export/funnel?{query}")
    assert funnel[0] == ["state", "All", "News", "Analysis"]
    assert ["received", "4", "3", "2"] in funnel
    assert ["acceptance rate (%)", "33.3", "50.0", "0.0"] in funnel
    in_state = await export(client, f"/reports/export/time-in-state?{query}")
    assert ["Screening", "2", "72.0", "91.2", "72.0"] in in_state
    decision = await export(client, f"/reports/export/time-to-decision?{query}")
    assert ["all", "3", "72.0", "110.4", "72.0"] in decision
    workload = await export(client, f"/reports/export/workload?{query}")
    assert ["Farid Checker", "fact-checker", "0", "0", "1", "1"] in workload
    overdue = await export(client, f"/reports/export/overdue?{query}")
    assert [row[0] for row in overdue[1:]] == ["application", "task"]
    assert overdue[1][3] == "Chen Screening" and overdue[1][7] == "48.0"
    weeks = await export(client, f"/reports/export/over-time?{span(desk, 0, 10)}")
    assert weeks[0] == ["week", "received", "accepted", "rejected"]
    assert sum(int(row[1]) for row in weeks[1:]) == 5
    assert (await client.get("/reports/export/nothing")).status_code == 404


async def test_exports_are_dated_attachments(client, desk, app):
    response = await client.get("/reports/export/workload")
    today = app.state.clock().date()
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="byline-report-workload-{today}.csv"'
    )
    queue = await client.get("/dashboard/export")
    assert queue.headers["content-disposition"] == f'attachment; filename="byline-queue-{today}.csv"'


async def test_queue_export_honours_the_queue_filters(client, desk):
    dashboard = (await client.get("/dashboard?department=news&state=all")).text
    assert 'href="/dashboard/export?state=all&amp;department=news"' in dashboard
    assert 'hx-boost="false"' in dashboard[dashboard.index('id="queue-export"') - 200 :][:400]
    rows = await export(client, "/dashboard/export?state=all&department=news")
    assert sorted(row[1] for row in rows[1:]) == ["Ana Accepted", "Chen Screening", "Dara Spurned"]
    open_rows = await export(client, "/dashboard/export")  # the default tab: open applications
    assert sorted(row[1] for row in open_rows[1:]) == ["Chen Screening", "Emil Late"]
    mine = await export(client, "/dashboard/export?assignee=me&overdue=1")
    assert [row[1] for row in mine[1:]] == ["Chen Screening"]
    chen = mine[1]
    assert chen[3] == "Screening" and chen[6] == "Eda Editor" and chen[13] == "yes"
    searched = await export(client, "/dashboard/export?state=all&q=Bruno")
    assert [row[1] for row in searched[1:]] == ["Bruno Rejected"]


async def test_cells_that_a_spreadsheet_would_run_are_neutralised(client, db):
    await submit(client, db, name='=HYPERLINK("https://evil.example","Open me")')
    await submit(client, db, name="@SUM(A1:A9)")
    await staff_login(client, db, EDITOR)
    rows = await export(client, "/dashboard/export")
    names = sorted(row[1] for row in rows[1:])
    assert names == ['\'=HYPERLINK("https://evil.example","Open me")', "'@SUM(A1:A9)"]
    assert [neutralise(text) for text in ("+1", "-1", "\tx", "\rx", "plain", "")] == [
        "'+1",
        "'-1",
        "'\tx",
        "'\rx",
        "plain",
        "",
    ]
    assert neutralise(3) == "3"
    async with db.write_session() as session:  # department names are reference data an admin may edit
        await session.execute(update(Department).where(col(Department.slug) == "news").values(name="+News"))
    funnel = await export(client, "/reports/export/funnel")
    assert funnel[0] == ["state", "All", "'+News", "Analysis"]


async def test_fact_checkers_cannot_see_reports_or_exports(app, db):
    async with make_client(app) as client:
        await staff_login(client, db, "fc@desk.example", roles=("fact_checker",))
        for path in ("/reports", "/reports/export/funnel", "/dashboard/export"):
            assert (await client.get(path)).status_code == 403, path
        assert 'href="/reports"' not in (await client.get("/tasks")).text
    async with make_client(app) as client:
        await staff_login(client, db, "admin@desk.example", roles=("admin",))
        page = await client.get("/reports")
        assert page.status_code == 200
        assert 'href="/reports"' in page.text
        assert (await client.get("/reports/export/overdue")).status_code == 200


async def test_an_export_starts_before_its_rows_are_read(app, client, db):
    """The first bytes leave before the first batch is queried: a row added meanwhile is still exported."""
    await submit(client, db, name="Ana First")
    await staff_login(client, db, EDITOR)
    cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/dashboard/export",
        "raw_path": b"/dashboard/export",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"cookie", cookies.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    chunks: list[bytes] = []
    done = asyncio.Event()
    requested = False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            assert message["status"] == 200
        elif message["type"] == "http.response.body":
            chunks.append(message["body"])
            if len(chunks) == 1:
                # The header row is out; no application has been read yet.
                assert message["more_body"] is True
                assert b"Ana First" not in message["body"]
                await submit(client, db, name="Bruno Meanwhile")
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    body = b"".join(chunks).decode("utf-8-sig")
    assert chunks[0].decode("utf-8-sig").startswith("id,applicant,email,state")
    assert sorted(row[1] for row in table(body)[1:]) == ["Ana First", "Bruno Meanwhile"]


async def test_exports_walk_past_their_first_batch_in_order(app, client, db):
    """Rows with the same due time are neither repeated nor skipped between batches."""
    ids = [await submit(client, db, name=f"Applicant {n}") for n in range(5)]
    app.state.clock.advance(timedelta(days=4))  # every one of them is overdue, all due at the same moment
    now = app.state.clock()

    def overdue_after(after):
        return work.overdue_applications("", now, after)

    found = [row async for row in keyset(db, overdue_after, lambda row: (row[6], row[1]), batch=2)]
    assert [row[1] for row in found] == ids

    async with db.sessionmaker() as session:
        statement = await export_statement(session, QueueFilters(), me=0, now=now)
    listed = [row async for row in keyset(db, statement, lambda row: row[0], batch=2)]
    assert [row[0] for row in listed] == ids


async def test_reports_page_is_in_the_staff_members_saved_language(client, desk):
    await choose_language(client, "ru")
    html = (await client.get(f"/reports?{span(desk, 0, 0)}", headers={"Accept-Language": "en"})).text
    assert '<html lang="ru"' in html and "<h1>Отчёты</h1>" in html
    # Chart titles and descriptions, for assistive technology, are Russian too.
    assert '<title id="chart-funnel-title">Сколько заявок дошло до каждого этапа</title>' in html
    assert "Сколько из 4 пришедших заявок дошло до каждого этапа." in html
    assert '<title id="chart-time-in-state-title">Время на каждом этапе, в днях</title>' in html
    assert '<title id="chart-over-time-title">Заявки по неделям</title>' in html
    day = desk.start.day
    months = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()
    assert f"с {day} {months[desk.start.month - 1]} {desk.start.year}" in html
    assert cell(html, "funnel", "Получено") == ["4", "3", "2"]
    assert cell(html, "funnel", "Первичный отбор") == ["3", "2", "2"]
    assert cell(html, "funnel", "Доля принятых") == ["33\xa0%", "50\xa0%", "0\xa0%"]
    assert cell(html, "time-in-state", "Поступила") == ["4", "1,0 дня", "2,4 дня", "1,5 дня"]
    assert cell(html, "time-to-decision", "Все решения")[0] == "3"
    assert "Farid Checker</bdi></th><td>фактчекер</td>" in html
    content = html[html.index("<main") : html.index("</main>")]
    for english in ("Applications that reached each state", "Funnel and", "Export", "days", "Week"):
        assert english not in content, english


async def test_csv_headers_are_in_the_readers_language(client, desk, app, db):
    query = span(desk, 0, 0)
    await choose_language(client, "ru")
    funnel = await export(client, f"/reports/export/funnel?{query}")
    assert funnel[0] == ["этап", "Все", "Новости", "Аналитика"]
    assert ["получено", "4", "3", "2"] in funnel
    assert ["доля принятых (%)", "33.3", "50.0", "0.0"] in funnel  # numbers stay machine-readable
    assert (await export(client, f"/reports/export/over-time?{query}"))[0] == [
        "неделя",
        "получено",
        "принято",
        "отклонено",
    ]
    queue = await export(client, "/dashboard/export?assignee=me&overdue=1")
    assert queue[0][:4] == ["номер", "автор заявки", "эл. почта", "этап"]
    assert queue[1][3] == "Первичный отбор" and queue[1][13] == "да"
    # Another editor, reading in English, gets English headers from the same exports.
    await make_staff(db, email="en@desk.example", name="English Reader")
    async with make_client(app) as english:
        assert (await login(english, "en@desk.example")).status_code == 303
        assert (await export(english, f"/reports/export/funnel?{query}"))[0] == [
            "state",
            "All",
            "News",
            "Analysis",
        ]
        assert (await export(english, "/dashboard/export"))[0][:4] == ["id", "applicant", "email", "state"]
