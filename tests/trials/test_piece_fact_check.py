"""The fact check of a trial piece through the real routes: the task made on the piece's arrival for the chosen
fact-checker or for the desk, taking it from the desk (one winner), claims picked from the piece's sentences,
verdicts, and the decision after it."""

from __future__ import annotations

import asyncio
import html
from datetime import timedelta

from sqlalchemy import select

from app.core.staff import StaffUser
from app.factcheck.reminders import queue_task_reminders
from app.mail.render import render
from app.models import Claim, Event, State, TaskState, Trial, TrialPiece
from app.trials import fact_check
from tests.factories import (
    bearer,
    choose_language,
    csrf_of,
    insert_submitted_trial,
    login,
    make_client,
    page_form,
    staff_token,
    submit,
)
from tests.queries import outbox, stored, tasks_of

FIRST = "The port authority spent 40 million manat on the new quay in 2023."
SECOND = "Its accounts for that year were never published."
THIRD = "Opposition members asked the council to audit the harbour budget."
PIECE = f"{FIRST} {SECOND}\n{THIRD}"


async def _claims(db, task_id: int) -> list[Claim]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(select(Claim).where(Claim.task_id == task_id).order_by(Claim.position))
        return list(rows.all())


async def test_the_task_on_the_piece_goes_to_the_chosen_fact_checker_who_picks_claims_and_completes_it(
    app, client, db, settings, fact_check_desk
):
    app_id, editor, checker, _ = fact_check_desk
    trial = await insert_submitted_trial(
        db, app_id, PIECE, fact_checker_id=checker, offered_by_id=editor, settings=settings
    )
    [task] = await tasks_of(db, app_id)
    assert task.id == trial.task_id
    assert task.trial_piece_id == trial.piece_id and task.sample_id is None
    assert task.assignee_id == checker and task.creator_id == editor and task.state == TaskState.open
    [mail] = await outbox(db, app_id, template="staff_task_assigned")
    assert mail.recipient == "fc@desk.example"
    text = render(mail, settings).get_body(("plain",)).get_content()
    assert "fact-check a trial piece" in text and f"/tasks/{task.id}" in text
    async with db.sessionmaker() as session:
        kinds = (await session.scalars(select(Event.kind).where(Event.application_id == app_id))).all()
    assert "trial_task_created" in kinds

    async with make_client(app) as fc:
        await login(fc, "fc@desk.example")
        mine = (await fc.get("/tasks")).text
        assert f'href="/tasks/{task.id}"' in mine and "Trial piece" in mine
        page = await fc.get(f"/tasks/{task.id}")
        assert page.status_code == 200
        body = html.unescape(page.text)
        for sentence in (FIRST, SECOND, THIRD):  # each sentence of the piece is a tick box
            assert f'name="sentence" value="{sentence}"' in body
        assert "The trial piece" in body
        token = csrf_of(page.text)

        nothing = await fc.post(f"/tasks/{task.id}/claims", data={"_csrf_token": token})
        assert nothing.status_code == 422 and 'id="task_claims-error"' in nothing.text

        empty = await fc.post(
            f"/tasks/{task.id}",
            data={"_csrf_token": token, "action": "complete", "overall_verdict": "accurate"},
        )
        assert empty.status_code == 422  # a task on a piece needs its claims picked first

        picked = await fc.post(
            f"/tasks/{task.id}/claims",
            data={"_csrf_token": token, "sentence": [FIRST, THIRD], "task_claims": "The quay opened in May."},
        )
        assert picked.status_code == 303, picked.text
        claims = await _claims(db, task.id)
        assert [c.quote for c in claims] == [FIRST, THIRD, "The quay opened in May."]
        again = html.unescape((await fc.get(f"/tasks/{task.id}")).text)
        assert f'name="sentence" value="{FIRST}"' not in again  # a picked sentence is no longer offered
        assert f'name="sentence" value="{SECOND}"' in again
        assert '<mark id="mark-1"' in again  # and is marked in the piece's text

        done = await fc.post(
            f"/tasks/{task.id}",
            data={
                "_csrf_token": token,
                "action": "complete",
                **{f"verdict-{c.id}": "accurate" for c in claims},
                "overall_verdict": "accurate",
                "summary": "The figures match the port authority's tender records.",
            },
        )
        assert done.status_code == 303, done.text
    [task] = await tasks_of(db, app_id)
    assert task.state == TaskState.done and task.overall_verdict == "accurate"
    [completed] = await outbox(db, app_id, template="staff_task_completed")
    assert completed.recipient == "eda@desk.example"

    _, hidden = await page_form(client, app_id)
    accepted = await client.post(
        f"/applications/{app_id}/move", data={**hidden, "to": "accepted", "message": "Welcome"}
    )
    assert accepted.status_code == 303, accepted.text
    assert (await stored(db, app_id)).state == State.accepted


