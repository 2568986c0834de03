"""Bulk actions: a preview per application, then each application its own event and email."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Event, State
from tests.factories import csrf_of, make_client, page_form, staff_login, submit
from tests.queries import outbox, stored


async def token_of(client) -> str:
    return csrf_of((await client.get("/apply")).text)


def as_form(token: str, fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {"_csrf_token": [token]}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


def confirm_fields(html: str) -> list[tuple[str, str]]:
    """The hidden fields and message of the preview's confirmation form."""
    form = html[html.index('action="/dashboard/bulk/apply"') :]
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    message = re.search(r'<textarea id="bulk-message" name="message"[^>]*>([^<]*)</textarea>', form)
    if message:
        fields.append(("message", message.group(1)))
    return fields


async def test_bulk_reject_previews_each_item_then_sends_one_email_each(client, db):
    ids = [await submit(client, db, name=name) for name in ("Ana Ribeiro", "Tomas Berger", "Nino Beridze")]
    await staff_login(client, db, "eda@desk.example")
    _, hidden = await page_form(client, ids[2])
    await client.post(f"/applications/{ids[2]}/move", data={**hidden, "to": "screening"})
    _, hidden = await page_form(client, ids[2])
    await client.post(f"/applications/{ids[2]}/move", data={**hidden, "to": "accepted", "message": "Welcome"})
    token = await token_of(client)
    preview = await client.post(
        "/dashboard/bulk",
        data={
            "_csrf_token": token,
            "action": "reject",
            "ids": [str(i) for i in ids],
            "reason": "Not our topics",
        },
    )
    assert preview.status_code == 200
    assert preview.text.count("Moves to rejected; the applicant is emailed once the mail is released.") == 2
    assert "Left as it is: </strong>Cannot move from accepted." in preview.text
    assert "{name}" in preview.text  # the template's placeholder, ready to edit
    assert (await stored(db, ids[0])).state == State.submitted  # a preview changes nothing
    fields = [(k, v.replace("&#39;", "'")) for k, v in confirm_fields(preview.text)]
    fields = [(k, "Dear {name}, thank you." if k == "message" else v) for k, v in fields]
    done = await client.post("/dashboard/bulk/apply", data=as_form(token, fields))
    assert done.status_code == 200 and "Done: 2 of 2" in done.text
    for app_id, name in zip(ids[:2], ("Ana Ribeiro", "Tomas Berger"), strict=True):
        assert (await stored(db, app_id)).state == State.rejected
        decisions = [m for m in await outbox(db, app_id) if m.template == "applicant_decision"]
        assert len(decisions) == 1 and decisions[0].status == "held"
        assert decisions[0].context["message"] == f"Dear {name}, thank you."
        async with db.sessionmaker() as session:
            events = (
                await session.scalars(
                    select(Event).where(Event.application_id == app_id, Event.kind == "state_changed")
                )
            ).all()
        assert len(events) == 1 and events[0].data["reason"] == "Not our topics"
    assert (await stored(db, ids[2])).state == State.accepted


async def test_bulk_assign_and_label(client, db):
    ids = [await submit(client, db) for _ in range(2)]
    me = await staff_login(client, db, "eda@desk.example")
    token = await token_of(client)
    preview = await client.post(
        "/dashboard/bulk",
        data={"_csrf_token": token, "action": "assign", "assignee": "me", "ids": [str(i) for i in ids]},
    )
    assert preview.text.count("and starts screening") == 2
    await client.post("/dashboard/bulk/apply", data=as_form(token, confirm_fields(preview.text)))
    for app_id in ids:
        application = await stored(db, app_id)
        assert application.assigned_editor_id == me and application.state == State.screening
    _, hidden = await page_form(client, ids[0])
    await client.post(f"/applications/{ids[0]}/labels", data={**hidden, "labels": "economy"})
    preview = await client.post(
        "/dashboard/bulk",
        data={"_csrf_token": token, "action": "label", "label": "shortlist", "ids": [str(i) for i in ids]},
    )
    await client.post("/dashboard/bulk/apply", data=as_form(token, confirm_fields(preview.text)))
    page, _ = await page_form(client, ids[0])
    assert (
        '<span class="badge label"><bdi>economy</bdi></span>' in page
        and '<span class="badge label"><bdi>shortlist</bdi></span>' in page
    )


