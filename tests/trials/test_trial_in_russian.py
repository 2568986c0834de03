"""A trial offered by an editor working in English to an applicant who applied in Russian: the brief's template,
its email, the trial page (time left with Russian plurals, the fee in Russian money format) and the piece in
Russian; the editor's notice stays English."""

from __future__ import annotations

import re
from datetime import timedelta

from app.mail.render import render
from tests.factories import (
    choose_language,
    make_client,
    move,
    offer_trial,
    page_form,
    send_application,
    staff_login,
    submit_piece,
    valid_fields,
)
from tests.queries import application_id, outbox, trial_of, trial_piece_of

RUSSIAN_PIECE = (
    "Совет депутатов утвердил бюджет порта во вторник вечером после долгих споров. "
    "Оппозиция заявила, что администрация порта не опубликовала отчётность."
)


def visible(html: str) -> str:
    body = html.split("<body", 1)[1]
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


async def test_a_trial_in_russian(app, db, settings):
    async with make_client(app) as applicant, make_client(app) as editor:
        applicant.headers["Accept-Language"] = "ru"
        public_id = await send_application(applicant, valid_fields(name="Лейла Мамедова"))
        app_id = await application_id(db, public_id)
        await staff_login(editor, db, "eda@desk.example", name="Eda Editor")
        await choose_language(editor, "en")
        await move(editor, app_id, "screening")

        # The offer's form is English for the editor, its template texts Russian for the applicant.
        page, _ = await page_form(editor, app_id)
        assert "Topic and angle" in page and "Прежде всего первоисточники" in page
        assert "Здравствуйте, Лейла Мамедова!" in page

        deadline = (app.state.clock() + timedelta(days=3, hours=5)).strftime("%Y-%m-%dT%H:%M")
        await offer_trial(
            editor,
            app_id,
            topic="Почему бюджет порта приняли: кто выиграл и кто проиграл.",
            deadline=deadline,
            fee_amount="5000",
            currency="RUB",
            min_words="10",
            max_words="300",
        )
        [mail] = await outbox(db, app_id, template="applicant_trial_offered")
        assert mail.locale == "ru"
        message = render(mail, settings)
        assert str(message["Subject"]) == "Тестовое задание для вас" or "Тестовое задание" in str(
            message["Subject"]
        )
        text = message.get_body(("plain",)).get_content()
        for phrase in ("Задание:", "Тема и угол подачи", "Гонорар: 5\xa0000,00\xa0₽", "Срок сдачи", "(.ics)"):
            assert phrase in text, phrase

        page = await applicant.get(f"/status/{public_id}/trial")
        text = visible(page.text)
        assert '<html lang="ru">' in page.text
        for phrase in (
            "Ваше тестовое задание",
            "Осталось: 3 дня 4 часа",  # the deadline is a minute short of 3 days 5 hours
            "5 000,00 ₽",
            "от 10 до 300 слов",
            "Вставьте свой текст",
            "Сохранить и проверить перед отправкой",
            "Попросить больше времени",
        ):
            assert phrase.replace("\xa0", " ") in text.replace("\xa0", " "), phrase
        for english in ("Time left", "Your piece", "Save draft", "Fee"):
            assert english not in text, english

        status = visible((await applicant.get(f"/status/{public_id}")).text)
        assert "Открыть задание и отправить текст" in status

        await submit_piece(applicant, public_id, RUSSIAN_PIECE)
        piece = await trial_piece_of(db, app_id)
        assert piece is not None and piece.word_count == 19
        confirm_page = visible((await applicant.get(f"/status/{public_id}/trial")).text)
        assert "Спасибо: ваш текст отправлен" in confirm_page and "19 слов" in confirm_page

        # The editor reads the piece and gets the notice in English.
        [notice] = await outbox(db, app_id, template="staff_trial_submitted")
        assert "sent the trial piece" in str(render(notice, settings)["Subject"])
        page, _ = await page_form(editor, app_id)
        assert "Совет депутатов утвердил бюджет порта" in page and "19 words" in page
    assert (await trial_of(db, app_id)).locale == "ru"