async def test_without_a_fact_checker_the_task_waits_at_the_desk_and_one_of_two_takes_it(
    app, client, db, settings, fact_check_desk
):
    app_id, editor, checker, other = fact_check_desk
    trial = await insert_submitted_trial(db, app_id, PIECE, offered_by_id=editor, settings=settings)
    [task] = await tasks_of(db, app_id)
    assert task.id == trial.task_id and task.assignee_id is None and task.state == TaskState.open
    desk_mail = await outbox(db, app_id, template="staff_task_assigned")
    assert sorted(m.recipient for m in desk_mail) == ["fc2@desk.example", "fc@desk.example"]  # one each
    assert "waits at the desk" in render(desk_mail[0], settings).get_body(("plain",)).get_content()
    page = (await client.get(f"/applications/{app_id}")).text
    assert "waiting at the desk" in page  # the editors' task list copes with nobody holding it

    async with make_client(app) as farid, make_client(app) as olga:
        await login(farid, "fc@desk.example")
        await login(olga, "fc2@desk.example")
        lists = [(await who.get("/tasks")).text for who in (farid, olga)]
        for listed in lists:
            assert "Waiting for a fact-checker" in listed
            assert f'action="/tasks/{task.id}/take"' in listed
        # Before taking it, a fact-checker may read it but not record verdicts.
        seen = await farid.get(f"/tasks/{task.id}")
        assert seen.status_code == 200 and 'id="take-form"' in seen.text and 'id="verdicts"' in seen.text
        early = await farid.post(
            f"/tasks/{task.id}", data={"_csrf_token": csrf_of(seen.text), "action": "save"}
        )
        assert early.status_code == 403

        answers = await asyncio.gather(
            farid.post(f"/tasks/{task.id}/take", data={"_csrf_token": csrf_of(lists[0])}),
            olga.post(f"/tasks/{task.id}/take", data={"_csrf_token": csrf_of(lists[1])}),
        )
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [303, 409], [a.text for a in answers]
        loser = next(answer for answer in answers if answer.status_code == 409)
        assert "Another fact-checker took this task first" in loser.text
        [task] = await tasks_of(db, app_id)
        winner, loser_client = (farid, olga) if task.assignee_id == checker else (olga, farid)
        assert task.assignee_id in (checker, other)
        assert "Waiting for a fact-checker" not in (await loser_client.get("/tasks")).text
        assert (await loser_client.get(f"/tasks/{task.id}")).status_code == 404  # no longer at the desk
        mine = await winner.get(f"/tasks/{task.id}?done=taken")
        assert (
            mine.status_code == 200 and 'id="pick-claims"' in mine.text and 'id="take-form"' not in mine.text
        )
    async with db.sessionmaker() as session:
        taken = (
            await session.scalars(
                select(Event).where(Event.application_id == app_id, Event.kind == "task_taken")
            )
        ).all()
    assert len(taken) == 1 and taken[0].actor_user_id == task.assignee_id
    page = (await client.get(f"/applications/{app_id}")).text
    assert "taken from the desk by" in page


async def test_editors_cannot_take_from_the_desk_and_the_api_lists_desk_tasks(
    app, client, db, settings, fact_check_desk
):
    app_id, editor, _, _ = fact_check_desk
    trial = await insert_submitted_trial(db, app_id, PIECE, offered_by_id=editor, settings=settings)
    page = await client.get(f"/tasks/{trial.task_id}")
    assert page.status_code == 200 and 'id="at-desk"' in page.text and 'id="take-form"' not in page.text
    refused = await client.post(f"/tasks/{trial.task_id}/take", data={"_csrf_token": csrf_of(page.text)})
    assert refused.status_code == 403
    assert (await tasks_of(db, app_id))[0].assignee_id is None
    listed = (await client.get("/tasks")).text
    assert "Waiting for a fact-checker" in listed and f'action="/tasks/{trial.task_id}/take"' not in listed