async def test_an_item_that_changed_after_the_preview_is_skipped_and_reported(app, db):
    async with make_client(app) as one, make_client(app) as two:
        ids = [await submit(one, db) for _ in range(3)]
        await staff_login(one, db, "one@desk.example")
        await staff_login(two, db, "two@desk.example")
        token = await token_of(one)
        preview = await one.post(
            "/dashboard/bulk",
            data={"_csrf_token": token, "action": "move", "to": "spam", "ids": [str(i) for i in ids]},
        )
        assert preview.text.count("Moves to spam.") == 3
        _, hidden = await page_form(two, ids[1])
        await two.post(f"/applications/{ids[1]}/move", data={**hidden, "to": "screening"})
        done = await one.post("/dashboard/bulk/apply", data=as_form(token, confirm_fields(preview.text)))
        assert "Done: 2 of 3" in done.text and "Skipped:" in done.text
    assert [(await stored(db, i)).state for i in ids] == [State.spam, State.screening, State.spam]


async def test_a_bulk_action_needs_items_and_an_editor(app, db):
    async with make_client(app) as client:
        await staff_login(client, db, "eda@desk.example")
        token = await token_of(client)
        empty = await client.post("/dashboard/bulk", data={"_csrf_token": token, "action": "reject"})
        assert empty.status_code == 422 and "Tick at least one application." in empty.text
    async with make_client(app) as checker:
        app_id = await submit(checker, db)
        await staff_login(checker, db, "fc@desk.example", roles=("fact_checker",))
        token = await token_of(checker)
        refused = await checker.post(
            "/dashboard/bulk/apply",
            data={"_csrf_token": token, "action": "move", "to": "spam", "ids": [str(app_id)]},
        )
        assert refused.status_code == 403
    assert (await stored(db, app_id)).state == State.submitted


async def test_a_bulk_label_skips_an_application_someone_changed_after_the_preview(app, db):
    async with make_client(app) as one, make_client(app) as two:
        ids = [await submit(one, db) for _ in range(2)]
        await staff_login(one, db, "one@desk.example")
        other = await staff_login(two, db, "two@desk.example")
        token = await token_of(one)
        preview = await one.post(
            "/dashboard/bulk",
            data={
                "_csrf_token": token,
                "action": "label",
                "label": "shortlist",
                "ids": [str(i) for i in ids],
            },
        )
        assert preview.text.count("Gets the label “shortlist”.") == 2
        # Assigning does not make the label impossible; only the version shows the change.
        _, hidden = await page_form(two, ids[0])
        await two.post(f"/applications/{ids[0]}/assign", data={**hidden, "assignee": "me"})
        changed = await stored(db, ids[0])
        done = await one.post("/dashboard/bulk/apply", data=as_form(token, confirm_fields(preview.text)))
        assert "Done: 1 of 2" in done.text
        assert "Skipped: someone changed it after the preview." in done.text
    unchanged = await stored(db, ids[0])
    assert unchanged.version == changed.version and unchanged.assigned_editor_id == other
    async with make_client(app) as three:
        await staff_login(three, db, "three@desk.example")
        first, _ = await page_form(three, ids[0])
        second, _ = await page_form(three, ids[1])
    badge = '<span class="badge label"><bdi>shortlist</bdi></span>'
    assert badge not in first and badge in second


async def test_a_bulk_confirmation_without_versions_changes_nothing(client, db):
    ids = [await submit(client, db) for _ in range(2)]
    await staff_login(client, db, "eda@desk.example")
    token = await token_of(client)
    done = await client.post(
        "/dashboard/bulk/apply",
        data={"_csrf_token": token, "action": "move", "to": "spam", "ids": [str(i) for i in ids]},
    )
    assert "Done: 0 of 2" in done.text
    assert [(await stored(db, i)).state for i in ids] == [State.submitted, State.submitted]
