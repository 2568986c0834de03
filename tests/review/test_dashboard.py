"""The queue: counts per state, filters, full-text search, sorting, pages, and a bounded number of queries."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.review import queue
from tests.factories import csrf_of, login, make_client, make_staff, move, page_form, staff_login, submit
from tests.queries import content_names, stored


def names_in(html: str) -> list[str]:
    """The applicants listed in the queue table, in order."""
    table = html[html.index('id="queue-table"') :] if 'id="queue-table"' in html else ""
    return re.findall(r'<a href="/applications/\d+"><bdi>([^<]+)</bdi></a>', table)


def tab_count(html: str, title: str) -> int:
    match = re.search(rf">{re.escape(title)} <span class=\"count\">(\d+)</span>", html)
    assert match, f"no tab {title}"
    return int(match.group(1))


async def queue_of(client, query: str = "") -> str:
    response = await client.get(f"/dashboard{query}")
    assert response.status_code == 200, response.text
    return response.text


@contextmanager
def statements(db):
    """The SQL statements the app runs inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_counts_per_state_and_open_applications_by_default(client, db):
    ids = [await submit(client, db, name=name) for name in ("Ana Ribeiro", "Tomas Berger", "Nino Beridze")]
    await staff_login(client, db, "eda@desk.example")
    await move(client, ids[1], "screening")
    await move(client, ids[2], "rejected", reason="Off topic", message="Thank you.")

    html = await queue_of(client)
    assert sorted(names_in(html)) == ["Ana Ribeiro", "Tomas Berger"]  # open states only
    assert tab_count(html, "Open") == 2
    assert tab_count(html, "Submitted") == 1
    assert tab_count(html, "Screening") == 1
    assert tab_count(html, "Rejected") == 1
    assert tab_count(html, "All") == 3
    assert names_in(await queue_of(client, "?state=rejected")) == ["Nino Beridze"]
    assert len(names_in(await queue_of(client, "?state=all"))) == 3
    assert names_in(await queue_of(client, "?state=bogus")) == names_in(html)  # unknown values fall back


async def test_filters_by_department_topic_assignee_label_and_repeat(client, db):
    news = await submit(client, db, name="Ana News", departments=["news"], topics=["politics"])
    analysis = await submit(client, db, name="Tomas Analysis", departments=["analysis"], topics=["economics"])
    first = await submit(client, db, name="Nino Twice", email="nino@applicant.example", departments=["news"])
    again = await submit(client, db, name="Nino Twice", email="Nino@Applicant.example", departments=["news"])
    me = await staff_login(client, db, "eda@desk.example", name="Eda Editor")

    _, hidden = await page_form(client, analysis)
    await client.post(f"/applications/{analysis}/assign", data={**hidden, "assignee": "me"})
    _, hidden = await page_form(client, news)
    await client.post(f"/applications/{news}/labels", data={**hidden, "labels": "strong voice"})

    assert sorted(names_in(await queue_of(client, "?department=news"))) == [
        "Ana News",
        "Nino Twice",
        "Nino Twice",
    ]
    assert names_in(await queue_of(client, "?topic=economics")) == ["Tomas Analysis"]
    assert names_in(await queue_of(client, "?assignee=me")) == ["Tomas Analysis"]
    assert names_in(await queue_of(client, f"?assignee={me}")) == ["Tomas Analysis"]
    assert "Tomas Analysis" not in names_in(await queue_of(client, "?assignee=none"))
    assert names_in(await queue_of(client, "?label=strong+voice")) == ["Ana News"]
    repeat = await queue_of(client, "?repeat=1")
    assert names_in(repeat) == ["Nino Twice"]
    assert f'href="/applications/{again}"' in repeat and f'href="/applications/{first}"' not in repeat
    assert "applied before" in repeat
    # Filters combine, and the counts follow them.
    combined = await queue_of(client, "?department=news&label=strong+voice")
    assert names_in(combined) == ["Ana News"] and tab_count(combined, "All") == 1
    assert "Eda Editor" in await queue_of(client, "?assignee=me")