async def test_the_trial_panel_shows_the_piece_task_its_holder_and_verdict(
    app, client, db, settings, fact_check_desk
):
    """The panel's part (`fact_check.panel` and `_fact_check.html`), rendered with the app's templates as the
    trial panel includes it."""
    app_id, editor, checker, _ = fact_check_desk
    trial_row = await insert_submitted_trial(db, app_id, PIECE, offered_by_id=editor, settings=settings)
    staff = StaffUser(editor, "eda@desk.example", "Eda Editor", False, True, False, "session")

    async def rendered() -> str:
        async with db.sessionmaker() as session:
            trial = await session.get(Trial, trial_row.trial_id)
            piece = await session.get(TrialPiece, trial_row.piece_id)
            assert trial is not None and piece is not None
            context = {"trial": trial, "piece": piece, **await fact_check.panel(session, trial, piece, staff)}
        template = app.template_engine.engine.get_template("trials/_fact_check.html")
        return template.render(url_for=lambda name, **params: app.route_reverse(name, **params), **context)

    waiting = await rendered()
    assert f'href="/tasks/{trial_row.task_id}"' in waiting and "waiting at the desk" in waiting
    task_page = await client.get(f"/tasks/{trial_row.task_id}")
    handed = await client.post(
        f"/tasks/{trial_row.task_id}/reassign",
        data={"_csrf_token": csrf_of(task_page.text), "assignee": checker},
    )
    assert handed.status_code == 303  # an editor can also hand a desk task to someone
    async with make_client(app) as fc:
        await login(fc, "fc@desk.example")
        page = await fc.get(f"/tasks/{trial_row.task_id}")
        token = csrf_of(page.text)
        assert (
            await fc.post(
                f"/tasks/{trial_row.task_id}/claims", data={"_csrf_token": token, "sentence": FIRST}
            )
        ).status_code == 303
        [claim] = await _claims(db, trial_row.task_id)
        done = await fc.post(
            f"/tasks/{trial_row.task_id}",
            data={
                "_csrf_token": token,
                "action": "complete",
                f"verdict-{claim.id}": "inaccurate",
                "overall_verdict": "misleading",
            },
        )
        assert done.status_code == 303
    checked = await rendered()
    assert "Farid Checker" in checked and "waiting at the desk" not in checked
    assert "done" in checked and "overall: misleading" in checked and "1 claim" in checked


async def test_a_desk_task_nobody_took_is_reported_to_its_creator_once_when_overdue(
    app, client, db, settings, fact_check_desk
):
    app_id, editor, _, _ = fact_check_desk
    await insert_submitted_trial(db, app_id, PIECE, offered_by_id=editor, settings=settings)
    [task] = await tasks_of(db, app_id)

    async def run(now) -> int:
        async with db.write_session() as session:
            return await queue_task_reminders(session, settings, now)

    assert await run(task.due_at - timedelta(hours=1)) == 0  # no fact-checker to remind before it is due
    assert await run(task.due_at + timedelta(minutes=1)) == 1
    assert await run(task.due_at + timedelta(days=3)) == 0  # once
    [mail] = await outbox(db, template="staff_task_reminder")
    assert mail.recipient == "eda@desk.example" and mail.context["kind"] == "desk_overdue"
    assert (
        "no fact-checker has taken it from the desk"
        in render(mail, settings).get_body(("plain",)).get_content()
    )


async def test_the_api_shows_a_desk_task_without_a_fact_checker(
    app, client, db, settings, editor, editor_token
):
    app_id = await submit(client, db)
    trial = await insert_submitted_trial(db, app_id, PIECE, offered_by_id=editor, settings=settings)
    _, checker_token = await staff_token(
        app, db, "api-fc@desk.example", roles=("fact_checker",), name="Api Checker"
    )
    mine = await client.get("/api/v1/tasks", headers=bearer(checker_token))
    assert mine.status_code == 200
    [row] = mine.json()["desk"]
    assert row["id"] == trial.task_id and row["assignee"] is None and row["claims"] == 0
    detail = await client.get(f"/api/v1/tasks/{trial.task_id}", headers=bearer(checker_token))
    assert detail.status_code == 200 and detail.json()["assignee"] is None
    application = await client.get(f"/api/v1/applications/{app_id}", headers=bearer(editor_token))
    [summary] = application.json()["tasks"]
    assert summary["assignee_id"] is None and summary["assignee"] is None


RUSSIAN = (
    "Порт обошёлся бюджету в 40 млн манатов. Отчёты за тот год так и не опубликовали!\n"
    "«Нужен аудит», — заявили депутаты от оппозиции."
)


async def test_a_russian_piece_is_cut_into_its_sentences_on_a_russian_task_page(
    app, client, db, settings, fact_check_desk
):
    app_id, editor, checker, _ = fact_check_desk
    trial = await insert_submitted_trial(
        db, app_id, RUSSIAN, fact_checker_id=checker, offered_by_id=editor, settings=settings
    )
    async with make_client(app) as fc:
        await login(fc, "fc@desk.example")
        await choose_language(fc, "ru")
        page = html.unescape((await fc.get(f"/tasks/{trial.task_id}")).text)
    assert "Выберите утверждения из пробного материала" in page and "Пробный материал" in page
    for sentence in (
        "Порт обошёлся бюджету в 40 млн манатов.",
        "Отчёты за тот год так и не опубликовали!",
        "«Нужен аудит», — заявили депутаты от оппозиции.",
    ):
        assert f'name="sentence" value="{sentence}"' in page
