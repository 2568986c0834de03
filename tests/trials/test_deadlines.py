"""Firm and soft deadlines on the app's clock: a firm one locks the form when it passes (until an editor extends
it); a soft one takes a late piece and marks it late."""

from __future__ import annotations

from datetime import timedelta

from app.models import TrialState
from tests.factories import csrf_of, make_client, offer_trial, page_form, submit_piece
from tests.queries import outbox, stored, trial_of

PIECE = "The council approved the harbour budget after a long debate on Tuesday."


def soon(app, minutes: int) -> str:
    return (app.state.clock() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


async def test_a_firm_deadline_locks_the_form_until_it_is_extended(app, client, db, app_id, editor):
    await offer_trial(client, app_id, deadline=soon(app, 20), deadline_firm="1")
    public_id = (await stored(db, app_id)).public_id
    async with make_client(app) as applicant:
        page = await applicant.get(f"/status/{public_id}/trial")
        token = {"_csrf_token": csrf_of(page.text)}
        saved = await applicant.post(f"/status/{public_id}/trial/draft", data={**token, "text": PIECE})
        assert saved.status_code == 303

        app.state.clock.advance(timedelta(minutes=30))
        page = await applicant.get(f"/status/{public_id}/trial")
        assert page.status_code == 200 and 'id="trial-locked"' in page.text and 'name="text"' not in page.text
        draft = await applicant.post(f"/status/{public_id}/trial/draft", data={**token, "text": PIECE})
        assert draft.status_code == 409 and "deadline" in draft.text
        send = await applicant.post(f"/status/{public_id}/trial/send", data=token)
        assert send.status_code == 409
        confirm = await applicant.get(f"/status/{public_id}/trial/confirm")
        assert 'id="send-piece"' not in confirm.text
        assert (await trial_of(db, app_id)).state == TrialState.offered

        # The editor extends the deadline: the form opens again and the piece is on time.
        trial = await trial_of(db, app_id)
        _, hidden = await page_form(client, app_id)
        extended = await client.post(
            f"/applications/{app_id}/trial/{trial.id}/extend", data={**hidden, "deadline": soon(app, 60)}
        )
        assert extended.status_code == 303
        await submit_piece(applicant, public_id, PIECE)
    trial = await trial_of(db, app_id)
    assert trial.state == TrialState.submitted and not trial.late


async def test_a_soft_deadline_takes_a_late_piece_and_marks_it(app, client, db, app_id, editor):
    await offer_trial(client, app_id, deadline=soon(app, 20), deadline_firm=None)
    public_id = (await stored(db, app_id)).public_id
    app.state.clock.advance(timedelta(minutes=45))
    async with make_client(app) as applicant:
        page = await applicant.get(f"/status/{public_id}/trial")
        assert 'id="trial-locked"' not in page.text and "marked as late" in page.text
        await submit_piece(applicant, public_id, PIECE)
        page = await applicant.get(f"/status/{public_id}/trial")
        assert "marked as late" in page.text
    trial = await trial_of(db, app_id)
    assert trial.state == TrialState.submitted and trial.late
    [notice] = await outbox(db, app_id, template="staff_trial_submitted")
    assert notice.context["late"] is True
    editor_page, _ = await page_form(client, app_id)
    assert 'id="trial-late"' in editor_page


async def test_a_piece_sent_before_the_deadline_is_on_time_and_opens_the_decision(
    app, client, db, app_id, editor
):
    await offer_trial(client, app_id, deadline=soon(app, 50))
    public_id = (await stored(db, app_id)).public_id
    async with make_client(app) as applicant:
        await submit_piece(applicant, public_id, PIECE)
    assert not (await trial_of(db, app_id)).late
    page, _ = await page_form(client, app_id)
    assert "The trial is still running" not in page