async def test_overdue_filter_and_badges_follow_the_clock(app, client, db):
    late = await submit(client, db, name="Ana Late")
    await staff_login(client, db, "eda@desk.example")
    html = await queue_of(client)
    assert "overdue" not in html.split('id="queue-table"')[1].split("</table>")[0]
    assert names_in(await queue_of(client, "?overdue=1")) == []

    app.state.clock.advance(timedelta(days=4))  # submitted is due within 3 days
    await submit(client, db, name="Tomas Fresh")
    await login(client, "eda@desk.example")  # the session has long timed out
    overdue = await queue_of(client, "?overdue=1")
    assert names_in(overdue) == ["Ana Late"]
    assert re.search(rf'id="row-{late}" class="is-overdue"', overdue)
    assert "overdue 1 days" in overdue or "overdue 24 h" in overdue
    assert "4 days" in overdue  # how long it has waited


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ribeiro", ["Ana Ribeiro"]),  # a name
        ("Ribe", ["Ana Ribeiro"]),  # a prefix, any case
        ("ana.ribeiro@newsroom", ["Ana Ribeiro"]),  # an email address, typed in part
        ("newsroom", ["Ana Ribeiro"]),  # a word of the email's domain
        ("hydrology", ["Tomas Berger"]),  # a word of the letter
        ("Karabakh", ["Ana Ribeiro", "Tomas Berger"]),  # a word of a pasted sample
        ("karabakh hydrology", ["Tomas Berger"]),  # every word must match
        ("Zanzibar", []),
    ],
)
async def test_full_text_search(client, db, query, expected):
    await submit(client, db, name="Ana Ribeiro", email="ana.ribeiro@newsroom.example")
    await submit(
        client,
        db,
        name="Tomas Berger",
        motivation="I write about hydrology and water politics in the Caucasus.",
    )
    await submit(
        client, db, name="Nino Link", **{"sample-0-text": None, "sample-0-url": "https://nino.example/a"}
    )
    await staff_login(client, db, "eda@desk.example")
    found = sorted(names_in(await queue_of(client, f"?state=all&q={query}")))
    assert found == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Карабах", ["Иван Семенов", "Пётр Семёнов"]),  # any case of the noun
        ("Карабахе", ["Иван Семенов", "Пётр Семёнов"]),  # another case finds it too
        ("карабаха кавказ", ["Иван Семенов"]),  # every word, each in any form
        ("Кавказ", ["Иван Семенов"]),  # only in the letter's prepositional case
        ("Караб", ["Иван Семенов", "Пётр Семёнов"]),  # the start of a word, all Cyrillic
        ("ещё", ["Иван Семенов", "Пётр Семёнов"]),  # yo finds ie ...
        ("еще", ["Иван Семенов", "Пётр Семёнов"]),  # ... and ie finds yo
        ("Семёнов", ["Иван Семенов", "Пётр Семёнов"]),
        ("Семенов", ["Иван Семенов", "Пётр Семёнов"]),
        ("Пётр Карабахе", ["Пётр Семёнов"]),
        ("пишу о Карабахе", ["Иван Семенов", "Пётр Семёнов"]),  # with a stop word
        ("Петр", ["Пётр Семёнов"]),
        ("writers", ["Ana Ribeiro"]),  # English words in another form too
        ("Зимбабве", []),
        ("Карабах Зимбабве", []),
    ],
)
async def test_full_text_search_in_russian(client, db, query, expected):
    await submit(
        client,
        db,
        name="Пётр Семёнов",
        motivation="Пишу о Карабахе и о том, что ещё не решено в переговорах.",
        **{"sample-0-text": None, "sample-0-url": "https://petr.example/a"},
    )
    await submit(
        client,
        db,
        name="Иван Семенов",
        motivation="Десять лет освещаю жизнь вокруг Карабаха и еще пишу о Кавказе.",
        **{"sample-0-text": None, "sample-0-url": "https://ivan.example/a"},
    )
    await submit(
        client,
        db,
        name="Ana Ribeiro",
        motivation="I edit a small team of writer friends who cover water politics.",
        **{"sample-0-text": None, "sample-0-url": "https://ana.example/a"},
    )
    await staff_login(client, db, "eda@desk.example")
    found = sorted(names_in(await queue_of(client, f"?state=all&q={query}")))
    assert found == expected


