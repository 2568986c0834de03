"""Languages: how a request's language is chosen, what it changes on the page, and the catalogs' upkeep."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from app.core import i18n
from app.core.db import Database
from app.models import Application
from tests.environment import ROOT
from tests.factories import csrf_of, login, make_staff, open_form, post_application, valid_fields

RU_PO = ROOT / "app" / "locale" / "ru" / "LC_MESSAGES" / "messages.po"
LANG_RE = re.compile(r'<html lang="([a-z]+)">')


def html_lang(html: str) -> str:
    match = LANG_RE.search(html)
    assert match, "no <html lang>"
    return match.group(1)


# --- choosing the language ------------------------------------------------------------------------------


async def test_default_is_the_site_setting_and_accept_language_overrides_it(
    client: AsyncTestClient[Litestar],
):
    page = await client.get("/apply")
    assert html_lang(page.text) == "en" and "Send my application" in page.text
    russian = await client.get("/apply", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert html_lang(russian.text) == "ru"
    assert "Отправить заявку" in russian.text
    # The browser's first language Byline speaks wins, by quality.
    ranked = await client.get("/apply", headers={"Accept-Language": "de;q=1, en;q=0.5, ru;q=0.7"})
    assert html_lang(ranked.text) == "ru"
    unknown = await client.get("/apply", headers={"Accept-Language": "de, fr"})
    assert html_lang(unknown.text) == "en"


def test_default_locale_setting_is_russian():
    from app.settings import Settings

    assert Settings(_env_file=None).default_locale == "ru"


async def test_query_sets_a_cookie_that_beats_accept_language(client: AsyncTestClient[Litestar]):
    chosen = await client.get("/apply?lang=ru", headers={"Accept-Language": "en"})
    assert html_lang(chosen.text) == "ru"
    cookie = next(c for c in chosen.headers.get_list("set-cookie") if c.startswith("byline_lang="))
    assert cookie.startswith("byline_lang=ru;") and "Path=/" in cookie and "SameSite=Lax" in cookie
    # The cookie keeps the choice on the next page, over the browser's language.
    later = await client.get("/", headers={"Accept-Language": "en"})
    assert html_lang(later.text) == "ru"
    # The query beats the cookie.
    english = await client.get("/?lang=en")
    assert html_lang(english.text) == "en"
    assert any(c.startswith("byline_lang=en;") for c in english.headers.get_list("set-cookie"))
    # An unknown language in the query changes nothing and sets no cookie.
    client.cookies.clear()
    odd = await client.get("/?lang=xx", headers={"Accept-Language": "ru"})
    assert html_lang(odd.text) == "ru"
    assert not any("byline_lang" in c for c in odd.headers.get_list("set-cookie"))


async def test_headers_on_pages_and_error_pages(client: AsyncTestClient[Litestar]):
    for path in ("/", "/apply", "/status/no-such-application", "/no-such-page"):
        page = await client.get(path, headers={"Accept-Language": "ru"})
        assert page.headers["content-language"] == "ru", path
        vary = {v.strip().lower() for v in page.headers["vary"].split(",")}
        assert {"accept-language", "cookie"} <= vary, path
        assert html_lang(page.text) == "ru", path
    missing = await client.get("/no-such-page", headers={"Accept-Language": "ru"})
    assert missing.status_code == 404
    assert "Страница не найдена" in missing.text and "Ошибка 404" in missing.text
    gone = await client.get("/status/no-such-application", headers={"Accept-Language": "ru"})
    assert gone.status_code == 404 and "По этому адресу заявки нет" in gone.text
    # The JSON API's answers are not pages.
    api = await client.get("/api/v1/applications", headers={"Accept-Language": "ru"})
    assert "content-language" not in api.headers


async def test_language_switch_links_keep_path_and_query(client: AsyncTestClient[Litestar]):
    page = await client.get("/apply?x=1&lang=en", headers={"Accept-Language": "ru"})
    switch = re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', page.text, re.S)
    assert switch
    links = switch.group(1)
    assert 'href="/apply?x=1&amp;lang=ru" lang="ru"' in links and ">Русский</a>" in links
    assert 'href="/apply?x=1&amp;lang=en" lang="en"' in links and ">English</a>" in links
    assert re.search(r'lang="en"[^>]*aria-current="true">English', links)
    assert not re.search(r'lang="ru"[^>]*aria-current', links)


async def test_staff_saved_language_beats_cookie_and_browser_but_not_the_query(
    client: AsyncTestClient[Litestar], db: Database
):
    await make_staff(db, email="ed@byline.example", name="Ed")
    await login(client, "ed@byline.example")
    account = await client.get("/account")
    assert html_lang(account.text) == "en"
    saved = await client.post(
        "/account/language",
        data={"_csrf_token": csrf_of(account.text), "locale": "ru", "time_zone": "Europe/Moscow"},
    )
    assert saved.status_code == 303
    # The next page is in the saved language, whatever the browser or the cookie say.
    client.cookies.set("byline_lang", "en")
    following = await client.get("/account", headers={"Accept-Language": "en"})
    assert html_lang(following.text) == "ru"
    assert '<option value="Europe/Moscow" selected>' in following.text
    assert html_lang((await client.get("/account?lang=en")).text) == "en"
    # A language or zone Byline does not know is refused, and nothing changes.
    bad = await client.post(
        "/account/language",
        data={"_csrf_token": csrf_of(following.text), "locale": "xx", "time_zone": "Mars/Olympus"},
    )
    assert bad.status_code == 422
    assert html_lang((await client.get("/account", headers={"Accept-Language": "en"})).text) == "ru"


async def test_concurrent_requests_each_get_their_own_language(client: AsyncTestClient[Litestar]):
    async def fetch(index: int) -> tuple[str, str]:
        lang = "ru" if index % 2 else "en"
        page = await client.get("/apply", headers={"Accept-Language": lang})
        return lang, page.text

    for lang, html in await asyncio.gather(*(fetch(i) for i in range(24))):
        assert html_lang(html) == lang
        if lang == "ru":
            assert "Отправить заявку" in html and "Send my application" not in html
        else:
            assert "Send my application" in html and "Отправить заявку" not in html


# --- translations and formatting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "ru", "en"),
    [(1, "1 день", "1 day"), (2, "2 дня", "2 days"), (5, "5 дней", "5 days"), (21, "21 день", "21 days")],
)
def test_plural_forms(n: int, ru: str, en: str):
    with i18n.use_locale("ru"):
        assert i18n.ngettext("%(num)s day", "%(num)s days", n) == ru
    with i18n.use_locale("en"):
        assert i18n.ngettext("%(num)s day", "%(num)s days", n) == en


def test_dates_in_the_readers_language_and_time_zone():
    moment = datetime(2026, 12, 7, 3, 1, tzinfo=UTC)
    with i18n.use_locale("ru", "Europe/Moscow"):
        # CLDR joins the year and its abbreviation with a narrow no-break space.
        assert i18n.format_datetime(moment) == "7 декабря 2026\u202fг., 06:01"
        assert i18n.format_date(moment) == "7 декабря 2026\u202fг."
    with i18n.use_locale("en", "America/New_York"):
        assert i18n.format_datetime(moment) == "December 6, 2026, 22:01"
        assert i18n.format_date(moment) == "December 6, 2026"
    with i18n.use_locale("en", "UTC"):
        assert i18n.format_datetime(moment.replace(tzinfo=None)) == "December 7, 2026, 03:01"
    with i18n.use_locale("ru"):
        assert i18n.format_number(12345) == "12\xa0345"


def test_site_time_zone_setting_is_checked():
    from pydantic import ValidationError

    from app.settings import Settings

    assert Settings(_env_file=None, time_zone="Europe/Moscow").time_zone == "Europe/Moscow"
    with pytest.raises(ValidationError):
        Settings(_env_file=None, time_zone="Moscow")


async def test_russian_applicant_form_and_its_errors(client: AsyncTestClient[Litestar]):
    ru = {"Accept-Language": "ru"}
    form = await client.get("/apply", headers=ru)
    for label in ("Имя и фамилия", "Электронная почта", "Сопроводительное письмо", "Образцы работ"):
        assert label in form.text
    client.cookies.set("byline_lang", "ru")
    empty = await post_application(client, {"consent": ""}, tokens=await open_form(client))
    assert empty.status_code == 422
    assert html_lang(empty.text) == "ru"
    for message in (
        "Проверьте форму",
        "Укажите имя.",
        "Укажите адрес электронной почты.",
        "Выберите хотя бы одну рубрику.",
        "Добавьте хотя бы один образец работы",
        "Чтобы мы могли рассмотреть заявку, дайте согласие на обработку данных.",
    ):
        assert message in empty.text, message
    assert "Enter your name." not in empty.text


async def test_application_stores_the_applicants_language(client: AsyncTestClient[Litestar], db: Database):
    client.cookies.set("byline_lang", "ru")
    sent = await post_application(client, valid_fields())
    assert sent.status_code == 303
    received = await client.get(sent.headers["location"])
    assert "Спасибо, <bdi>Leyla Mammadova</bdi>" in received.text
    async with db.sessionmaker() as session:
        application = (await session.scalars(select(Application))).one()
    assert application.locale == "ru"


# --- the catalogs ---------------------------------------------------------------------------------------


def test_russian_catalog_is_complete():
    with RU_PO.open("rb") as fp:
        catalog = read_po(fp, locale="ru")
    assert catalog.num_plurals == 3
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(message.id)
    assert not problems, f"untranslated or fuzzy in {RU_PO.name}: {problems}"


def test_catalog_holds_every_text_in_the_code(tmp_path: Path):
    pot = tmp_path / "messages.pot"
    keywords = ["-k", "lazy_gettext", "-k", "_l", "-k", "N_"]
    cli = ["pybabel", "extract", "-F", str(ROOT / "babel.cfg"), *keywords, "-o", str(pot)]
    CommandLineInterface().run([*cli, str(ROOT / "app"), str(ROOT / "templates")])
    with pot.open("rb") as fp:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp) if m.id}
    with RU_PO.open("rb") as fp:
        translated = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp) if m.id}
    assert len(extracted) > 100  # the extraction found the texts of the code and the templates
    missing = sorted(extracted - translated)
    assert not missing, f"run `make messages` and translate: {missing}"


async def test_upload_refusal_in_russian(client: AsyncTestClient[Litestar]):
    client.cookies.set("byline_lang", "ru")
    refused = await post_application(
        client,
        valid_fields(**{"sample-0-text": None}),
        files=[("sample-0-file", ("sample.txt", b"", "text/plain"))],
    )
    assert refused.status_code == 422
    assert "Файл пустой." in refused.text
    assert "Приложите «sample.txt» ещё раз" in refused.text


def test_sizes_and_marks_in_the_readers_units_and_digits():
    with i18n.use_locale("ru"):
        assert i18n.format_size(20 * 1024 * 1024) == "20 МБ"
        assert i18n.format_size(1536) == "1,5 кБ"
        assert [i18n.format_size(n) for n in (1, 2, 5, 21)] == ["1 байт", "2 байта", "5 байт", "21 байт"]
        assert i18n.format_mark(4.25) == "4,2"
    with i18n.use_locale("en"):
        assert i18n.format_size(20 * 1024 * 1024) == "20 MB"
        assert i18n.format_size(1536) == "1.5 kB"
        assert i18n.format_size(1) == "1 byte"
        assert i18n.format_mark(4) == "4.0"
