"""The API's pages for people speak Russian; the JSON API itself answers in English whatever the caller asks."""

from __future__ import annotations

from tests.factories import bearer, csrf_of, make_client, staff_login, staff_token

RU = {"Accept-Language": "ru"}


async def test_the_tokens_page_and_its_form_messages_are_russian(client, db):
    await staff_login(client, db, "ed@desk.example", name="Edna Editor")
    page = await client.get("/account/tokens", headers=RU)
    assert "<h1>Токены API</h1>" in page.text and "У вас нет токенов." in page.text
    unnamed = await client.post(
        "/account/tokens", data={"_csrf_token": csrf_of(page.text), "name": " "}, headers=RU
    )
    assert unnamed.status_code == 422
    assert "Напишите, для чего токен, например «панель редакции»." in unnamed.text


async def test_the_webhooks_page_and_the_reference_page_are_russian(client, db):
    await staff_login(client, db, "ada@desk.example", name="Ada Admin", roles=("admin",))
    hooks = await client.get("/admin/webhooks", headers=RU)
    assert "<h1>Вебхуки</h1>" in hooks.text and "Вебхуков пока нет." in hooks.text
    docs = await client.get("/api/v1/docs", headers=RU)
    assert (
        docs.status_code == 200 and "Машиночитаемое описание" in docs.text and "<h2>Схемы</h2>" in docs.text
    )


async def test_the_json_api_answers_in_english_to_a_russian_caller(app, db, app_id):
    _, token = await staff_token(app, db, "ed@desk.example", roles=("editor",))
    async with make_client(app) as api:
        headers = {**bearer(token), **RU}
        await api.post(f"/api/v1/applications/{app_id}/moves", json={"to": "screening"}, headers=headers)
        refused = await api.post(
            f"/api/v1/applications/{app_id}/moves",
            json={
                "to": "fact_check",
                "task": {"assignee_id": 999999, "claims": ["The call lasted an hour."]},
            },
            headers=headers,
        )
    assert refused.status_code in (409, 422), refused.text
    assert refused.json()["errors"]["task_assignee"] == "Choose a fact-checker."
