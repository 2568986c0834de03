"""The applicant's side of a trial: the brief on the trial page, drafts (text or file) replaced until the final
send, the confirmation step, the words counted on the server, more time, declining, the calendar file."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Event, TrialState
from tests.factories import (
    csrf_of,
    make_client,
    offer_trial,
    page_form,
    submit_piece,
)
from tests.queries import outbox, stored, trial_of, trial_piece_of

PIECE = "The council approved the harbour budget. " * 3  # 18 words


async def offered(client, db, app_id) -> str:
    await offer_trial(client, app_id, min_words="10", max_words="40")
    return (await stored(db, app_id)).public_id


async def test_the_status_page_links_to_the_brief(app, client, db, app_id, editor):
    public_id = await offered(client, db, app_id)
    async with make_client(app) as applicant:
        status = await applicant.get(f"/status/{public_id}")
        assert 'id="trial-summary"' in status.text and f"/status/{public_id}/trial" in status.text
        page = await applicant.get(f"/status/{public_id}/trial")
        assert page.status_code == 200
        assert "harbour budget passed" in page.text and 'id="time-left"' in page.text
        assert "/static/trial.js" in page.text and "<script>" not in page.text
        assert 'id="ics-link"' in page.text
        calendar = await applicant.get(f"/status/{public_id}/trial/deadline.ics")
        assert calendar.status_code == 200
        assert calendar.headers["content-type"].startswith("text/calendar")
        trial = await trial_of(db, app_id)
        assert "BEGIN:VEVENT" in calendar.text
        assert f"DTSTART:{trial.deadline_at.strftime('%Y%m%dT%H%M%S')}Z" in calendar.text


async def test_a_draft_is_replaced_until_the_final_send(app, client, db, app_id, editor):
    public_id = await offered(client, db, app_id)
    async with make_client(app) as applicant:
        page = await applicant.get(f"/status/{public_id}/trial")
        token = {"_csrf_token": csrf_of(page.text)}
        first = await applicant.post(f"/status/{public_id}/trial/draft", data={**token, "text": "Too short."})
        assert first.status_code == 303
        assert (await trial_piece_of(db, app_id)).word_count == 2
        page = await applicant.get(f"/status/{public_id}/trial")
        assert 'id="draft-saved"' in page.text and "Shorter than the brief asks." in page.text
        await applicant.post(
            f"/status/{public_id}/trial/draft",
            data=token,
            files=[("file", ("piece.txt", PIECE.encode(), "text/plain"))],
        )
        piece = await trial_piece_of(db, app_id)
        assert piece is not None and piece.kind == "file" and piece.word_count == 18 and piece.text is None
        second = await applicant.post(
            f"/status/{public_id}/trial/draft", data={**token, "text": PIECE, "next": "confirm"}
        )
        assert second.status_code == 303 and second.headers["location"].endswith("/trial/confirm")
        piece = await trial_piece_of(db, app_id)
        assert piece.kind == "text" and piece.storage_key is None and piece.word_count == 18
        assert not piece.is_final
        # Nothing reached the editors yet.
        assert await outbox(db, app_id, template="staff_trial_submitted") == []
        editor_page, _ = await page_form(client, app_id)
        assert 'id="trial-piece-draft"' in editor_page and PIECE[:30] not in editor_page

        confirm = await applicant.get(f"/status/{public_id}/trial/confirm")
        assert confirm.status_code == 200 and "18 words" in confirm.text and PIECE.strip() in confirm.text
        sent = await applicant.post(
            f"/status/{public_id}/trial/send", data={"_csrf_token": csrf_of(confirm.text)}
        )
        assert sent.status_code == 303

    trial = await trial_of(db, app_id)
    piece = await trial_piece_of(db, app_id)
    assert trial.state == TrialState.submitted and trial.submitted_at is not None and not trial.late
    assert piece.is_final and piece.submitted_at == trial.submitted_at
    notices = await outbox(db, app_id, template="staff_trial_submitted")
    assert [n.recipient for n in notices] == ["eda@desk.example"]
    async with db.sessionmaker() as session:
        kinds = (await session.scalars(select(Event.kind).where(Event.application_id == app_id))).all()
    assert "trial_submitted" in kinds
    editor_page, _ = await page_form(client, app_id)
    assert 'id="trial-piece-text"' in editor_page and "18 words" in editor_page


async def test_after_the_final_send_nothing_changes(app, client, db, app_id, editor):
    public_id = await offered(client, db, app_id)
    async with make_client(app) as applicant:
        token = csrf_of((await applicant.get(f"/status/{public_id}/trial")).text)
        await submit_piece(applicant, public_id, PIECE)
        page = await applicant.get(f"/status/{public_id}/trial")
        assert 'id="trial-sent"' in page.text and 'name="text"' not in page.text
        again = await applicant.post(
            f"/status/{public_id}/trial/draft", data={"_csrf_token": token, "text": "New text"}
        )
        assert again.status_code == 409
        resend = await applicant.post(f"/status/{public_id}/trial/send", data={"_csrf_token": token})
        assert resend.status_code == 409
    assert (await trial_piece_of(db, app_id)).text == PIECE.strip()


async def test_bad_pieces_come_back_422_with_the_text_kept(app, client, db, app_id, editor):
    public_id = await offered(client, db, app_id)
    async with make_client(app) as applicant:
        page = await applicant.get(f"/status/{public_id}/trial")
        token = {"_csrf_token": csrf_of(page.text)}
        empty = await applicant.post(f"/status/{public_id}/trial/draft", data={**token, "text": "  "})
        assert empty.status_code == 422 and "Paste your piece here or attach it as a file." in empty.text
        both = await applicant.post(
            f"/status/{public_id}/trial/draft",
            data={**token, "text": "Kept words"},
            files=[("file", ("piece.txt", b"words", "text/plain"))],
        )
        assert both.status_code == 422 and "not both" in both.text and "Kept words" in both.text
        bad_file = await applicant.post(
            f"/status/{public_id}/trial/draft",
            data=token,
            files=[("file", ("piece.exe", b"MZ...", "application/octet-stream"))],
        )
        assert bad_file.status_code == 422 and "Only PDF" in bad_file.text
        no_draft = await applicant.post(f"/status/{public_id}/trial/send", data=token)
        assert no_draft.status_code == 422
    assert await trial_piece_of(db, app_id) is None


async def test_the_piece_file_is_served_to_staff_only(app, client, db, app_id, editor):
    public_id = await offered(client, db, app_id)
    async with make_client(app) as applicant:
        page = await applicant.get(f"/status/{public_id}/trial")
        await applicant.post(
            f"/status/{public_id}/trial/draft",
            data={"_csrf_token": csrf_of(page.text), "next": "confirm"},
            files=[("file", ("my piece.txt", PIECE.encode(), "text/plain"))],
        )
        confirm = await applicant.get(f"/status/{public_id}/trial/confirm")
        await applicant.post(f"/status/{public_id}/trial/send", data={"_csrf_token": csrf_of(confirm.text)})
        trial = await trial_of(db, app_id)
        url = f"/applications/{app_id}/trial/{trial.id}/piece"
        anonymous = await applicant.get(url)
        assert anonymous.status_code in (302, 303, 401) and PIECE not in anonymous.text
    response = await client.get(url)
    assert response.status_code == 200 and response.content == PIECE.encode()
    assert "attachment" in response.headers["content-disposition"]


async def test_asking_for_more_time_and_declining(app, client, db, app_id, editor):
    public_id = await offered(client, db, app_id)
    async with make_client(app) as applicant:
        page = await applicant.get(f"/status/{public_id}/trial")
        token = {"_csrf_token": csrf_of(page.text)}
        empty = await applicant.post(f"/status/{public_id}/trial/more-time", data={**token, "request": ""})
        assert empty.status_code == 422
        asked = await applicant.post(
            f"/status/{public_id}/trial/more-time", data={**token, "request": "Two more days, please."}
        )
        assert asked.status_code == 303
        notices = await outbox(db, app_id, template="staff_trial_more_time")
        assert len(notices) == 1 and notices[0].context["message"] == "Two more days, please."
        declined = await applicant.post(
            f"/status/{public_id}/trial/decline", data={**token, "reason": "A staff job came up."}
        )
        assert declined.status_code == 303
        page = await applicant.get(f"/status/{public_id}/trial")
        assert 'id="trial-declined"' in page.text and 'name="text"' not in page.text
    trial = await trial_of(db, app_id)
    assert trial.state == TrialState.declined and trial.decline_reason == "A staff job came up."
    assert len(await outbox(db, app_id, template="staff_trial_declined")) == 1
    editor_page, _ = await page_form(client, app_id)
    assert "A staff job came up." in editor_page and "The trial is still running" not in editor_page


async def test_an_unknown_status_link_has_no_trial(app, client, db, app_id):
    public_id = (await stored(db, app_id)).public_id
    assert (await client.get(f"/status/{public_id}/trial")).status_code == 404
    assert (await client.get("/status/nobody/trial")).status_code == 404
