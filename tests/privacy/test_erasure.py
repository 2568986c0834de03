"""The applicant downloads and erases their data from the status page; staff pages show the tombstone."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.mail.digest import queue_daily_digests
from app.mail.render import render
from app.models import (
    Applicant,
    Application,
    Erasure,
    Event,
    FactCheckTask,
    NotifyMode,
    OutboxEmail,
    State,
    WorkSample,
)
from app.privacy.service import Requester, erase
from tests.factories import (
    bearer,
    csrf_of,
    login,
    make_client,
    make_staff,
    offer_trial,
    page_form,
    post_application,
    send_application,
    staff_login,
    staff_token,
    submit_piece,
    update_staff,
    valid_fields,
)
from tests.mail.support import mail_settings, until, worker_running
from tests.privacy.support import assert_forgotten, traces_in_database, traces_in_uploads
from tests.queries import application_id, stored

NAME = "Wilhelmina Quarterfield"


def person() -> tuple[str, dict[str, object], list[tuple[str, tuple[str, bytes, str]]]]:
    """A distinctive applicant with a pasted sample, a link and a file that all carry their name."""
    email = f"w.quarterfield.{uuid.uuid4().hex[:8]}@applicant.example"
    data = valid_fields(
        name=NAME,
        email=email,
        profile_links=["https://portfolio.example/wilhelmina-quarterfield"],
        motivation=f"I am {NAME} and I analyse budgets.",
        **{
            "sample-0-text": f"By {NAME}. " + str(valid_fields()["sample-0-text"]),
            "sample-1-title": f"{NAME} on the budget",
            "sample-1-url": "https://paper.example/Wilhelmina-Quarterfield/budget",
            "sample-2-title": "Notes on the call",
        },
    )
    file_text = f"Notes by {NAME} <{email}>\n\n" + "The budget grew by four per cent this year. " * 20
    files = [("sample-2-file", ("quarterfield notes.txt", file_text.encode(), "text/plain"))]
    return email, data, files


async def apply(client, db) -> tuple[int, str, str, bytes]:
    """Apply as the distinctive person; returns the id, the status URL, the email and the file's bytes."""
    email, data, files = person()
    public_id = await send_application(client, data, files)
    return await application_id(db, public_id), f"/status/{public_id}", email, files[0][1][1]


async def review_it(app, db, app_id: int, status_url: str, email: str) -> int:
    """An editor notes, scores, asks, gets an answer and opens a fact-check task; returns the checker's id."""
    checker = await make_staff(db, email="fc@desk.example", name="Farid Checker", roles=("fact_checker",))
    async with make_client(app) as editor:
        await staff_login(editor, db, "eda@desk.example", name="Eda Editor")
        _, hidden = await page_form(editor, app_id)
        await editor.post(f"/applications/{app_id}/assign", data={**hidden, "assignee": "me"})
        _, hidden = await page_form(editor, app_id)
        note = await editor.post(
            f"/applications/{app_id}/notes", data={**hidden, "note": f"{NAME} wrote for us before."}
        )
        assert note.status_code == 303
        _, hidden = await page_form(editor, app_id)
        marks = dict.fromkeys(
            ("analysis", "fact_accuracy", "concision", "interest_style", "topic_knowledge"), "4"
        )
        score = await editor.post(
            f"/applications/{app_id}/score",
            data={**hidden, **marks, "recommendation": "trial", "comment": f"{NAME} is promising."},
        )
        assert score.status_code == 303, score.text
        _, hidden = await page_form(editor, app_id)
        asked = await editor.post(
            f"/applications/{app_id}/move",
            data={**hidden, "to": "info_requested", "message": f"Dear {NAME}, which pieces were edited?"},
        )
        assert asked.status_code == 303
        async with make_client(app) as applicant:
            page = await applicant.get(status_url)
            replied = await applicant.post(
                f"{status_url}/reply",
                data={"_csrf_token": csrf_of(page.text), "reply": f"None. Write to me at {email}."},
                files=[("unused", ("", b"", "application/octet-stream"))],
            )
            assert replied.status_code == 303
        _, hidden = await page_form(editor, app_id)
        moved = await editor.post(
            f"/applications/{app_id}/move",
            data={
                **hidden,
                "to": "fact_check",
                "task_assignee": str(checker),
                "task_claims": f"{NAME} covered the 2020 budget.",
            },
        )
        assert moved.status_code == 303, moved.text
    return checker


