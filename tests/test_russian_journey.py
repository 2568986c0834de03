"""A Russian applicant in a real browser, as `make run` serves it (the worker delivers to the mail catcher).

The applicant's browser asks for Russian: the call, the form, its errors, the thank-you page, the emails and the
status page are Russian. An editor who chose English works in English, and the question sent from that English
page reaches the applicant in Russian, the language the application was sent in.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser import log_in, open_mail, shot
from tests.factories import make_staff, update_staff

pytestmark = pytest.mark.browser

PASSWORD = "a long shared desk passphrase for the journey"
SAMPLE = (
    "7 ноября 2020 года состоялся телефонный разговор президента Турции Реджепа Тайипа Эрдогана и "
    "президента России Владимира Путина, сообщает агентство «Анадолу». Стороны обсудили Карабах."
)
QUESTION = "Which sources did you use for the sample?"
# Three Latin letters in a row: an English word left on a Russian page (names and addresses aside).
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# What may stay Latin on a Russian page: the publication's and the product's names, addresses and links.
NAMES = re.compile(r"The Meridian|Byline|\S+@\S+|https?://\S+|English|HTML|PDF|DOCX|ODT|RTF|TXT|MD")


async def english_left(page, *typed: str) -> list[str]:
    """Latin words in the page's visible text outside names, addresses, links and what people `typed`."""
    text = await page.locator("body").inner_text()
    for words in typed:
        text = text.replace(words, " ")
    text = NAMES.sub(" ", text)
    return ENGLISH_WORD.findall(text)


async def test_a_russian_applicant_applies_and_reads_the_editors_question_in_russian(
    clean_db, live_server_with_mail, browser
):
    base = live_server_with_mail
    editor_id = await make_staff(
        clean_db, email="nina@desk.example", name="Nina Editor", roles=("editor",), password=PASSWORD
    )
    await update_staff(clean_db, editor_id, locale="en")

    context = await browser.new_context(locale="ru-RU", extra_http_headers={"Accept-Language": "ru"})
    applicant = await context.new_page()

    # The call and the form are Russian.
    await applicant.goto(base + "/")
    assert await applicant.locator("html").get_attribute("lang") == "ru"
    await shot(applicant, "ru-applicant-01-call")
    assert not await english_left(applicant), "ru-applicant-01-call"
    await applicant.get_by_role("link", name="Подать заявку").first.click()
    await applicant.get_by_label("Имя и фамилия").wait_for()
    assert await applicant.locator("html").get_attribute("lang") == "ru"
    await expect(applicant.locator("#apply-title")).to_contain_text("Стать автором")

    # Sent empty: a focused Russian summary and Russian messages at the fields.
    await applicant.get_by_role("button", name="Отправить заявку").click()
    await applicant.get_by_role("heading", name="Проверьте форму").wait_for()
    await expect(applicant.locator("[data-error-summary]")).to_be_focused()
    messages = await applicant.locator("[data-error-summary] li").all_inner_texts()
    assert len(messages) >= 5, messages
    for message in messages + await applicant.locator(".field-error").all_inner_texts():
        assert re.search("[а-яё]", message, re.IGNORECASE) and not ENGLISH_WORD.search(message), message
    await shot(applicant, "ru-applicant-02-empty-form")
    assert not await english_left(applicant), "ru-applicant-02-empty-form"

    # Filled in correctly with a pasted sample: the Russian thank-you page with the full status link.
    await applicant.get_by_label("Имя и фамилия").fill("Лейла Мамедова")
    await applicant.get_by_label("Электронная почта").fill("leyla@applicant.example")
    await applicant.get_by_label("Страна").fill("Азербайджан")
    await applicant.locator("input[name=departments]").first.check()
    await applicant.locator("input[name=topics]").first.check()
    await applicant.get_by_label("Сопроводительное письмо").fill(
        "Пишу о региональной политике и проверяю каждое утверждение по первоисточникам."
    )
    await applicant.get_by_label("Опыт").fill("Четыре года в региональной ежедневной газете.")
    await applicant.get_by_label("Занятость").fill("Два текста в неделю")
    await applicant.locator("#sample-0-title").fill("Путин и Эрдоган о Карабахе")
    await applicant.locator("#sample-0-text").fill(SAMPLE)
    await applicant.locator("#consent").check()
    await shot(applicant, "ru-applicant-03-form-filled")
    assert not await english_left(applicant), "ru-applicant-03-form-filled"
    await applicant.get_by_role("button", name="Отправить заявку").click()
    await applicant.get_by_role("heading", name="Спасибо, Лейла Мамедова").wait_for()
    assert await applicant.locator("html").get_attribute("lang") == "ru"
    status_url = await applicant.locator("#status-link").get_attribute("href")
    assert status_url and status_url.startswith(base + "/status/")
    assert await applicant.get_by_label("Ссылка на страницу заявки").input_value() == status_url
    await shot(applicant, "ru-applicant-04-thank-you")
    assert not await english_left(applicant), "ru-applicant-04-thank-you"

    # The confirmation is Russian: subject, text part and the HTML part's language.
    confirmation = await open_mail(applicant, base, "leyla@applicant.example", "Мы получили вашу заявку")
    assert "Здравствуйте, Лейла Мамедова!" in confirmation
    assert status_url in confirmation
    assert not ENGLISH_WORD.findall(NAMES.sub(" ", confirmation)), confirmation
    await shot(applicant, "ru-applicant-05-confirmation")
    assert not await english_left(applicant), "ru-applicant-05-confirmation"
    html = await context.request.get(applicant.url + "/html")
    assert html.ok
    html_part = await html.text()
    assert '<html lang="ru">' in html_part and "Здравствуйте" in html_part

    # An editor who chose English sees the application in English and asks a question.
    editor = await (await browser.new_context(locale="en-US")).new_page()
    await log_in(editor, base, "nina@desk.example", PASSWORD)
    await editor.goto(base + "/dashboard")
    assert await editor.locator("html").get_attribute("lang") == "en"
    await editor.get_by_role("link", name="Лейла Мамедова").click()
    assert await editor.locator("html").get_attribute("lang") == "en"
    await editor.get_by_role("button", name="Start screening").click()
    await editor.locator("#state", has_text="Screening").wait_for()
    await editor.locator("summary", has_text="Request information").click()
    await editor.locator("#message-info_requested").fill(QUESTION)
    await editor.locator("#moves").get_by_role("button", name="Request information").click()
    await editor.locator("#state", has_text="Info requested").wait_for()
    await shot(editor, "ru-staff-01-information-requested")

    # The question reaches the applicant in Russian, with the editor's words as written.
    question = await open_mail(applicant, base, "leyla@applicant.example", "Вопрос по вашей заявке")
    assert "У редакторов есть вопрос по вашей заявке:" in question
    assert QUESTION in question
    assert f"Ответьте, пожалуйста, на странице заявки: {status_url}" in question
    assert not ENGLISH_WORD.findall(NAMES.sub(" ", question.replace(QUESTION, " "))), question

    # The status page is Russian around the question.
    await applicant.goto(status_url)
    assert await applicant.locator("html").get_attribute("lang") == "ru"
    await expect(applicant.locator("#status-title")).to_have_text("Статус: Ждём вашего ответа")
    await expect(applicant.locator("#question")).to_have_text(QUESTION)
    await applicant.get_by_label("Ваш ответ").wait_for()
    await expect(applicant.get_by_role("button", name="Отправить ответ")).to_be_visible()
    await shot(applicant, "ru-applicant-06-status-with-question")
    assert not await english_left(applicant, QUESTION), "ru-applicant-06-status-with-question"
