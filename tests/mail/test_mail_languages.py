"""Mail in the recipient's language and time zone, whoever causes it; the outbox row records the language."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.text import normalize_email
from app.mail import unsubscribe
from app.mail.digest import queue_daily_digests
from app.mail.render import render
from app.models import Applicant, Application, OutboxEmail
from tests.factories import (
    csrf_of,
    make_staff,
    page_form,
    post_application,
    staff_login,
    submit,
    update_staff,
    valid_fields,
)
from tests.queries import outbox


async def submit_in_russian(client, db, email: str) -> int:
    """Apply with a Russian browser; returns the application's id."""
    data = valid_fields(name="Анна Петрова", email=email)
    response = await post_application(client, data, headers={"Accept-Language": "ru"})
    assert response.status_code == 303, response.text
    async with db.sessionmaker() as session:
        app_id = await session.scalar(
            select(Application.id)
            .join(Applicant, Applicant.id == Application.applicant_id)  # type: ignore[arg-type]
            .where(Applicant.email_normalized == normalize_email(email))
        )
    assert app_id is not None
    return int(app_id)


def parts(row: OutboxEmail, settings) -> tuple[str, str, str]:
    message = render(row, settings)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return str(message["Subject"]), text, html


async def test_a_russian_applicant_gets_a_russian_confirmation(client, db, settings):
    app_id = await submit_in_russian(client, db, "anna@applicant.example")
    [row] = [m for m in await outbox(db, app_id) if m.template == "applicant_received"]
    assert row.locale == "ru"
    subject, text, html = parts(row, settings)
    assert subject == "Мы получили вашу заявку"
    assert text.startswith("Здравствуйте, Анна Петрова!") and "We received" not in text
    assert '<html lang="ru">' in html and "Следить за заявкой" in html


async def test_an_english_editor_moving_it_still_writes_to_the_applicant_in_russian(client, db, settings):
    asked = await submit_in_russian(client, db, "anna@applicant.example")
    rejected = await submit_in_russian(client, db, "olga@applicant.example")
    editor = await staff_login(client, db, "eda@desk.example", name="Eda Editor")
    await update_staff(db, editor, locale="en")

    _, hidden = await page_form(client, asked)
    await client.post(f"/applications/{asked}/move", data={**hidden, "to": "screening"})
    _, hidden = await page_form(client, asked)
    moved = await client.post(
        f"/applications/{asked}/move",
        data={**hidden, "to": "info_requested", "message": "Какие тексты вы писали сами?"},
    )
    assert moved.status_code == 303
    [question] = [m for m in await outbox(db, asked) if m.template == "applicant_info_requested"]
    assert question.locale == "ru"
    subject, text, html = parts(question, settings)
    assert subject == "Вопрос по вашей заявке" and "У редакторов есть вопрос" in text
    assert '<html lang="ru">' in html

    _, hidden = await page_form(client, rejected)
    await client.post(f"/applications/{rejected}/move", data={**hidden, "to": "screening"})
    page, hidden = await page_form(client, rejected)
    # The editor's page is in English; the text offered for the applicant is in the applicant's language.
    assert "Move to" in page or "Reject" in page
    assert "Мы внимательно её прочитали" in page and "After careful reading" not in page
    await client.post(
        f"/applications/{rejected}/move",
        data={**hidden, "to": "rejected", "message": "Здравствуйте! Спасибо.", "reason": "Off topic"},
    )
    [decision] = [m for m in await outbox(db, rejected) if m.template == "applicant_decision"]
    assert decision.status == "held" and decision.locale == "ru"
    listing = await client.get("/outbox?status=held")
    released = await client.post(
        "/outbox/actions",
        data={
            "_csrf_token": csrf_of(listing.text),
            "action": "release",
            "ids": [str(decision.id)],
            "back": "/outbox?status=held",
        },
    )
    assert released.status_code == 303
    [decision] = [m for m in await outbox(db, rejected) if m.template == "applicant_decision"]
    assert decision.status == "queued"
    subject, text, html = parts(decision, settings)
    assert subject == f"Ваша заявка в «{settings.publication_name}»"
    assert "Здравствуйте! Спасибо." in text and "Ваша заявка:" in text and '<html lang="ru">' in html


