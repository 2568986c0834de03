"""The trial rubric through the real route: each editor's own score, re-scoring, bad marks kept on a 422 form,
the application's version checked, the sample scores shown beside the trial's."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Event, TrialScore, TrialState
from tests.factories import (
    csrf_of,
    insert_submitted_trial,
    login,
    make_client,
    make_staff,
    page_form,
    staff_login,
)
from tests.queries import count_rows

PIECE = "The port authority spent 40 million manat on the new quay. Its accounts were never published."
MARKS = {"fact_accuracy": "5", "analysis": "4", "concision": "3", "interest": "4", "brief_fit": "5"}


async def _scores(db) -> list[TrialScore]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(TrialScore).order_by(TrialScore.id))).all())


async def test_editors_score_the_piece_and_re_scoring_updates_their_own_row(
    app, client, db, settings, app_id, editor
):
    trial = await insert_submitted_trial(db, app_id, PIECE, offered_by_id=editor, settings=settings)
    url = f"/applications/{app_id}/trials/{trial.trial_id}/score"
    _, hidden = await page_form(client, app_id)
    saved = await client.post(url, data={**hidden, **MARKS})
    assert saved.status_code == 303 and saved.headers["location"].endswith(
        f"/applications/{app_id}#trial-scores"
    )
    [score] = await _scores(db)
    assert (score.user_id, score.fact_accuracy, score.concision, score.brief_fit) == (editor, 5, 3, 5)

    _, hidden = await page_form(client, app_id)  # a score leaves the version alone
    again = await client.post(url, data={**hidden, **MARKS, "concision": "5"})
    assert again.status_code == 303
    [score] = await _scores(db)
    assert score.concision == 5 and score.user_id == editor

    async with make_client(app) as other:
        second = await staff_login(other, db, "ivan@desk.example", name="Ivan Editor")
        _, hidden = await page_form(other, app_id)
        assert (await other.post(url, data={**hidden, **{k: "2" for k in MARKS}})).status_code == 303
    assert [(s.user_id, s.analysis) for s in await _scores(db)] == [(editor, 4), (second, 2)]
    async with db.sessionmaker() as session:
        kinds = (await session.scalars(select(Event.kind).where(Event.application_id == app_id))).all()
    assert kinds.count("trial_scored") == 3
    assert "Trial score" in (await client.get(f"/applications/{app_id}")).text  # on the timeline


async def test_bad_marks_come_back_422_with_the_form_kept_and_the_sample_scores_beside(
    client, db, settings, app_id, editor
):
    _, hidden = await page_form(client, app_id)
    sample_marks = {
        "analysis": "4",
        "fact_accuracy": "2",
        "concision": "3",
        "interest_style": "5",
        "topic_knowledge": "1",
    }
    scored = await client.post(f"/applications/{app_id}/score", data={**hidden, **sample_marks})
    assert scored.status_code == 303
    trial = await insert_submitted_trial(db, app_id, PIECE, offered_by_id=editor, settings=settings)
    url = f"/applications/{app_id}/trials/{trial.trial_id}/score"
    _, hidden = await page_form(client, app_id)
    assert (await client.post(url, data={**hidden, **MARKS})).status_code == 303

    _, hidden = await page_form(client, app_id)
    bad = await client.post(url, data={**hidden, **MARKS, "analysis": "7", "brief_fit": ""})
    assert bad.status_code == 422
    page = bad.text
    assert 'id="trial-analysis-error"' in page and 'id="trial-brief_fit-error"' in page
    assert 'id="trial-concision-error"' not in page
    assert 'name="concision" value="3" checked' in page  # the marks given are kept
    assert 'name="fact_accuracy" value="5" checked' in page
    # Everyone's trial marks, their average, and the samples' averages on the shared criteria.
    assert 'id="trial-average"' in page and "Eda Editor" in page
    sample_row = page[page.index('id="sample-average"') :].split("</tr>")[0]
    assert "average of 1 score" in sample_row
    cells = [cell.split("</td>")[0] for cell in sample_row.split("<td>")[1:]]
    assert cells == ["2.0", "4.0", "3.0", "5.0", "—", "3.0"]
    [score] = await _scores(db)
    assert score.analysis == 4  # nothing was overwritten


async def test_a_stale_version_is_refused_and_nothing_is_saved(client, db, settings, app_id, editor):
    trial = await insert_submitted_trial(db, app_id, PIECE, offered_by_id=editor, settings=settings)
    _, hidden = await page_form(client, app_id)
    stale = {**hidden, "version": str(int(hidden["version"]) - 1)}
    answer = await client.post(
        f"/applications/{app_id}/trials/{trial.trial_id}/score", data={**stale, **MARKS}
    )
    assert answer.status_code == 409
    assert "Someone else changed this application" in answer.text
    assert await count_rows(db, TrialScore) == 0
    no_version = {k: v for k, v in hidden.items() if k != "version"}
    answer = await client.post(
        f"/applications/{app_id}/trials/{trial.trial_id}/score", data={**no_version, **MARKS}
    )
    assert answer.status_code == 409 and await count_rows(db, TrialScore) == 0


async def test_only_editors_score_and_only_a_trial_of_this_application(
    app, client, db, settings, app_id, editor
):
    trial = await insert_submitted_trial(db, app_id, PIECE, offered_by_id=editor, settings=settings)
    _, hidden = await page_form(client, app_id)
    wrong = await client.post(
        f"/applications/{app_id + 1}/trials/{trial.trial_id}/score", data={**hidden, **MARKS}
    )
    assert wrong.status_code == 404
    await make_staff(db, email="fc@desk.example", roles=("fact_checker",))
    async with make_client(app) as checker:
        await login(checker, "fc@desk.example")
        page = await checker.get("/tasks")
        refused = await checker.post(
            f"/applications/{app_id}/trials/{trial.trial_id}/score",
            data={"_csrf_token": csrf_of(page.text), "version": hidden["version"], **MARKS},
        )
        assert refused.status_code == 403
    assert await count_rows(db, TrialScore) == 0


async def test_a_trial_without_its_piece_cannot_be_scored(client, db, settings, app_id, editor):
    trial = await insert_submitted_trial(
        db,
        app_id,
        PIECE,
        offered_by_id=editor,
        settings=settings,
        state=TrialState.offered,
        submitted_at=None,
    )
    _, hidden = await page_form(client, app_id)
    answer = await client.post(
        f"/applications/{app_id}/trials/{trial.trial_id}/score", data={**hidden, **MARKS}
    )
    assert answer.status_code == 409 and "has not arrived yet" in answer.text
    assert await count_rows(db, TrialScore) == 0