async def test_the_download_holds_the_answers_samples_timeline_messages_and_files(
    app, client, db, settings, relay
):
    app_id, status_url, email, file_bytes = await apply(client, db)
    async with worker_running(db, mail_settings(settings, relay), clock=app.state.clock):
        await until(lambda: _all_sent(db, app_id))
    page = await client.get(status_url)
    assert 'id="download-data"' in page.text and 'id="erase-data"' in page.text

    response = await client.get(f"{status_url}/data")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("data.json"))
    assert data["applicant"]["name"] == NAME and data["applicant"]["email"] == email
    assert data["applicant"]["profile_links"] == ["https://portfolio.example/wilhelmina-quarterfield"]
    assert data["application"]["motivation"].startswith(f"I am {NAME}")
    assert data["application"]["departments"] and data["application"]["status"] == "Received"
    kinds = [sample["kind"] for sample in data["work_samples"]]
    assert kinds == ["text", "link", "file"]
    assert data["work_samples"][0]["text"].startswith(f"By {NAME}.")
    assert data["work_samples"][1]["url"] == "https://paper.example/Wilhelmina-Quarterfield/budget"
    archived = data["work_samples"][2]["archived_as"]
    assert archived == "files/3-quarterfield notes.txt"
    assert archive.read(archived) == file_bytes
    assert [item["status"] for item in data["timeline"]] == ["Received"]
    [message] = data["messages_sent_to_you"]
    assert message["to"] == email and message["subject"] == "We received your application"
    assert status_url in message["text"]


async def _all_sent(db, app_id: int) -> bool:
    async with db.sessionmaker() as session:
        statuses = (
            await session.scalars(select(OutboxEmail.status).where(OutboxEmail.application_id == app_id))
        ).all()
    return bool(statuses) and all(status == "sent" for status in statuses)


async def _confirmation_delivered(db) -> bool:
    async with db.sessionmaker() as session:
        row = await session.scalar(select(OutboxEmail).where(OutboxEmail.template == "applicant_erased"))
    return row is not None and row.status == "sent"