async def test_each_staff_member_gets_the_same_notice_in_their_own_language(client, db, settings):
    russian = await make_staff(db, email="ru@desk.example", name="Ирина")
    english = await make_staff(db, email="en@desk.example", name="Eda")
    await update_staff(db, russian, locale="ru")
    await update_staff(db, english, locale="en")
    app_id = await submit(client, db, name="Ana Ribeiro")
    notices = {m.recipient: m for m in await outbox(db, app_id) if m.template == "staff_new_application"}
    assert notices["ru@desk.example"].locale == "ru" and notices["en@desk.example"].locale == "en"
    subject, text, html = parts(notices["ru@desk.example"], settings)
    assert subject == "Новая заявка: Ana Ribeiro" and "Открыть заявку" in html and '<html lang="ru">' in html
    assert "Отписаться от этих уведомлений" in text
    subject, text, html = parts(notices["en@desk.example"], settings)
    assert subject == "New application: Ana Ribeiro" and "Open the application" in html
    assert '<html lang="en">' in html and "Stop these notifications" in text


async def test_a_staff_member_without_a_choice_gets_the_site_language(client, db, settings):
    await make_staff(db, email="plain@desk.example")
    app_id = await submit(client, db)
    [notice] = [m for m in await outbox(db, app_id) if m.template == "staff_new_application"]
    assert notice.locale == settings.default_locale == "en" and notice.time_zone == settings.time_zone


async def test_dates_in_mail_follow_the_readers_language_and_time_zone(app, client, db, settings):
    app_id = await submit(client, db, name="Ana Ribeiro")
    moscow = await staff_login(client, db, "ru@desk.example", name="Ирина")
    await update_staff(db, moscow, locale="ru", time_zone="Europe/Moscow")
    _, hidden = await page_form(client, app_id)
    await client.post(f"/applications/{app_id}/assign", data={**hidden, "assignee": "me"})
    async with db.sessionmaker() as session:
        application = await session.get(Application, app_id)
        assert application is not None and application.due_at is not None
        due = application.due_at
    later = app.state.clock() + timedelta(days=30)
    async with db.write_session() as session:
        assert await queue_daily_digests(session, settings, later.replace(hour=settings.digest_hour)) == 1
    async with db.sessionmaker() as session:
        [digest] = (
            await session.scalars(select(OutboxEmail).where(OutboxEmail.template == "staff_digest"))
        ).all()
    assert digest.locale == "ru" and digest.time_zone == "Europe/Moscow"
    subject, text, _ = parts(digest, settings)
    assert subject.startswith("Ваша сводка за ") and "Ваши просроченные заявки (1)" in text
    # Due times are shown in Moscow time (UTC+3), with Russian month names.
    local = due + timedelta(hours=3)
    months = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
              "октября", "ноября", "декабря"]  # fmt: skip
    assert f"{local.day} {months[local.month - 1]} {local.year} г., {local:%H:%M}" in text.replace(
        "\u202f", " "
    )
    assert "UTC" not in text


async def test_the_unsubscribe_page_speaks_the_readers_language(client, db, settings):
    await make_staff(db, email="ru@desk.example", name="Ирина")
    app_id = await submit(client, db)
    [notice] = [m for m in await outbox(db, app_id) if m.template == "staff_new_application"]
    link = unsubscribe.link(notice, settings).removeprefix(settings.base_url)
    page = await client.get(link, headers={"Accept-Language": "ru"})
    assert page.status_code == 200 and "Отписаться от этих писем?" in page.text
    assert "Уведомление о новой заявке" in page.text and "Stop these emails" not in page.text
    done = await client.post(link, headers={"Accept-Language": "ru"})
    assert done.status_code == 200 and "Больше таких писем не будет" in done.text
