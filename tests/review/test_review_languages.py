"""The editors' queue, application, bulk and conflict pages in Russian and in English."""

from __future__ import annotations

import re
from datetime import timedelta

from app.models import State
from tests.factories import choose_language, csrf_of, login, make_client, page_form, staff_login, submit
from tests.queries import stored

MARKS = {
    "analysis": "5",
    "fact_accuracy": "4",
    "concision": "3",
    "interest_style": "4",
    "topic_knowledge": "5",
}


def visible(html: str) -> str:
    """The page's text without tags, attributes or scripts, whitespace collapsed."""
    body = html.split("<body", 1)[1]
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


async def test_queue_is_in_the_saved_language_with_russian_plurals(app, db):
    async with make_client(app) as ru, make_client(app) as en:
        await submit(ru, db, name="Ana Ribeiro")
        await staff_login(ru, db, "ru@desk.example", name="Редактор")
        await choose_language(ru, "ru")
        app.state.clock.advance(timedelta(days=5))  # submitted is due within 3 days
        await login(ru, "ru@desk.example")  # the session has timed out
        await staff_login(en, db, "en@desk.example", name="Editor")

        # The saved choice beats the browser's language.
        page = (await ru.get("/dashboard", headers={"Accept-Language": "en"})).text
        text = visible(page)
        assert '<html lang="ru">' in page
        for phrase in (
            "Очередь",
            "Мои задачи",
            "Выйти",
            "Выгрузить в CSV",
            "Поступила 1",
            "Открытые 1",
            "Сначала ближайший срок",
            "5 дней",  # waiting
            "просрочено на 2 дня",
            "Кандидат",
            "С отмеченными заявками",
            "Страница 1",
        ):
            assert phrase in text, phrase
        for english in ("Queue", "Export as CSV", "Submitted", "Due soonest", "days", "overdue", "Page 1"):
            assert english not in text, english

        # Another editor with no saved choice reads the queue in the browser's language.
        english = visible((await en.get("/dashboard", headers={"Accept-Language": "en"})).text)
        for phrase in ("Queue", "Export as CSV", "Submitted 1", "Due soonest", "5 days", "overdue 2 days"):
            assert phrase in english, phrase
        russian = visible((await en.get("/dashboard", headers={"Accept-Language": "ru"})).text)
        assert "Выгрузить в CSV" in russian and "5 дней" in russian


async def test_two_days_and_one_day_in_the_queue(app, client, db):
    await submit(client, db, name="Ana Ribeiro")
    await staff_login(client, db, "ru@desk.example")
    await choose_language(client, "ru")
    app.state.clock.advance(timedelta(days=2, hours=1))
    await login(client, "ru@desk.example")
    text = visible((await client.get("/dashboard")).text)
    assert "2 дня" in text and "через 23 ч" in text  # waited; due in


async def test_application_page_in_russian_and_in_english(app, db):
    async with make_client(app) as ru, make_client(app) as en:
        app_id = await submit(ru, db, name="Ana Ribeiro")
        await staff_login(en, db, "en@desk.example", name="Editor")
        _, hidden = await page_form(en, app_id)
        await en.post(f"/applications/{app_id}/move", data={**hidden, "to": "screening"})
        _, hidden = await page_form(en, app_id)
        await en.post(f"/applications/{app_id}/score", data={**hidden, **MARKS, "recommendation": "trial"})

        await staff_login(ru, db, "ru@desk.example", name="Редактор")
        await choose_language(ru, "ru")
        page, hidden = await page_form(ru, app_id)
        text = visible(page)
        for phrase in (
            "Первичный отбор",  # the state
            "Поступила → Первичный отбор",  # the timeline
            "Заявка получена",
            "Кандидат",
            "Образцы работ",
            "Запросить сведения",
            "Отклонить",
            "Предложить пробное задание",
            "Взять себе",
            "Метки через запятую",
            "Задачи на проверку фактов",
            "Анализ",
            "Точность фактов",
            "Пробное задание",  # the recommendation
            "Средняя по всем оценкам: 4,2 из 5",
            "4,2 из 5, рекомендует: пробное задание",  # the score on the timeline
            "Добавить заметку",
        ):
            assert phrase in text, phrase
        for english in (
            "Screening",
            "Request information",
            "Work samples",
            "Timeline",
            "Average of all marks",
        ):
            assert english not in text, english

        # Refused input is explained in Russian too.
        empty = await ru.post(f"/applications/{app_id}/notes", data={**hidden, "note": "  "})
        assert empty.status_code == 422
        assert "Заметка пустая." in empty.text and "Сначала напишите заметку." in empty.text
        reject = await ru.post(f"/applications/{app_id}/move", data={**hidden, "to": "rejected"})
        assert reject.status_code == 422 and "Укажите причину (кандидат её не увидит)." in reject.text

        english = visible((await en.get(f"/applications/{app_id}", headers={"Accept-Language": "en"})).text)
        for phrase in (
            "Screening",
            "Submitted → Screening",
            "Request information",
            "Average of all marks: 4.2 of 5",
            "4.2 of 5, recommends: trial",
        ):
            assert phrase in english, phrase
        assert "Первичный отбор" not in english


