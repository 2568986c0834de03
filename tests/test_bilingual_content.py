"""The call, the consent text and the names of departments and topics in English and Russian, with fallback."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from app.core import i18n
from app.core.db import Database
from app.models import Applicant, Department, SiteSetting, Topic
from tests.factories import (
    bearer,
    csrf_of,
    make_staff,
    post_application,
    staff_login,
    staff_token,
    submit,
    update_staff,
    valid_fields,
)
from tests.queries import content_names

RU = {"Accept-Language": "ru"}
EN = {"Accept-Language": "en"}


async def _set_names(
    db: Database, model: type[Department] | type[Topic], slug: str, en: str, ru: str
) -> None:
    async with db.write_session() as session:
        item = (await session.scalars(select(model).where(col(model.slug) == slug))).one()
        item.name, item.name_ru = en, ru
        session.add(item)


async def test_call_and_form_in_russian_show_russian_content(client: AsyncTestClient[Litestar]):
    home = await client.get("/", headers=RU)
    assert "быстро анализировать текст и проверять факты" in home.text
    assert "quickly analyze the text" not in home.text
    form = await client.get("/apply", headers=RU)
    for name in ("Новости", "Аналитика", "Политика", "Экономика", "Международные отношения"):
        assert f"> {name}</label>" in form.text, name
    assert "International affairs" not in form.text and "fallback-note" not in form.text
    assert "Даю согласие" in form.text
    english = await client.get("/apply", headers=EN)
    assert "> International affairs</label>" in english.text and "Международные" not in english.text


async def test_a_missing_russian_name_shows_the_english_one_marked_as_english(
    client: AsyncTestClient[Litestar], db: Database
):
    await _set_names(db, Topic, "international", "International affairs", "")
    await _set_names(db, Department, "analysis", "", "Аналитика")
    form = await client.get("/apply", headers=RU)
    assert (
        '<span lang="en">International affairs</span> '
        '<small class="muted fallback-note">(Текст пока есть только на английском)</small>'
    ) in form.text
    assert "> Политика</label>" in form.text  # the others stay plain
    english = await client.get("/apply", headers=EN)
    assert '<span lang="ru">Аналитика</span>' in english.text
    assert "(This text is only available in Russian for now)" in english.text


async def test_names_follow_the_readers_language_in_the_queue_and_the_application(
    client: AsyncTestClient[Litestar], db: Database
):
    await _set_names(db, Topic, "international", "International affairs", "")
    app_id = await submit(client, db, departments=["news"], topics=["politics", "international"])
    editor = await staff_login(client, db, "editor@desk.example")
    queue = await client.get("/dashboard", headers=RU)
    assert "Новости" in queue.text and "Политика" in queue.text
    assert '<option value="economics">Экономика</option>' in queue.text.replace(" selected", "")
    page = await client.get(f"/applications/{app_id}", headers=RU)
    assert "Новости" in page.text
    assert '<span lang="en">International affairs</span>' in page.text
    reports = await client.get("/reports", headers=RU)
    assert ">Аналитика</option>" in reports.text
    in_english = await client.get("/dashboard", headers=EN)
    assert "Politics" in in_english.text and "Политика" not in in_english.text
    await update_staff(
        db, editor, locale="ru"
    )  # the staff member's saved choice beats the browser's language
    assert "Политика" in (await client.get("/dashboard", headers=EN)).text


async def _content_form(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    page = await client.get("/admin/content", headers=EN)
    assert page.status_code == 200, page.text
    return {"_csrf_token": csrf_of(page.text)}


async def test_admin_edits_both_versions_and_a_cleared_one_falls_back(
    client: AsyncTestClient[Litestar], db: Database, admin
):
    news_id, names = await content_names(db)
    data = {
        **await _content_form(client),
        **names,
        f"department_{news_id}_name_en": "Breaking news",
        f"department_{news_id}_name_ru": "Срочные новости",
        "call_text_en": "Write about budgets for us.",
        "call_text_ru": "",
        "consent_text_en": "I agree that {publication} keeps my data.",
        "consent_text_ru": "Даю согласие {publication} на хранение моих данных.",
    }
    saved = await client.post("/admin/content", data=data)
    assert saved.status_code == 303, saved.text
    assert "Срочные новости" in (await client.get("/apply", headers=RU)).text
    assert "> Breaking news</label>" in (await client.get("/apply", headers=EN)).text
    home = await client.get("/", headers=RU)
    assert '<p class="lead" lang="en">Write about budgets for us.</p>' in home.text
    assert "Текст пока есть только на английском." in home.text
    admin_page = await client.get("/admin/content", headers=EN)
    assert "Срочные новости" in admin_page.text and "Write about budgets for us." in admin_page.text

    client.cookies.set("byline_lang", "ru")
    sent = await post_application(client, valid_fields(departments=["news"]))
    assert sent.status_code == 303
    async with db.sessionmaker() as session:
        applicant = (await session.scalars(select(Applicant))).one()
    assert applicant.consent_text == "Даю согласие The Meridian на хранение моих данных."


async def test_admin_content_form_refuses_an_item_without_any_name_and_saves_nothing(
    client: AsyncTestClient[Litestar], db: Database, admin
):
    async with db.sessionmaker() as session:
        news = (await session.scalars(select(Department).where(col(Department.slug) == "news"))).one()
    data = {
        **await _content_form(client),
        f"department_{news.id}_name_en": " ",
        f"department_{news.id}_name_ru": "",
        "call_text_en": "Changed call.",
        "call_text_ru": "Изменённый призыв.",
        "consent_text_en": "x" * 20_000,
    }
    refused = await client.post("/admin/content", data=data)
    assert refused.status_code == 422
    assert "Give a name in at least one language." in refused.text
    assert "Keep this text under" in refused.text
    assert "Changed call." in refused.text  # what was typed is kept on the page
    async with db.sessionmaker() as session:
        assert (await session.get(Department, news.id)).name == "News"
        assert await session.get(SiteSetting, "call_text_ru") is None


async def test_content_page_is_for_admins_only(client: AsyncTestClient[Litestar], db: Database):
    await staff_login(client, db, "editor@desk.example")
    assert (await client.get("/admin/content")).status_code in (403, 404)


async def test_staff_list_shows_department_names_in_the_readers_language(
    client: AsyncTestClient[Litestar], db: Database, admin
):
    await make_staff(db, email="analyst@desk.example", departments=("analysis",))
    staff = await client.get("/admin/users", headers=RU)
    assert "<td>Аналитика</td>" in staff.text


async def test_the_json_api_keeps_the_english_names_on_a_russian_site(app, client, db, settings):
    app_id = await submit(client, db, departments=["news"], topics=["politics"])
    _, token = await staff_token(app, db, "script@desk.example")
    i18n.configure("ru", settings.time_zone)  # the API answers outside any page's language
    try:
        listing = await client.get("/api/v1/applications", headers={**bearer(token), **RU})
        one = await client.get(f"/api/v1/applications/{app_id}", headers={**bearer(token), **RU})
    finally:
        i18n.configure(settings.default_locale, settings.time_zone)
    assert listing.status_code == 200 and one.status_code == 200, listing.text
    assert listing.json()["items"][0]["topics"] == ["Politics"]
    assert one.json()["departments"] == ["News"] and one.json()["topics"] == ["Politics"]
