"""The applicant's status page and withdrawal."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Application, Event, OutboxEmail
from tests.factories import CSRF_RE, send_application


async def test_status_page_shows_state_samples_and_timeline(client):
    public_id = await send_application(client)
    page = await client.get(f"/status/{public_id}")
    assert page.status_code == 200
    assert re.search(r'id="state-label">Received<', page.text)
    assert "Application received" in page.text
    assert "On the Putin–Erdogan call" in page.text
    assert f"/status/{public_id}/withdraw" in page.text


async def test_applicant_withdraws_after_confirming(client, db):
    public_id = await send_application(client)
    confirm = await client.get(f"/status/{public_id}/withdraw")
    assert confirm.status_code == 200
    assert "Withdrawing is final" in confirm.text
    token = CSRF_RE.search(confirm.text).group(1)

    response = await client.post(
        f"/status/{public_id}/withdraw", data={"_csrf_token": token, "reason": "Took a staff job elsewhere."}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/status/{public_id}"

    page = await client.get(f"/status/{public_id}")
    assert re.search(r'id="state-label">Withdrawn<', page.text)
    assert "you withdrew your application" in page.text
    assert f"/status/{public_id}/withdraw" not in page.text
    async with db.sessionmaker() as session:
        application = (await session.scalars(select(Application))).one()
        event = (await session.scalars(select(Event).where(Event.kind == "state_changed"))).one()
        mails = (await session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))).all()
    assert application.state == "withdrawn" and application.decided_at is not None
    assert application.version == 2
    assert (event.from_state, event.to_state, event.actor, event.is_public) == (
        "submitted",
        "withdrawn",
        "applicant",
        True,
    )
    assert event.message == "Took a staff job elsewhere."
    assert [m.template for m in mails] == ["applicant_received", "applicant_withdrawn"]


async def test_withdrawing_twice_is_a_conflict_that_changes_nothing(client, db):
    public_id = await send_application(client)
    page = await client.get(f"/status/{public_id}/withdraw")
    token = CSRF_RE.search(page.text).group(1)
    first = await client.post(f"/status/{public_id}/withdraw", data={"_csrf_token": token})
    assert first.status_code == 303
    second = await client.post(f"/status/{public_id}/withdraw", data={"_csrf_token": token})
    assert second.status_code == 409
    assert "cannot be moved" in second.text
    async with db.sessionmaker() as session:
        events = (await session.scalars(select(Event).where(Event.kind == "state_changed"))).all()
        application = (await session.scalars(select(Application))).one()
    assert len(events) == 1 and application.version == 2
    # The confirmation page of a final application leads back to the status page.
    again = await client.get(f"/status/{public_id}/withdraw")
    assert again.status_code == 303


async def test_withdrawal_without_csrf_token_is_refused(client, db):
    public_id = await send_application(client)
    response = await client.post(f"/status/{public_id}/withdraw", data={"reason": "x"})
    assert response.status_code == 403
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(Application))).one().state == "submitted"


async def test_withdrawing_an_unknown_application_is_404(client):
    page = await client.get("/apply")
    token = CSRF_RE.search(page.text).group(1)
    response = await client.post("/status/doesnotexist/withdraw", data={"_csrf_token": token})
    assert response.status_code == 404
