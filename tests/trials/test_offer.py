"""Offering a trial: the brief is the move's form, stored with the move, emailed in the applicant's language;
extending and cancelling; what the workflow refuses."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.models import Application, Event, State, Trial, TrialState
from tests.factories import (
    demo_desk,
    make_client,
    make_staff,
    move,
    offer_trial,
    page_form,
    post_offer,
    staff_login,
    trial_fields,
)
from tests.queries import outbox, stored, trial_of


async def test_an_offer_stores_the_brief_moves_to_trial_and_emails_it(client, db, app_id, editor):
    checker = await make_staff(db, email="fc@desk.example", name="Farid Checker", roles=("fact_checker",))
    page, _ = await page_form(client, app_id)
    await move(client, app_id, "screening")
    page, _ = await page_form(client, app_id)
    assert 'id="offer-trial"' in page and 'name="topic"' in page and "Farid Checker" in page

    await offer_trial(
        client,
        app_id,
        deadline="2030-03-01T18:00",
        fee_kind="per_word",
        fee_amount="12.50",
        fee_cap="20000",
        currency="EUR",
        fact_checker_id=str(checker),
        deadline_firm=None,
    )
    application = await stored(db, app_id)
    assert application.state == State.trial
    trial = await trial_of(db, app_id)
    assert trial.state == TrialState.offered and trial.offered_by_id == editor
    assert trial.deadline_at == datetime(2030, 3, 1, 18, 0, tzinfo=UTC)  # the editor's zone is UTC here
    assert not trial.deadline_firm
    assert (trial.fee_kind, trial.fee_amount_minor, trial.fee_cap_minor, trial.currency) == (
        "per_word",
        1250,
        2_000_000,
        "EUR",
    )
    assert trial.fact_checker_id == checker and trial.min_words == 5 and trial.max_words == 900
    assert trial.locale == application.locale

    mails = await outbox(db, app_id, template="applicant_trial_offered")
    assert len(mails) == 1
    context = mails[0].context
    assert context["topic"] == trial.topic and context["trial_url"].endswith(
        f"/status/{application.public_id}/trial"
    )
    assert context["ics_url"].endswith("/trial/deadline.ics")
    # No second "status" email for the move: the brief is the message.
    assert await outbox(db, app_id, template="applicant_status") == []

    page, _ = await page_form(client, app_id)
    assert 'id="trial"' in page and trial.topic[:40] in page
    assert "Extend the deadline" in page


async def test_the_fee_is_shown_in_the_readers_locale(client, db, app_id, editor):
    await offer_trial(client, app_id, fee_amount="5000", currency="RUB")
    page, _ = await page_form(client, app_id)
    fee = re.search(r'id="trial-fee-terms">([^<]+)<', page)
    assert fee and "5,000.00" in fee.group(1) and ("RUB" in fee.group(1) or "₽" in fee.group(1))


async def test_a_bad_brief_comes_back_422_with_everything_typed(client, db, app_id, editor):
    await move(client, app_id, "screening")
    response = await post_offer(
        client,
        app_id,
        topic="",
        min_words="900",
        max_words="300",
        deadline="2001-01-01T10:00",
        fee_amount="12.345",
        sources="Keep this text",
    )
    assert response.status_code == 422
    text = response.text
    assert "Write the topic and the angle." in text
    assert "The minimum cannot be above the maximum." in text
    assert "The deadline must be in the future." in text
    assert "Give the fee as an amount" in text
    assert "Keep this text" in text and 'value="2001-01-01T10:00"' in text
    assert (await stored(db, app_id)).state == State.screening
    assert await outbox(db, app_id, template="applicant_trial_offered") == []


async def test_a_trial_move_without_a_brief_is_refused(client, db, app_id, editor):
    await move(client, app_id, "screening")
    _, hidden = await page_form(client, app_id)
    response = await client.post(f"/applications/{app_id}/move", data={**hidden, "to": "trial"})
    assert response.status_code == 409
    assert "brief" in response.text
    assert (await stored(db, app_id)).state == State.screening


async def test_a_stale_offer_is_refused_and_writes_nothing(client, db, app_id, editor):
    await move(client, app_id, "screening")
    _, hidden = await page_form(client, app_id)
    await client.post(f"/applications/{app_id}/assign", data={**hidden, "assignee": "me"})
    response = await client.post(f"/applications/{app_id}/trial", data={**hidden, **trial_fields()})
    assert response.status_code == 409
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(Trial))).all() == []


async def test_a_decision_waits_for_the_piece_or_the_deadline(app, client, db, app_id, editor):
    deadline = (app.state.clock() + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")
    await offer_trial(client, app_id, deadline=deadline)
    page, hidden = await page_form(client, app_id)
    assert "The trial is still running" in page
    refused = await client.post(
        f"/applications/{app_id}/move", data={**hidden, "to": "rejected", "reason": "Not for us"}
    )
    assert refused.status_code == 409 and "The trial is still running" in refused.text
    app.state.clock.advance(timedelta(minutes=30))  # the deadline has passed (the session is still fresh)
    await move(client, app_id, "rejected", reason="No piece came")
    assert (await stored(db, app_id)).state == State.rejected


async def test_extending_the_deadline_tells_the_applicant(client, db, app_id, editor):
    await offer_trial(client, app_id, deadline="2030-03-01T18:00")
    trial = await trial_of(db, app_id)
    _, hidden = await page_form(client, app_id)
    earlier = await client.post(
        f"/applications/{app_id}/trial/{trial.id}/extend", data={**hidden, "deadline": "2030-02-01T18:00"}
    )
    assert earlier.status_code == 422 and "later than the current one" in earlier.text
    done = await client.post(
        f"/applications/{app_id}/trial/{trial.id}/extend", data={**hidden, "deadline": "2030-03-05T09:30"}
    )
    assert done.status_code == 303
    assert (await trial_of(db, app_id)).deadline_at == datetime(2030, 3, 5, 9, 30, tzinfo=UTC)
    mails = await outbox(db, app_id, template="applicant_trial_extended")
    assert len(mails) == 1 and mails[0].context["deadline_at"].startswith("2030-03-05T09:30")
    async with db.sessionmaker() as session:
        kinds = (await session.scalars(select(Event.kind).where(Event.application_id == app_id))).all()
    assert "trial_extended" in kinds


async def test_cancelling_ends_the_trial_and_opens_the_decision(client, db, app_id, editor):
    await offer_trial(client, app_id)
    trial = await trial_of(db, app_id)
    _, hidden = await page_form(client, app_id)
    response = await client.post(f"/applications/{app_id}/trial/{trial.id}/revoke", data=hidden)
    assert response.status_code == 303
    assert (await trial_of(db, app_id)).state == TrialState.cancelled
    assert len(await outbox(db, app_id, template="applicant_trial_cancelled")) == 1
    await move(client, app_id, "rejected", reason="Trial called off")
    again = await client.post(f"/applications/{app_id}/trial/{trial.id}/revoke", data=hidden)
    assert again.status_code == 409


async def test_only_editors_offer_trials(app, db, app_id):
    async with make_client(app) as checker:
        await staff_login(checker, db, "fc@desk.example", roles=("fact_checker",))
        response = await checker.post(f"/applications/{app_id}/trial", data=trial_fields(version="1"))
        assert response.status_code == 403


async def test_the_demo_has_a_trial_to_offer_and_one_offered(app, client, db, settings):
    desk = await demo_desk(db, settings)
    async with db.sessionmaker() as session:
        trial = (await session.scalars(select(Trial))).one()
        application = await session.get(Application, trial.application_id)
        in_screening = (
            await session.scalars(select(Application).where(Application.state == State.screening))
        ).all()
    assert application is not None and application.state == State.trial and trial.locale == "ru"
    assert in_screening, "an application ready for a trial offer"
    page = await client.get(f"/status/{application.public_id}/trial")
    assert page.status_code == 200 and "Дорожные бюджеты регионов" in page.text
    assert desk.logins["editor"]
    [mail] = await outbox(db, application.id, template="applicant_trial_offered")
    assert mail.context["trial_url"].endswith(f"/status/{application.public_id}/trial")