@pytest.mark.parametrize(
    "query", ['"', "*", "NEAR(a b)", "a OR", "'; drop table application; --", "-x", "^a", "a:*", "&|!", "((("]
)
async def test_search_syntax_in_the_box_is_only_text(client, db, query):
    await submit(client, db, name="Ana Ribeiro")
    await staff_login(client, db, "eda@desk.example")
    response = await client.get("/dashboard", params={"q": query, "state": "all"})
    assert response.status_code == 200
    assert 'id="queue"' in response.text


async def test_sorting_and_pages(app, client, db, monkeypatch):
    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    for name in ("Carla", "Ana", "Bea"):
        await submit(client, db, name=name)
        app.state.clock.advance(timedelta(hours=1))
    await staff_login(client, db, "eda@desk.example")

    assert names_in(await queue_of(client, "?sort=name")) == ["Ana", "Bea"]
    second = await queue_of(client, "?sort=name&page=2")
    assert names_in(second) == ["Carla"]
    assert 'rel="prev" href="/dashboard?sort=name"' in second and 'rel="next"' not in second
    first = await queue_of(client, "?sort=name")
    assert 'rel="next" href="/dashboard?sort=name&amp;page=2"' in first
    assert names_in(await queue_of(client, "?sort=newest")) == ["Bea", "Ana"]
    assert names_in(await queue_of(client, "?sort=oldest")) == ["Carla", "Ana"]
    assert names_in(await queue_of(client, "?sort=due")) == ["Carla", "Ana"]
    assert names_in(await queue_of(client, "?page=99")) == []  # past the end: an empty page, not an error


async def test_search_hits_are_sorted_and_paged_like_the_queue(app, client, db, monkeypatch):
    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    queue.rows_statement.cache_clear()  # the statements are built again with the smaller page
    try:
        for name in ("Carla Vega", "Ana Vega", "Dora Other", "Bea Vega"):
            await submit(client, db, name=name)
            app.state.clock.advance(timedelta(hours=1))
        await staff_login(client, db, "eda@desk.example")

        assert names_in(await queue_of(client, "?q=vega&sort=name")) == ["Ana Vega", "Bea Vega"]
        assert names_in(await queue_of(client, "?q=vega&sort=name&page=2")) == ["Carla Vega"]
        assert names_in(await queue_of(client, "?q=vega&sort=newest")) == ["Bea Vega", "Ana Vega"]
        assert names_in(await queue_of(client, "?q=vega&sort=oldest")) == ["Carla Vega", "Ana Vega"]
        assert names_in(await queue_of(client, "?q=vega")) == ["Carla Vega", "Ana Vega"]
        assert names_in(await queue_of(client, "?q=vega&page=2")) == ["Bea Vega"]
        assert names_in(await queue_of(client, "?q=vega&page=3")) == []
    finally:
        queue.rows_statement.cache_clear()


async def test_the_page_costs_the_same_queries_for_one_row_or_many_and_reads_only_listed_columns(client, db):
    await submit(client, db, name="Only One")
    await staff_login(client, db, "eda@desk.example")
    await queue_of(client)  # the filter choices are read once, then kept until they change
    with statements(db) as one:
        await queue_of(client)
    for n in range(6):
        await submit(client, db, name=f"Applicant {n}", departments=["news", "analysis"])
    with statements(db) as many:
        html = await queue_of(client)
    assert len(names_in(html)) == 7
    assert len(many) == len(one)
    listing = next(sql for sql in many if "ORDER BY" in sql and "applicant.name" in sql)
    for unlisted in ("motivation", "experience", "consent_text", "applicant.phone", "work_sample"):
        assert unlisted not in listing


async def test_markup_in_names_is_escaped_in_the_queue(client, db):
    await submit(client, db, name="<script>alert(1)</script> Eve")
    await staff_login(client, db, "eda@desk.example")
    html = await queue_of(client)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Eve" in html


async def test_bulk_form_on_the_queue_previews_the_ticked_rows(client, db):
    ids = [await submit(client, db, name=name) for name in ("Ana Ribeiro", "Tomas Berger")]
    await staff_login(client, db, "eda@desk.example")
    html = await queue_of(client)
    assert 'action="/dashboard/bulk"' in html
    for app_id in ids:
        assert f'name="ids" value="{app_id}"' in html
    preview = await client.post(
        "/dashboard/bulk",
        data={"_csrf_token": csrf_of(html), "ids": [str(ids[0])], "action": "assign", "assignee": "me"},
    )
    assert preview.status_code == 200
    assert "Ana Ribeiro" in preview.text and "Tomas Berger" not in preview.text
    assert (await stored(db, ids[0])).assigned_editor_id is None


