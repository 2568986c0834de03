"""The outbox page: held decisions reviewed, edited and released; failed mail retried; access."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import update

from app.models import EmailStatus, OutboxEmail
from tests.factories import csrf_of, make_client, page_form, staff_login, submit
from tests.queries import outbox


def seen_of(html: str) -> str:
    """The fingerprint of the text a message page showed, as its forms carry it."""
    found = re.search(r'name="seen" value="([0-9a-f]+)"', html)
    assert found
    return found.group(1)


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
    seen = seen_of(page.text)
    empty = await client.post(
        f"/outbox/{decision.id}/edit", data={"_csrf_token": token, "seen": seen, "message": " "}
    )
    assert empty.status_code == 422 and 'id="held-message-error"' in empty.text
    edited = await client.post(
        f"/outbox/{decision.id}/edit", data={"_csrf_token": token, "seen": seen, "message": "Welcome, Ana!"}
    )
    assert edited.status_code == 303
    page = await client.get(f"/outbox/{decision.id}")
    assert "Welcome, Ana!" in page.text
    seen = seen_of(page.text)
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
    assert "Released 1 message." in (await client.get(released.headers["location"])).text
    timeline, _ = await page_form(client, app_id)
    assert "Released the email to" in timeline
    again = await client.post(
        f"/outbox/{decision.id}/edit", data={"_csrf_token": token, "seen": seen, "message": "Too late"}
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


@pytest.mark.parametrize(
    "fields",
    [{"action": "release"}, {"action": "cancel"}, {"message": "My own text."}],
    ids=["release", "cancel", "edit"],
)
async def test_a_held_message_page_acts_only_on_the_text_it_showed(app, db, fields):
    async with make_client(app) as mine, make_client(app) as theirs:
        app_id, decision = await decided(mine, db)
        await staff_login(theirs, db, "two@desk.example")
        page = await mine.get(f"/outbox/{decision.id}")
        stale = {"_csrf_token": csrf_of(page.text), "seen": seen_of(page.text), "ids": str(decision.id)}
        theirs_page = await theirs.get(f"/outbox/{decision.id}")
        edited = await theirs.post(
            f"/outbox/{decision.id}/edit",
            data={
                "_csrf_token": csrf_of(theirs_page.text),
                "seen": seen_of(theirs_page.text),
                "message": "Theirs.",
            },
        )
        assert edited.status_code == 303
        path = f"/outbox/{decision.id}/edit" if "message" in fields else "/outbox/actions"
        late = await mine.post(path, data={**stale, **fields})
        assert late.status_code == 409 and "changed the text of this message" in late.text
    row = next(m for m in await outbox(db, app_id) if m.id == decision.id)
    assert row.status == EmailStatus.held and row.context["message"] == "Theirs."


async def test_a_held_decision_page_offers_release_first_and_cancel_apart(client, db):
    _, decision = await decided(client, db)
    page = (await client.get(f"/outbox/{decision.id}")).text
    assert '<h2 id="preview-title">Text to be sent</h2>' in page and "Text as sent" not in page
    release = re.search(r"<button[^>]*value=\"release\"[^>]*>([^<]*)</button>", page)
    cancel = re.search(r"<button[^>]*value=\"cancel\"[^>]*>([^<]*)</button>", page)
    assert release and cancel
    assert "danger" not in release.group(0) and release.group(1) == "Release: send it now"
    assert 'class="danger"' in cancel.group(0) and cancel.group(1) == "Cancel: never send"
    # Two forms, so the two actions never sit in one row of buttons.
    assert page.index('id="send-form"') < page.index('value="release"') < page.index('id="cancel-form"')
    assert page.index('id="cancel-form"') < page.index('value="cancel"')
    css = (Path(__file__).parents[2] / "app" / "static" / "byline.css").read_text()
    danger = re.search(r"button\.danger \{([^}]*)\}", css)
    primary = re.search(r"\.button, button \{([^}]*)\}", css)
    assert danger and primary
    assert "background: #fff" in danger.group(1) and "border: 2px solid var(--error)" in danger.group(1)
    assert "background: var(--accent)" in primary.group(1)


async def test_a_sent_message_shows_its_text_as_sent_and_offers_no_release(client, db):
    _, decision = await decided(client, db)
    async with db.write_session() as session:
        await session.execute(update(OutboxEmail).where(OutboxEmail.id == decision.id).values(status="sent"))
    page = (await client.get(f"/outbox/{decision.id}")).text
    assert '<h2 id="preview-title">Text as sent</h2>' in page and "Text to be sent" not in page
    assert 'value="release"' not in page and 'value="cancel"' not in page


async def test_the_outbox_and_a_message_page_are_in_russian(client, db):
    _, decision = await decided(client, db)
    ru = {"Accept-Language": "ru"}
    listing = (await client.get("/outbox", headers=ru)).text
    assert '<html lang="ru"' in listing and "<h1>Исходящие</h1>" in listing
    assert '<a href="/outbox?status=held">Задержано <span class="count">' in listing
    assert 'class="badge mail-held">Задержано</span>' in listing
    assert "Отпустить (отправить задержанные)" in listing and "Применить к отмеченным" in listing
    assert "Писем со статусом «Отправлено» нет." in (await client.get("/outbox?status=sent", headers=ru)).text
    page = (await client.get(f"/outbox/{decision.id}", headers=ru)).text
    assert "Отпустить: отправить сейчас" in page and "Отменить: не отправлять" in page
    assert "Проверьте перед отправкой" in page and "0 попыток" in page
    content = page[page.index("<main") : page.index("</main>")]
    for english in ("Release", "Cancel", "attempt", "Outbox", "Status"):
        assert english not in content, english
    released = await client.post(
        "/outbox/actions",
        data={
            "_csrf_token": csrf_of(page),
            "action": "release",
            "ids": [str(decision.id)],
            "back": "/outbox",
        },
    )
    assert "Отпущено 1 письмо." in (await client.get(released.headers["location"], headers=ru)).text
    nothing = await client.post("/outbox/actions", data={"_csrf_token": csrf_of(page)}, headers=ru)
    assert nothing.status_code == 422 and "Отметьте хотя бы одно письмо и выберите действие." in nothing.text
