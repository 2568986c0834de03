"""The whole trial in a real browser, as `make run` serves it: an editor working in English offers a trial with
its brief, the applicant who applied in Russian reads the brief from the email, writes the piece with the live
word count, checks it and sends it; the editor reads it with its checks on the application page; the fact-checker
picks claims from the piece's sentences in the task from "My tasks" and completes it; the editor scores the
piece, accepts the application (releasing the held decision) and accepts the piece for payment; a finance person
moves the fee to paid."""

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
TOPIC = "Почему бюджет порта приняли: кто выиграл и кто проиграл."
FIRST_SENTENCE = "Совет депутатов утвердил бюджет порта во вторник вечером после долгих споров."
SECOND_SENTENCE = "Оппозиция заявила, что администрация порта не опубликовала отчётность за прошлый год."
PIECE = f"{FIRST_SENTENCE} {SECOND_SENTENCE}"
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
NAMES = re.compile(r"The Meridian|Byline|\S+@\S+|https?://\S+|English|UTC|ics|PDF|DOCX|ODT|RTF|TXT|MD|RUB")


async def english_left(page, *typed: str) -> list[str]:
    text = await page.locator("body").inner_text()
    for words in typed:
        text = text.replace(words, " ")
    return ENGLISH_WORD.findall(NAMES.sub(" ", text))


