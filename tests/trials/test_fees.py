"""The fee of a trial piece: an editor accepts it for payment at the amount the trial's terms give, finance
people and admins move it through invoiced, approved and paid (editors are refused), each step recorded with
who and when and on the timeline, two people pressing the same step at once get one success and one 409, and
the finance list (/fees) shows a month's fees with totals per currency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from app.core import i18n
from app.core.staff import StaffUser
from app.mail.render import render
from app.models import FeeStatus, Trial
from app.trials import fees
from tests.factories import (
    accept_fee,
    csrf_of,
    insert_trial,
    make_client,
    staff_login,
    step_fee,
)
from tests.queries import events_of, fee_of, outbox, staff_member


@pytest.fixture
async def finance(app, db):
    """Fay Finance (finance role only), logged in on a client of her own."""
    async with make_client(app) as client:
        client.user_id = await staff_login(
            client, db, "fay@desk.example", name="Fay Finance", roles=("finance",)
        )
        yield client


async def test_a_flat_fee_is_agreed_by_an_editor_and_moved_to_paid_by_finance(
    app, client, db, settings, app_id, editor, finance
):
    trial_id = await insert_trial(db, app_id)
    accepted = await accept_fee(client, trial_id, note="Good piece.")
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == f"/applications/{app_id}#trial-fee"
    fee = await fee_of(db, trial_id)
    assert fee is not None
    assert (fee.status, fee.amount_minor, fee.currency) == ("agreed", 1_500_000, "RUB")
    assert fee.agreed_by_id == editor and fee.agreed_at == app.state.clock()
    [notice] = await outbox(db, app_id, template="staff_fee_agreed")
    assert notice.recipient == "fay@desk.example" and notice.is_staff
    with i18n.use_locale("en"):
        text = render(notice, settings).get_body(("plain",)).get_content()
    assert "Eda Editor accepted the trial piece of Leyla Mammadova for payment" in text
    assert "/fees" in text and f"/applications/{app_id}" in text

    for seen, to in (("agreed", "invoiced"), ("invoiced", "approved"), ("approved", "paid")):
        moved = await step_fee(finance, trial_id, seen, to, note=f"{to} note")
        assert moved.status_code == 303, moved.text
    fee = await fee_of(db, trial_id)
    assert fee.status == FeeStatus.paid
    for status in ("invoiced", "approved", "paid"):
        assert getattr(fee, f"{status}_by_id") == finance.user_id
        assert getattr(fee, f"{status}_at") == app.state.clock()
    assert fee.note == "paid note"

    steps = await events_of(db, app_id, "trial_fee")
    assert [event.data["status"] for event in steps] == ["agreed", "invoiced", "approved", "paid"]
    assert [event.actor_user_id for event in steps] == [editor] + [finance.user_id] * 3
    page = await client.get(f"/applications/{app_id}")
    assert "Trial fee paid:" in page.text and "15,000.00" in page.text


async def test_an_editor_is_refused_the_finance_steps_and_finance_cannot_agree(
    client, db, app_id, editor, finance
):
    trial_id = await insert_trial(db, app_id)
    assert (await accept_fee(finance, trial_id)).status_code == 403
    assert await fee_of(db, trial_id) is None
    assert (await accept_fee(client, trial_id)).status_code == 303
    for seen, to in (("agreed", "invoiced"), ("approved", "paid")):
        refused = await step_fee(client, trial_id, seen, to)
        assert refused.status_code == 403
    assert (await fee_of(db, trial_id)).status == "agreed"


async def test_an_admin_moves_a_fee_too(app, db, app_id, finance):
    trial_id = await insert_trial(db, app_id)
    async with make_client(app) as desk:
        await staff_login(desk, db, "chief@desk.example", roles=("admin", "editor"))
        assert (await accept_fee(desk, trial_id)).status_code == 303
        assert (await step_fee(desk, trial_id, "agreed", "invoiced")).status_code == 303
        listing = await desk.get("/fees")
        assert f'href="/applications/{app_id}"' in listing.text, "an editor's list links the applications"
    assert (await fee_of(db, trial_id)).status == "invoiced"
    async with make_client(app) as admin_only:
        await staff_login(admin_only, db, "ops@desk.example", roles=("admin",))
        moved = await step_fee(admin_only, trial_id, "invoiced", "approved")
        assert moved.status_code == 303
        assert moved.headers["location"] == f"/fees#fee-{(await fee_of(db, trial_id)).id}"


async def test_a_per_word_fee_is_the_rate_times_the_words_held_to_the_cap(client, db, app_id, editor):
    capped = await insert_trial(
        db, app_id, words=850, fee_kind="per_word", fee_amount_minor=2_000, fee_cap_minor=1_000_000
    )
    uncapped = await insert_trial(
        db, app_id, words=850, fee_kind="per_word", fee_amount_minor=2_000, currency="USD"
    )
    for trial_id in (capped, uncapped):
        assert (await accept_fee(client, trial_id)).status_code == 303
    assert (await fee_of(db, capped)).amount_minor == 1_000_000
    uncapped_fee = await fee_of(db, uncapped)
    assert (uncapped_fee.amount_minor, uncapped_fee.currency) == (1_700_000, "USD")


async def test_no_fee_for_an_unpaid_trial_a_piece_not_in_or_twice(client, db, app_id, editor):
    unpaid = await insert_trial(db, app_id, fee_kind="unpaid", fee_amount_minor=None)
    offered = await insert_trial(db, app_id, state="offered")
    done = await insert_trial(db, app_id)
    assert (await accept_fee(client, unpaid)).status_code == 409
    assert (await accept_fee(client, offered)).status_code == 409
    assert (await accept_fee(client, done)).status_code == 303
    again = await accept_fee(client, done)
    assert again.status_code == 409 and "already" in again.text
    assert await fee_of(db, unpaid) is None and await fee_of(db, offered) is None
    assert len(await events_of(db, app_id, "trial_fee")) == 1
    assert (await accept_fee(client, 999_999)).status_code == 404


async def test_a_fee_moves_one_step_at_a_time(client, db, app_id, editor, finance):
    trial_id = await insert_trial(db, app_id)
    await accept_fee(client, trial_id)
    skipped = await step_fee(finance, trial_id, "agreed", "paid")
    assert skipped.status_code == 409
    unknown = await step_fee(finance, trial_id, "agreed", "refunded")
    assert unknown.status_code == 422
    assert (await fee_of(db, trial_id)).status == "agreed"


async def test_two_people_pressing_paid_at_once_get_one_success_and_one_409(
    app, client, db, app_id, editor, finance
):
    trial_id = await insert_trial(db, app_id)
    await accept_fee(client, trial_id)
    await step_fee(finance, trial_id, "agreed", "invoiced")
    await step_fee(finance, trial_id, "invoiced", "approved")
    async with make_client(app) as colleague:
        other = await staff_login(colleague, db, "finn@desk.example", name="Finn Finance", roles=("finance",))
        answers = await asyncio.gather(
            step_fee(finance, trial_id, "approved", "paid"), step_fee(colleague, trial_id, "approved", "paid")
        )
    assert sorted(answer.status_code for answer in answers) == [303, 409]
    [lost] = [answer for answer in answers if answer.status_code == 409]
    assert "Someone else moved this fee first" in lost.text
    fee = await fee_of(db, trial_id)
    assert fee.status == "paid" and fee.paid_by_id in (finance.user_id, other)
    assert [event.data["status"] for event in await events_of(db, app_id, "trial_fee")].count("paid") == 1


async def test_a_step_needs_the_csrf_token(client, db, app_id, editor, finance):
    trial_id = await insert_trial(db, app_id)
    refused = await client.post(f"/trials/{trial_id}/fee", data={"note": ""})
    assert refused.status_code == 403
    assert await fee_of(db, trial_id) is None


async def test_the_finance_list_shows_the_month_with_totals_and_the_next_step(
    app, client, db, app_id, editor, finance
):
    app.state.clock.freeze(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    rub = await insert_trial(db, app_id)
    usd = await insert_trial(db, app_id, currency="USD", fee_amount_minor=40_000)
    for trial_id in (rub, usd):
        await accept_fee(client, trial_id)
    await step_fee(finance, usd, "agreed", "invoiced")
    app.state.clock.freeze(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    december = await insert_trial(db, app_id, fee_amount_minor=100)
    await accept_fee(client, december)

    page = await finance.get("/fees?month=2026-11")
    assert page.status_code == 200
    assert 'href="/fees"' in page.text, "the finance person's navigation links the page"
    assert "RUB15,000.00" in page.text.replace("\xa0", "") and "$400.00" in page.text
    assert f'id="fee-{(await fee_of(db, rub)).id}"' in page.text
    assert f'id="fee-{(await fee_of(db, december)).id}"' not in page.text
    assert "Mark as invoiced" in page.text and "Approve for payment" in page.text
    assert f'href="/applications/{app_id}"' not in page.text, "finance people do not open applications"
    assert f"#{app_id}" in page.text

    only_invoiced = await finance.get("/fees?month=2026-11&status=invoiced")
    assert "$400.00" in only_invoiced.text and "15,000.00" not in only_invoiced.text

    # A step from the list comes back to the list's month.
    token = csrf_of(page.text)
    moved = await finance.post(
        f"/trials/{usd}/fee/status",
        data={"_csrf_token": token, "seen": "invoiced", "to": "approved", "back": "fees", "month": "2026-11"},
    )
    assert moved.status_code == 303
    assert moved.headers["location"].startswith("/fees?month=2026-11#fee-")

    russian = await finance.get("/fees?month=2026-11&lang=ru")
    assert "15\xa0000,00\xa0₽" in russian.text


async def test_only_finance_and_admins_see_the_finance_list(client, db, editor):
    assert (await client.get("/fees")).status_code == 403
    assert (await client.get("/fees/export")).status_code == 403
    assert 'href="/fees"' not in (await client.get("/dashboard")).text


async def test_an_admin_invites_a_finance_person_who_lands_on_the_fees_page(app, client, db, settings, admin):
    users = await client.get("/admin/users")
    assert 'value="finance"' in users.text
    invited = await client.post(
        "/admin/invitations",
        data={
            "_csrf_token": csrf_of(users.text),
            "email": "fay@desk.example",
            "name": "Fay",
            "roles": ["finance"],
        },
    )
    assert invited.status_code == 303
    [mail] = await outbox(db, template="staff_invitation")
    assert mail.context["roles"] == "finance"
    path = mail.context["accept_url"].removeprefix(settings.base_url)
    async with make_client(app) as fay:
        page = await fay.get(path)
        password = "a long and quiet ledger of fees"
        joined = await fay.post(
            path,
            data={
                "_csrf_token": csrf_of(page.text),
                "name": "Fay",
                "password": password,
                "confirm": password,
            },
        )
        assert joined.status_code == 303 and joined.headers["location"] == "/fees"
        fees_page = await fay.get("/fees")
        assert fees_page.status_code == 200 and 'href="/fees"' in fees_page.text
        assert (await fay.get("/dashboard")).status_code == 403
    # An admin takes the role away again on the person's page.
    user_id = (await staff_member(db, "fay@desk.example")).id
    page = await client.get(f"/admin/users/{user_id}")
    assert 'value="finance" checked' in page.text
    saved = await client.post(
        f"/admin/users/{user_id}", data={"_csrf_token": csrf_of(page.text), "roles": ["editor"]}
    )
    assert saved.status_code == 303
    assert not (await staff_member(db, "fay@desk.example")).is_finance


def staff_as(user_id: int, *roles: str) -> StaffUser:
    return StaffUser(
        id=user_id,
        email="someone@desk.example",
        name="Someone",
        is_admin="admin" in roles,
        is_editor="editor" in roles,
        is_fact_checker=False,
        session_id="",
        is_finance="finance" in roles,
    )


async def render_fee_panel(app, db, trial_id: int, staff: StaffUser) -> str:
    """templates/trials/_fee.html as the trial panel includes it, with fees.panel()'s context."""
    async with db.sessionmaker() as session:
        trial = await session.get(Trial, trial_id)
        context = await fees.panel(session, trial, staff)
        with i18n.use_locale("en"):
            template = app.template_engine.get_template("trials/_fee.html")
            return template.render(
                request=SimpleNamespace(app=app),
                csrf_input="",
                trial=trial,
                staff=staff,
                version=1,
                **context,
            )