async def test_htmx_filter_requests_get_the_page_and_stay_out_of_history(client, db):
    await submit(client, db, name="Ana Ribeiro")
    await staff_login(client, db, "eda@desk.example")
    response = await client.get("/dashboard?q=ana", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="queue"' in response.text  # the fragment the filter form selects
    assert 'hx-select="#queue"' in response.text


async def test_only_editors_see_the_queue(app, db):
    await staff_login_as(app, db, "fc@desk.example", roles=("fact_checker",), expect=403)
    await staff_login_as(app, db, "adm@desk.example", roles=("admin",), expect=403)


async def staff_login_as(app, db, email: str, *, roles: tuple[str, ...], expect: int) -> None:
    async with make_client(app) as other:
        await staff_login(other, db, email, roles=roles)
        assert (await other.get("/dashboard")).status_code == expect


def test_the_open_states_written_for_the_partial_index_are_the_workflows():
    from app.core.workflow import OPEN_STATES
    from app.models import OPEN_STATE_VALUES

    assert set(OPEN_STATE_VALUES) == {state.value for state in OPEN_STATES}


async def test_names_are_isolated_and_lose_their_bidi_controls(client, db):
    app_id = await submit(client, db, name="\u202eAna Ribeiro\u202c")
    await staff_login(client, db, "eda@desk.example", name="Eda \u2067Editor")
    await move(client, app_id, "screening")
    html = await queue_of(client)
    assert f'<a href="/applications/{app_id}"><bdi>Ana Ribeiro</bdi></a>' in html
    assert "\u202e" not in html


async def test_the_filter_choices_follow_an_admins_edit_at_once(client, db):
    """The choices are kept in memory between requests; an edit in this process is seen on the next page."""
    await staff_login(client, db, "eda@desk.example", name="Eda Editor", roles=("editor", "admin"))
    html = await queue_of(client, "?lang=en")
    assert '<option value="news">News</option>' in html
    news_id, names = await content_names(db)
    content = await client.get("/admin/content")
    saved = await client.post(
        "/admin/content",
        data={
            "_csrf_token": csrf_of(content.text),
            **names,
            f"department_{news_id}_name_en": "Breaking <news>",
            "call_text_en": "Write for us.",
            "consent_text_en": "I agree that {publication} keeps my data.",
            "consent_text_ru": "Даю согласие {publication} на хранение моих данных.",
        },
    )
    assert saved.status_code == 303, saved.text
    html = await queue_of(client)
    assert '<option value="news">Breaking &lt;news&gt;</option>' in html
    ivo = await make_staff(db, email="ivo@desk.example", name="Ivo <b>New</b>")
    assert f'<option value="{ivo}">Ivo &lt;b&gt;New&lt;/b&gt;</option>' in await queue_of(client)


def test_every_value_in_the_queue_rows_is_escaped():
    """The rows are written in one loop, not by the template: each value from the data is escaped there."""
    from datetime import UTC, datetime

    from markupsafe import escape

    from app.core import i18n
    from app.review.queue_html import rows_html

    hostile = "<img src=x onerror=alert(1)> \"quoted\" & 'single'"
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    row = queue.QueueRow(
        id=7,
        name=hostile,
        email=hostile,
        state="screening",
        created_at=now,
        state_changed_at=now - timedelta(hours=5),
        due_at=now - timedelta(days=3),
        is_repeat=True,
        assignee=hostile,
        departments=[hostile, "News"],
        topics=[hostile],
        labels=[hostile],
        tasks_open=1,
        tasks_total=2,
    )
    for locale in ("en", "ru"):
        with i18n.use_locale(locale):
            html = str(rows_html([row], now=now, application_path=lambda app_id: f"/applications/{app_id}"))
        assert "<img" not in html and '"quoted"' not in html and "'single'" not in html
        assert str(escape(hostile)) in html
        assert (
            html.count(str(escape(hostile))) == 7
        )  # aria-label, name, email, assignee, department, topic, label
        assert 'href="/applications/7"' in html and 'class="is-overdue"' in html