async def test_the_whole_trial_from_the_offer_to_the_paid_fee(clean_db, live_server_with_mail, browser):
    base = live_server_with_mail
    editor_id = await make_staff(
        clean_db, email="nina@desk.example", name="Nina Editor", roles=("editor",), password=PASSWORD
    )
    await update_staff(clean_db, editor_id, locale="en")
    await make_staff(
        clean_db, email="farid@desk.example", name="Farid Checker", roles=("fact_checker",), password=PASSWORD
    )

    # The applicant applies in Russian, on a phone.
    context = await browser.new_context(
        locale="ru-RU",
        timezone_id="Europe/Moscow",
        extra_http_headers={"Accept-Language": "ru"},
        viewport={"width": 375, "height": 812},
        is_mobile=True,
    )
    applicant = await context.new_page()
    await applicant.goto(base + "/apply")
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
    await applicant.get_by_role("button", name="Отправить заявку").click()
    await applicant.get_by_role("heading", name="Спасибо, Лейла Мамедова").wait_for()
    status_url = await applicant.locator("#status-link").get_attribute("href")
    assert status_url

    # The editor, working in English, offers a trial from the application page: the brief is the move's form.
    editor = await (await browser.new_context(locale="en-US")).new_page()
    await log_in(editor, base, "nina@desk.example", PASSWORD)
    await editor.goto(base + "/dashboard")
    await editor.get_by_role("link", name="Лейла Мамедова").click()
    await editor.get_by_role("button", name="Start screening").click()
    await editor.locator("#state", has_text="Screening").wait_for()
    await editor.locator("#offer-trial summary").click()
    await expect(editor.locator("#brief-sources")).to_contain_text("первоисточники")
    await editor.locator("#brief-topic").fill(TOPIC)
    await editor.locator("#brief-min").fill("10")
    await editor.locator("#brief-max").fill("300")
    await editor.locator("#brief-amount").fill("5000")
    await editor.locator("#brief-checker").select_option(label="Farid Checker (0 open tasks)")
    await shot(editor, "trial-staff-01-offer-form")
    await editor.locator("#offer-trial").get_by_role("button", name="Offer the trial").click()
    await editor.locator("#state", has_text="Trial").wait_for()
    await expect(editor.locator("#trial-state")).to_have_text("Offered")
    await expect(editor.locator("#trial-fee-terms")).to_contain_text("5,000.00")
    await shot(editor, "trial-staff-02-offered")

    # The brief reaches the applicant in Russian, with the link to the trial page.
    brief = await open_mail(applicant, base, "leyla@applicant.example", "Тестовое задание для вас")
    assert TOPIC in brief and "Гонорар:" in brief
    trial_url = re.search(r"(https?://\S+/trial)\b", brief)
    assert trial_url, brief
    # The status link shows the brief's topic and leads to the trial page the email links to.
    await applicant.goto(status_url)
    await expect(applicant.locator("#trial-summary")).to_contain_text(TOPIC)
    await shot(applicant, "trial-applicant-00-status")
    assert not await english_left(applicant, TOPIC), "trial-applicant-00-status"
    await applicant.locator("#trial-link").click()
    await applicant.locator("#trial-title").wait_for()
    assert applicant.url == trial_url.group(1)
    assert await applicant.locator("html").get_attribute("lang") == "ru"
    await expect(applicant.locator("#trial-title")).to_have_text("Ваше тестовое задание")
    await expect(applicant.locator("#time-left")).to_contain_text("Осталось:")
    # The deadline, 18:00 in the editor's time zone (UTC), in the applicant's own: Moscow, UTC+3.
    await expect(applicant.locator("#brief-deadline")).to_contain_text("21:00")
    await expect(applicant.locator("#brief-deadline")).to_contain_text("Europe/Moscow")
    await shot(applicant, "trial-applicant-01-brief")
    assert not await english_left(applicant, TOPIC, "Europe/Moscow"), "trial-applicant-01-brief"

    # The live word count follows the typing; the server counts again on save.
    await applicant.locator("#piece-text").fill(PIECE)
    await expect(applicant.locator("#piece-words")).to_have_text(str(len(PIECE.split())))
    await applicant.get_by_role("button", name="Сохранить и проверить перед отправкой").click()
    await expect(applicant.locator("#confirm-title")).to_have_text("Отправить тестовый текст?")
    await expect(applicant.locator("#confirm-words")).to_contain_text(f"{len(PIECE.split())} слов")
    await shot(applicant, "trial-applicant-02-confirm")
    assert not await english_left(applicant, PIECE), "trial-applicant-02-confirm"
    await applicant.get_by_role("button", name="Отправить текст").click()
    await applicant.locator("#trial-sent").wait_for()
    await shot(applicant, "trial-applicant-03-sent")
    assert not await english_left(applicant, PIECE, TOPIC, "Europe/Moscow"), "trial-applicant-03-sent"

    # The status page sums the trial up and links to it.
    await applicant.goto(status_url)
    await expect(applicant.locator("#trial-summary")).to_contain_text("Ваш текст отправлен")

    # The editor reads the piece on the application page, with its checks.
    await editor.reload()
    await expect(editor.locator("#trial-state")).to_have_text("Piece in")
    await expect(editor.locator("#trial-piece-text")).to_contain_text("Совет депутатов утвердил")
    await expect(editor.locator("#trial-piece-facts")).to_contain_text(f"{len(PIECE.split())} words")
    await expect(editor.locator("#trial-checks")).to_contain_text("within the limits")
    await expect(editor.locator("#trial-checks")).to_contain_text("On time")
    await expect(editor.locator("#trial-fact-check")).to_contain_text("Farid Checker")
    await shot(editor, "trial-staff-03-piece-in")

    # The fact-checker finds the piece's task in "My tasks", picks claims from its sentences and gives verdicts.
    checker = await (await browser.new_context(locale="en-US")).new_page()
    await log_in(checker, base, "farid@desk.example", PASSWORD)
    await checker.get_by_role("link", name="My tasks", exact=True).first.click()
    await checker.get_by_role("heading", name="My tasks").wait_for()
    row = checker.locator(".tasks-table tr", has_text="Trial piece")
    await expect(row).to_have_count(1)
    await shot(checker, "trial-checker-01-my-tasks")
    await row.get_by_role("link").click()
    await checker.get_by_role("heading", name="The trial piece", exact=True).wait_for()
    await checker.get_by_label(FIRST_SENTENCE).check()
    await checker.get_by_label(SECOND_SENTENCE).check()
    await shot(checker, "trial-checker-02-sentences")
    await checker.get_by_role("button", name="Add as claims").click()
    await checker.locator("#claim-2").wait_for()
    await checker.locator("#claim-1").get_by_label("Accurate", exact=True).check()
    await checker.get_by_label("Sources for claim 1").fill("https://port.example/budget-vote")
    await checker.locator("#claim-2").get_by_label("Unverifiable", exact=True).check()
    await checker.get_by_label("Overall verdict").select_option("accurate")
    await checker.get_by_label("Summary for the editor").fill(
        "The vote checks out; the report claim is open."
    )
    await shot(checker, "trial-checker-03-verdicts")
    await checker.get_by_role("button", name="Complete the task").click()
    await checker.locator("#notice").wait_for()
    await expect(checker.locator("#task-state")).to_have_text("Done")

    # The editor sees the fact check done and scores the trial piece with its own rubric.
    await editor.reload()
    await expect(editor.locator("#trial-fact-check")).to_contain_text("overall: accurate")
    await editor.locator("#trial-scores summary", has_text="Score the trial piece").click()
    for fieldset in await editor.locator("#trial-score-form fieldset").all():
        await fieldset.get_by_label("4", exact=True).check()
    await editor.get_by_role("button", name="Save trial score").click()
    await expect(editor.locator("#trial-average")).to_contain_text("4")
    await shot(editor, "trial-staff-04-scored")

    # The editor accepts the application; the decision waits in the outbox until released.
    await editor.locator("#moves summary", has_text="Accept").click()
    await editor.locator("#moves").get_by_role("button", name="Accept").click()
    await editor.locator("#state", has_text="Accepted").wait_for()
    await editor.goto(base + "/outbox?status=held")
    await editor.get_by_role("checkbox").first.check()
    await editor.get_by_label("With the ticked messages").select_option("release")
    await editor.get_by_role("button", name="Apply to ticked messages").click()
    decision = await open_mail(applicant, base, "leyla@applicant.example", "Ваша заявка")
    assert "Лейла Мамедова" in decision

    # The editor accepts the piece for payment; the fee is agreed.
    await editor.goto(base + "/dashboard?state=accepted")
    await editor.get_by_role("link", name="Лейла Мамедова").click()
    await editor.locator("#trial-fee").get_by_role("button", name="Accept for payment").click()
    await expect(editor.locator("#fee-status")).to_contain_text("5,000.00")
    await expect(editor.locator("#fee-status")).to_contain_text("agreed")
    await shot(editor, "trial-staff-05-fee-agreed")
    application_url = editor.url

    # A finance person moves the fee to paid on the fees list; the application page shows it paid.
    await make_staff(
        clean_db, email="fay@desk.example", name="Fay Finance", roles=("finance",), password=PASSWORD
    )
    finance = await (await browser.new_context(locale="en-US")).new_page()
    await log_in(finance, base, "fay@desk.example", PASSWORD)
    await finance.goto(base + "/fees")
    await finance.get_by_role("heading", name="Trial fees").wait_for()
    await expect(finance.locator("#fees-table")).to_contain_text("Лейла Мамедова")
    await shot(finance, "trial-finance-01-agreed")
    for step in ("Mark as invoiced", "Approve for payment", "Mark as paid"):
        await finance.locator("#fees-table").get_by_role("button", name=step).click()
        await finance.locator("#fees-table").get_by_role("button", name=step).wait_for(state="detached")
    await finance.locator("#fees-table .fee-paid").wait_for()
    await shot(finance, "trial-finance-02-paid")
    await editor.goto(application_url)
    await expect(editor.locator("#fee-status")).to_contain_text("paid")
    await expect(editor.locator("#trial-fee .fee-steps li")).to_have_count(4)
    await shot(editor, "trial-staff-06-fee-paid")