async def test_erasure_leaves_no_name_or_address_anywhere_and_a_tombstone_that_still_counts(
    app, client, db, settings, relay
):
    app_id, status_url, email, _ = await apply(client, db)
    checker = await review_it(app, db, app_id, status_url, email)
    async with make_client(app) as editor:
        await staff_login(editor, db, "trials@desk.example", roles=("editor",))
        async with db.sessionmaker() as session:
            task_id = await session.scalar(
                select(FactCheckTask.id).where(FactCheckTask.application_id == app_id)
            )
        task_page = await editor.get(f"/tasks/{task_id}")
        cancelled = await editor.post(
            f"/tasks/{task_id}/cancel", data={"_csrf_token": csrf_of(task_page.text)}
        )
        assert cancelled.status_code == 303, cancelled.text
        await offer_trial(editor, app_id)
    await submit_piece(client, status_url.removeprefix("/status/"), f"{NAME} on the harbour budget: {email}.")
    smtp = mail_settings(settings, relay)
    async with worker_running(db, smtp, clock=app.state.clock):
        await until(lambda: _all_sent(db, app_id))
    traces = "\n".join(await traces_in_database(db, [NAME, email]))  # the scan does find what is there
    assert "trial_piece.text" in traces, traces
    assert traces_in_uploads(settings, [NAME, email])
    async with db.sessionmaker() as session:
        stored_keys = select(WorkSample.storage_key).where(WorkSample.storage_key.is_not(None))  # type: ignore[union-attr]
        keys = (await session.scalars(stored_keys)).all()
    assert len(keys) == 1

    confirm = await client.get(f"{status_url}/erase")
    assert confirm.status_code == 200 and "withdraws it first" in confirm.text
    erased = await client.post(f"{status_url}/erase", data={"_csrf_token": csrf_of(confirm.text)})
    assert erased.status_code == 303 and erased.headers["location"] == status_url
    page = await client.get(status_url)
    assert page.status_code == 200 and 'id="erased"' in page.text and NAME not in page.text
    assert (await client.get(f"{status_url}/data")).status_code == 404
    received_page = await client.get(status_url.replace("/status/", "/apply/received/"))
    assert received_page.status_code == 303 and received_page.headers["location"] == status_url

    # The confirmation goes to the address, which is then blanked.
    async with worker_running(db, smtp, clock=app.state.clock):
        await until(lambda: _confirmation_delivered(db))
    [received] = [r for r in relay.received if r.subject == "Your data is erased"]
    assert received.to == [email] and NAME.encode() not in received.raw
    await assert_forgotten(db, settings, NAME, email)
    assert not (settings.uploads_path / keys[0]).exists()

    tombstone = await stored(db, app_id)
    assert tombstone.state == State.withdrawn and tombstone.erased_at is not None
    async with db.sessionmaker() as session:
        kinds = (await session.scalars(select(Event.kind).where(Event.application_id == app_id))).all()
        [log] = (await session.scalars(select(Erasure))).all()
        applicant = await session.get(Applicant, tombstone.applicant_id)
    assert "note" not in kinds and kinds.count("state_changed") == 6 and "erased" in kinds
    assert (log.public_id, log.requested_by, log.state) == (tombstone.public_id, "applicant", "withdrawn")
    assert applicant is not None and applicant.name == "Erased" and applicant.email == ""

    # Staff pages show the tombstone.
    async with make_client(app) as editor:
        await staff_login(editor, db, "admin@desk.example", roles=("admin", "editor"))
        detail = await editor.get(f"/applications/{app_id}")
        assert detail.status_code == 200 and 'id="erased"' in detail.text and "Erased" in detail.text
        queue = await editor.get("/dashboard?state=withdrawn")
        assert queue.status_code == 200 and f"/applications/{app_id}" in queue.text
        assert (await editor.get("/outbox")).status_code == 200
        log_page = await editor.get("/admin/erasures")
        assert log_page.status_code == 200 and tombstone.public_id in log_page.text
        assert "The applicant" in log_page.text and email not in log_page.text
    async with make_client(app) as fact_checker:
        await login(fact_checker, "fc@desk.example")
        tasks = await fact_checker.get("/tasks")
        assert tasks.status_code == 200
        async with db.sessionmaker() as session:
            task_id = await session.scalar(
                select(FactCheckTask.id).where(FactCheckTask.assignee_id == checker)
            )
        assert (await fact_checker.get(f"/tasks/{task_id}")).status_code == 200

    # Again: nothing more happens.
    again = await client.post(f"{status_url}/erase", data={"_csrf_token": csrf_of(confirm.text)})
    assert again.status_code == 303
    assert (await client.get(f"{status_url}/erase")).status_code == 303
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Erasure)) == 1


