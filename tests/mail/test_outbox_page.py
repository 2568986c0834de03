"""The outbox page: held decisions reviewed, edited and released; failed mail retried; access."""

from __future__ import annotations

from sqlalchemy import update

from app.models import EmailStatus, OutboxEmail
from tests.conftest import csrf_of, make_client
from tests.review.support import outbox, page_form, staff_login, submit


async def decided(client, db) -> tuple[int, OutboxEmail]:
    """An application accepted by an editor; returns it and its held decision message."""
    app_id = await submit(client, db, name="Ana <b>Ribeiro</b>")
    await staff_login(client, db, "eda@desk.example")
    _, hidden = await page_form(client, app_id)
    await client.post(f"/applications/{app_id}/move", data={**hidden, "to": "screening"})
    _, hidden = await page_form(client, app_id)
    await client.post(
        f"/applications/{app_id}/move", data={**hidden, "to": "accepted", "message": "Welcome aboard."}
    )
    decision = next(m for m in await outbox(db, app_id) if m.template == "applicant_decision")
    return app_id, decision


async def test_a_held_decision_is_reviewed_edited_and_released(client, db):
    app_id, decision = await decided(client, db)
    listing = await client.get("/outbox?status=held")
    assert listing.status_code == 200
    assert (
        f'href="/outbox/{decision.id}"' in listing.text and "Ana &lt;b&gt;Ribeiro&lt;/b&gt;" in listing.text
    )
    page = await client.get(f"/outbox/{decision.id}")
    assert "Welcome aboard." in page.text and "Release: send it now" in page.text
    token = csrf_of(page.text)
    empty = await client.post(f"/outbox/{decision.id}/edit", data={"_csrf_token": token, "message": " "})
    assert empty.status_code == 422 and 'id="held-message-error"' in empty.text
    edited = await client.post(
        f"/outbox/{decision.id}/edit", data={"_csrf_token": token, "message": "Welcome, Ana!"}
    )
    assert edited.status_code == 303
    assert "Welcome, Ana!" in (await client.get(f"/outbox/{decision.id}")).text
    released = await client.post(
        "/outbox/actions",
        data={
            "_csrf_token": token,
            "action": "release",
            "ids": [str(decision.id)],
            "back": "/outbox?status=held",
        },
    )
    assert (
        released.status_code == 303 and released.headers["location"] == "/outbox?status=held&done=release&n=1"
    )
    row = next(m for m in await outbox(db, app_id) if m.id == decision.id)
    assert row.status == EmailStatus.queued and row.context["message"] == "Welcome, Ana!"
    assert "Released: 1 message(s)." in (await client.get(released.headers["location"])).text
    timeline, _ = await page_form(client, app_id)
    assert "Released the email to" in timeline
    again = await client.post(
        f"/outbox/{decision.id}/edit", data={"_csrf_token": token, "message": "Too late"}
    )
    assert again.status_code == 409


async def test_failed_mail_is_retried_and_queued_mail_cancelled(client, db):
    app_id, decision = await decided(client, db)
    confirmation = next(m for m in await outbox(db, app_id) if m.template == "applicant_received")
    async with db.write_session() as session:
        await session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == confirmation.id)
            .values(status="dead", attempts=8, last_error="451 try later")
        )
    page = await client.get("/outbox?status=dead")
    assert "451 try later" in page.text
    token = csrf_of(page.text)
    await client.post(
        "/outbox/actions", data={"_csrf_token": token, "action": "retry", "ids": [str(confirmation.id)]}
    )
    await client.post(
        "/outbox/actions", data={"_csrf_token": token, "action": "cancel", "ids": [str(decision.id)]}
    )
    rows = {m.id: m for m in await outbox(db, app_id)}
    assert rows[confirmation.id].status == EmailStatus.queued and rows[confirmation.id].attempts == 0
    assert rows[decision.id].status == EmailStatus.cancelled


async def test_the_outbox_is_for_editors_and_admins(app, db):
    async with make_client(app) as client:
        assert (await client.get("/outbox")).status_code == 303
        await staff_login(client, db, "fc@desk.example", roles=("fact_checker",))
        assert (await client.get("/outbox")).status_code == 403
    async with make_client(app) as admin:
        await staff_login(admin, db, "adm@desk.example", roles=("admin",))
        assert (await admin.get("/outbox")).status_code == 200