async def test_the_fee_panel_offers_each_person_the_step_they_may_take(
    app, client, db, app_id, editor, finance
):
    trial_id = await insert_trial(db, app_id, fee_kind="per_word", fee_amount_minor=1_000, currency="EUR")
    as_editor, as_finance = staff_as(editor, "editor"), staff_as(finance.user_id, "finance")

    offer = await render_fee_panel(app, db, trial_id, as_editor)
    assert f'action="/trials/{trial_id}/fee"' in offer and "Accept for payment" in offer
    assert "€8,500.00" in offer, "850 words at €10.00"
    assert 'id="fee-accept-form"' not in await render_fee_panel(app, db, trial_id, as_finance)

    await accept_fee(client, trial_id)
    agreed = await render_fee_panel(app, db, trial_id, as_editor)
    assert 'id="fee-move-form"' not in agreed and "Finance people and admins move the fee" in agreed
    assert "Agreed by Eda Editor" in agreed
    step = await render_fee_panel(app, db, trial_id, as_finance)
    assert f'action="/trials/{trial_id}/fee/status"' in step and "Mark as invoiced" in step
    assert 'name="seen" value="agreed"' in step and 'name="to" value="invoiced"' in step

    for seen, to in (("agreed", "invoiced"), ("invoiced", "approved"), ("approved", "paid")):
        await step_fee(finance, trial_id, seen, to)
    paid = await render_fee_panel(app, db, trial_id, as_finance)
    assert 'id="fee-move-form"' not in paid and "Paid by Fay Finance" in paid

    unpaid = await insert_trial(db, app_id, fee_kind="unpaid", fee_amount_minor=None)
    assert 'id="fee-unpaid"' in await render_fee_panel(app, db, unpaid, as_editor)
    offered = await insert_trial(db, app_id, state="offered")
    assert "once the piece is in" in await render_fee_panel(app, db, offered, as_editor)
