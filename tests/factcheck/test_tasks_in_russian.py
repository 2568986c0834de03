"""The fact-check pages in the fact-checker's saved language: Russian words, Russian plurals, English untouched."""

from __future__ import annotations

from tests.factories import NEWS_SENTENCE, csrf_of, login, make_client, new_task, update_staff
from tests.queries import samples_of, tasks_of


async def test_a_fact_checker_who_chose_russian_sees_the_task_pages_in_russian(
    app, client, db, fact_check_desk
):
    app_id, _, checker, _ = fact_check_desk
    sample = (await samples_of(db, app_id))[0]
    _, created = await new_task(
        client, app_id, sample.id, sentence=[NEWS_SENTENCE], task_assignee=str(checker)
    )
    assert created.status_code == 303, created.text
    [task] = await tasks_of(db, app_id)
    await update_staff(db, checker, locale="ru")
    async with make_client(app) as fc:
        await login(fc, "fc@desk.example")
        # The saved choice wins over the browser's English.
        mine = await fc.get("/tasks", headers={"Accept-Language": "en"})
        assert mine.headers["content-language"] == "ru"
        assert "<h1>Мои задачи</h1>" in mine.text
        assert "1 открытая задача." in mine.text
        assert 'id="h-later">Позже</h2>' in mine.text and "Открыта" in mine.text
        page = await fc.get(f"/tasks/{task.id}", headers={"Accept-Language": "en"})
        assert f"Задача на проверку фактов № {task.id}" in page.text
        for text in ("Утверждения и вердикты", "Утверждение 1", "Вводит в заблуждение", "Не проверить"):
            assert text in page.text, text
        assert "Завершить задачу" in page.text and "Complete the task" not in page.text
        # A refused completion explains itself in Russian, at the field.
        refused = await fc.post(
            f"/tasks/{task.id}", data={"_csrf_token": csrf_of(page.text), "action": "complete"}
        )
        assert refused.status_code == 422
        assert "Прежде чем завершить задачу, вынесите вердикт по утверждению 1." in refused.text
        assert "Some answers need another look" not in refused.text


async def test_the_claim_picker_speaks_russian_with_accept_language(client, db, fact_check_desk):
    app_id, *_ = fact_check_desk
    sample = (await samples_of(db, app_id))[0]
    url = f"/applications/{app_id}/tasks/new?sample={sample.id}"
    page = await client.get(url, headers={"Accept-Language": "ru"})
    assert page.status_code == 200, page.text
    assert "<h1>Новая задача на проверку фактов</h1>" in page.text
    assert "(если пусто — через 5 дней)" in page.text and "Создать задачу" in page.text
    english = await client.get(url)
    assert "<h1>New fact-check task</h1>" in english.text and "(empty: in 5 days)" in english.text
