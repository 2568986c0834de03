"""Login, password and account pages in Russian: by the browser's language, and by the staff member's choice."""

from __future__ import annotations

import re

from tests.factories import csrf_of, login, make_client, make_staff, staff_login, update_staff

RU = {"Accept-Language": "ru-RU,ru;q=0.9"}


async def test_the_login_page_and_its_refusal_are_russian_for_a_russian_browser(client, db):
    await make_staff(db, email="eda@desk.example")
    page = await client.get("/login", headers=RU)
    assert "Вход для сотрудников" in page.text and "Забыли пароль?" in page.text
    assert "Staff login" not in page.text
    refused = await client.post(
        "/login",
        data={"_csrf_token": csrf_of(page.text), "email": "eda@desk.example", "password": "wrong password"},
        headers=RU,
    )
    assert refused.status_code == 401
    assert "Неверный адрес почты или пароль." in refused.text
    # Without the header the site's language (English in the tests) is kept.
    english = await login(client, "eda@desk.example", "wrong password")
    assert english.status_code == 401 and "The email address or password is not right." in english.text


async def test_the_lockout_says_so_in_russian(app, db, settings):
    await make_staff(db, email="eda@desk.example")
    async with make_client(app) as browser:
        token = csrf_of((await browser.get("/login")).text)
        for _ in range(settings.login_max_failures):
            await browser.post(
                "/login", data={"_csrf_token": token, "email": "eda@desk.example", "password": "x"}
            )
        locked = await browser.post(
            "/login", data={"_csrf_token": token, "email": "eda@desk.example", "password": "x"}, headers=RU
        )
    assert locked.status_code == 429
    assert "Слишком много неудачных попыток входа" in locked.text


async def test_the_forgotten_password_answer_is_the_same_in_russian_for_known_and_unknown_addresses(
    client, db
):
    await make_staff(db, email="eda@desk.example")
    page = await client.get("/password/forgot", headers=RU)
    assert "Восстановление пароля" in page.text
    token = csrf_of(page.text)
    known = await client.post(
        "/password/forgot", data={"_csrf_token": token, "email": "eda@desk.example"}, headers=RU
    )
    unknown = await client.post(
        "/password/forgot", data={"_csrf_token": token, "email": "nobody@desk.example"}, headers=RU
    )
    assert known.status_code == unknown.status_code == 200
    assert "ссылка для нового пароля уже в пути" in known.text
    strip = lambda html: re.sub(r"<strong>[^<]*</strong>|value=\"[^\"]*\"", "", html)  # noqa: E731
    assert strip(known.text) == strip(unknown.text)


async def test_the_account_page_follows_the_saved_language_with_russian_password_rules(client, db, editor):
    await update_staff(db, editor, locale="ru")
    account = await client.get("/account", headers={"Accept-Language": "en"})
    assert account.headers["content-language"] == "ru"
    for text in ("<h1>Учётная запись</h1>", "Смена пароля", "Уведомления по почте", "Ежедневной сводкой"):
        assert text in account.text, text
    assert "Change your password" not in account.text
    short = await client.post(
        "/account/password",
        data={
            "_csrf_token": csrf_of(account.text),
            "current": "correct horse battery staple",
            "password": "short",
            "confirm": "short",
        },
    )
    assert short.status_code == 422
    assert "Нужно не меньше 12 символов" in short.text


async def test_the_staff_list_names_roles_in_russian(client, db):
    await staff_login(client, db, "ada@desk.example", name="Ada Admin", roles=("admin", "editor"))
    await make_staff(db, email="fc@desk.example", name="Farid Checker", roles=("fact_checker",))
    page = await client.get("/admin/users", headers=RU)
    assert "<h1>Сотрудники</h1>" in page.text
    assert (
        '<span class="badge">фактчекер</span>' in page.text
        and '<span class="badge">администратор</span>' in page.text
    )
    assert "Пригласить сотрудника" in page.text and "Invite someone" not in page.text