async def test_bulk_preview_and_conflict_page_in_russian(app, db):
    async with make_client(app) as ru, make_client(app) as other:
        ids = [await submit(ru, db, name=name) for name in ("Ana Ribeiro", "Tomas Berger")]
        await staff_login(ru, db, "ru@desk.example", name="Редактор")
        await choose_language(ru, "ru")
        queue = (await ru.get("/dashboard")).text
        preview = await ru.post(
            "/dashboard/bulk",
            data={
                "_csrf_token": csrf_of(queue),
                "ids": [str(i) for i in ids],
                "action": "move",
                "to": "spam",
            },
        )
        text = visible(preview.text)
        assert "Проверьте, прежде чем подтвердить" in text
        assert text.count("Перейдёт в статус «спам».") == 2
        assert "Подтвердить для 2 заявок" in text

        await staff_login(other, db, "en@desk.example", name="Editor")
        _, old = await page_form(ru, ids[0])
        _, hidden = await page_form(other, ids[0])
        await other.post(f"/applications/{ids[0]}/move", data={**hidden, "to": "spam"})
        late = await ru.post(f"/applications/{ids[0]}/move", data={**old, "to": "screening"})
        assert late.status_code == 409
        text = visible(late.text)
        assert "Переведена из статуса «Поступила» в «Спам»" in text
        assert "Что изменилось, пока страница была открыта" in text
        assert (await stored(db, ids[0])).state == State.spam


async def test_timeline_entries_are_told_in_the_readers_language(app, db):
    """Assignments, labels, scores and spam flags are stored as data and read in each reader's language."""
    async with make_client(app) as ru, make_client(app) as en:
        app_id = await submit(en, db, name="Ana Ribeiro")
        await staff_login(en, db, "en@desk.example", name="Editor")
        _, hidden = await page_form(en, app_id)
        assert (
            await en.post(f"/applications/{app_id}/assign", data={**hidden, "assignee": "me"})
        ).status_code == 303
        _, hidden = await page_form(en, app_id)
        labelled = await en.post(
            f"/applications/{app_id}/labels", data={**hidden, "labels": "economy, urgent"}
        )
        assert labelled.status_code == 303
        _, hidden = await page_form(en, app_id)
        await en.post(f"/applications/{app_id}/score", data={**hidden, **MARKS, "recommendation": "accept"})

        await staff_login(ru, db, "ru@desk.example", name="Редактор")
        await choose_language(ru, "ru")
        russian = visible((await ru.get(f"/applications/{app_id}")).text)
        for phrase in (
            "Назначен редактор: Editor",
            "Метки: economy, urgent",
            "4,2 из 5, рекомендует: принять",
        ):
            assert phrase in russian, phrase
        for english in ("Assigned to", "recommends", "Scored"):
            assert english not in russian, english

        english = visible((await en.get(f"/applications/{app_id}")).text)
        for phrase in ("Assigned to Editor", "Labels: economy, urgent", "4.2 of 5, recommends: accept"):
            assert phrase in english, phrase