async def test_the_files_go_when_the_erasure_commits_and_stay_when_it_rolls_back(app, client, db, settings):
    app_id, _, _, _ = await apply(client, db)
    async with db.sessionmaker() as session:
        keys = await session.scalars(
            select(WorkSample.storage_key).where(WorkSample.application_id == app_id)
        )
        [key] = [key for key in keys.all() if key]
    path = settings.uploads_path / key

    async def erase_it(session) -> None:
        application = await session.get(Application, app_id)
        applicant = await session.get(Applicant, application.applicant_id)
        erased = await erase(
            session,
            settings=settings,
            application=application,
            applicant=applicant,
            requested_by=Requester.applicant,
            now=app.state.clock(),
        )
        assert erased and path.exists()  # not before the commit

    with pytest.raises(RuntimeError):
        async with db.write_session() as session:
            await erase_it(session)
            raise RuntimeError("a later step of the same transaction fails")
    assert path.exists()
    assert (await stored(db, app_id)).erased_at is None

    async with db.write_session() as session:
        await erase_it(session)
    assert not path.exists()
    assert (await stored(db, app_id)).erased_at is not None


async def test_erasing_a_decided_application_keeps_its_state(app, client, db, settings):
    response = await post_application(client, valid_fields(name=NAME))
    status_url = response.headers["location"].replace("/apply/received/", "/status/")
    page = await client.get(f"{status_url}/withdraw")
    await client.post(f"{status_url}/withdraw", data={"_csrf_token": csrf_of(page.text)})
    confirm = await client.get(f"{status_url}/erase")
    assert "withdraws it first" not in confirm.text
    assert (
        await client.post(f"{status_url}/erase", data={"_csrf_token": csrf_of(confirm.text)})
    ).status_code == 303
    async with db.sessionmaker() as session:
        application = (await session.scalars(select(Application))).one()
        changes = (await session.scalars(select(Event).where(Event.kind == "state_changed"))).all()
    assert application.state == State.withdrawn and application.erased_at is not None
    assert len(changes) == 1  # the applicant's own withdrawal, not a second one
    _, token = await staff_token(app, db, "api@desk.example")
    async with make_client(app) as api:
        listed = await api.get(f"/api/v1/applications/{application.id}", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    assert NAME not in listed.text and "Erased" in listed.text


async def test_erasing_needs_the_csrf_token_and_a_real_status_link(client):
    response = await post_application(client, valid_fields())
    status_url = response.headers["location"].replace("/apply/received/", "/status/")
    assert (await client.post(f"{status_url}/erase", data={})).status_code == 403
    page = await client.get("/apply")
    forged = await client.post("/status/not-a-real-id/erase", data={"_csrf_token": csrf_of(page.text)})
    assert forged.status_code == 404
    assert (await client.get("/status/not-a-real-id/data")).status_code == 404


async def test_a_daily_digest_that_listed_the_applicant_names_nobody_after_the_erasure(
    app, client, db, settings
):
    daily = await make_staff(db, email="daily@desk.example", name="Dana Daily")
    await update_staff(db, daily, notify=NotifyMode.digest)
    app_id, status_url, email, _ = await apply(client, db)
    async with make_client(app) as editor:
        await login(editor, "daily@desk.example")
        _, hidden = await page_form(editor, app_id)
        await editor.post(f"/applications/{app_id}/assign", data={**hidden, "assignee": "me"})
    later = app.state.clock() + timedelta(days=30)  # the application is overdue by then
    async with db.write_session() as session:
        assert await queue_daily_digests(session, settings, later.replace(hour=settings.digest_hour)) == 1
    assert "outbox_email.context" in " ".join(await traces_in_database(db, [NAME]))

    confirm = await client.get(f"{status_url}/erase")
    await client.post(f"{status_url}/erase", data={"_csrf_token": csrf_of(confirm.text)})
    assert await traces_in_database(db, [NAME]) == []
    # Until the confirmation is sent, its row is the one place that keeps the address.
    assert await traces_in_database(db, [email]) == [f"outbox_email.recipient holds {email!r}"]
    async with db.sessionmaker() as session:
        digest = await session.scalar(select(OutboxEmail).where(OutboxEmail.template == "staff_digest"))
    assert digest is not None
    assert [item["applicant_name"] for item in digest.context["items"]] == ["Erased"]
    assert [item["name"] for item in digest.context["overdue_applications"]] == ["Erased"]
    assert "Erased" in render(digest, settings).get_body(("plain",)).get_content()
