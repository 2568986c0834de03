"""Fact-check tasks through the real routes: claims from sentences, verdicts, completion, access (C2)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from app.demo import make_docx, make_pdf
from app.mail.render import render
from app.models import Claim, Event, State, TaskState, WorkSample
from tests.factories import (
    NEWS_SENTENCE,
    create_task,
    csrf_of,
    login,
    make_client,
    new_task,
    page_form,
    post_application,
    read_samples,
    staff_login,
    submit,
    valid_fields,
)
from tests.queries import outbox, samples_of, stored, tasks_of

SECOND_SENTENCE = 'He noted that "Baku is conducting a counter-offensive operation on its territory."'


def make_odt(title: str, body: str) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=title))
    for paragraph in body.split("\n"):
        if paragraph.strip():
            document.text.addElement(P(text=paragraph))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


async def test_editor_picks_sentences_of_a_pasted_sample_and_the_fact_checker_is_emailed(
    client, db, settings, fact_check_desk
):
    app_id, _, checker, _ = fact_check_desk
    sample = (await samples_of(db, app_id))[0]
    page, created = await new_task(
        client,
        app_id,
        sample.id,
        sentence=[NEWS_SENTENCE, SECOND_SENTENCE],
        task_claims="The call was on a Saturday.",
        task_assignee=str(checker),
    )
    assert f'value="{NEWS_SENTENCE}"' in page  # each sentence is a tick box
    assert "Farid Checker (0)" in page  # each fact-checker with their open load
    assert created.status_code == 303, created.text
    [task] = await tasks_of(db, app_id)
    assert task.sample_id == sample.id and task.assignee_id == checker and task.state == TaskState.open
    async with db.sessionmaker() as session:
        claims = (await session.scalars(select(Claim.quote).where(Claim.task_id == task.id))).all()
        events = (await session.scalars(select(Event.kind).where(Event.application_id == app_id))).all()
    assert list(claims) == [NEWS_SENTENCE, SECOND_SENTENCE, "The call was on a Saturday."]
    assert "task_created" in events
    [mail] = [m for m in await outbox(db, app_id) if m.template == "staff_task_assigned"]
    assert mail.recipient == "fc@desk.example"
    assert f"/tasks/{task.id}" in render(mail, settings).get_body(("plain",)).get_content()
    assert "(1)" in (await client.get(f"/applications/{app_id}/tasks/new")).text  # the load went up


async def test_sentences_come_from_pdf_docx_and_odt_uploads(app, client, db):
    article = valid_fields()["sample-0-text"]
    data = valid_fields(
        **{"sample-1-title": "As PDF", "sample-2-title": "As DOCX", "sample-3-title": "As ODT"},
    )
    files = [
        ("sample-1-file", ("call.pdf", make_pdf("Putin and Erdogan", article), "application/pdf")),
        ("sample-2-file", ("call.docx", make_docx("Putin and Erdogan", article), "application/octet-stream")),
        ("sample-3-file", ("call.odt", make_odt("Putin and Erdogan", article), "application/octet-stream")),
    ]
    assert (await post_application(client, data, files)).status_code == 303
    await read_samples(app)  # the PDF's text, read after the form's answer
    await staff_login(client, db, "eda@desk.example")
    async with db.sessionmaker() as session:
        app_id = (await session.scalars(select(WorkSample.application_id))).first()
    for sample in (await samples_of(db, app_id))[1:]:
        page = (await client.get(f"/applications/{app_id}/tasks/new?sample={sample.id}")).text
        assert f'value="{NEWS_SENTENCE}"' in page, sample.detected_type
    stored_text = {s.detected_type: s.extracted_text for s in await samples_of(db, app_id)}
    assert all(NEWS_SENTENCE in (stored_text[kind] or "") for kind in ("pdf", "docx", "odt"))


async def test_a_task_needs_claims_a_fact_checker_and_a_future_due_date(app, client, db, fact_check_desk):
    app_id, _, checker, _ = fact_check_desk
    sample = (await samples_of(db, app_id))[0]
    _, empty = await new_task(client, app_id, sample.id, task_assignee=str(checker))
    assert empty.status_code == 422
    assert 'id="task_claims-error"' in empty.text
    assert f'<option value="{checker}" selected>' in empty.text  # the choice is kept
    _, nobody = await new_task(client, app_id, sample.id, sentence=[NEWS_SENTENCE])
    assert nobody.status_code == 422 and 'id="task_assignee-error"' in nobody.text
    assert re.search(r'<input type="checkbox" name="sentence" value="On November 7[^>]*checked>', nobody.text)
    past = (app.state.clock() - timedelta(days=2)).strftime("%Y-%m-%d")
    _, late = await new_task(
        client, app_id, sample.id, sentence=[NEWS_SENTENCE], task_assignee=str(checker), task_due=past
    )
    assert late.status_code == 422 and 'id="task_due-error"' in late.text
    assert await tasks_of(db, app_id) == []


async def claim_ids(db, task_id: int) -> list[int]:
    async with db.sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(Claim.id).where(Claim.task_id == task_id).order_by(Claim.position)
                )
            ).all()
        )


async def test_the_fact_checker_records_verdicts_and_completes_the_task(
    app, client, db, settings, fact_check_desk
):
    app_id, _, checker, _ = fact_check_desk
    task_id = await create_task(client, db, app_id, checker)
    first, second = await claim_ids(db, task_id)
    async with make_client(app) as fc:
        await login(fc, "fc@desk.example")
        mine = (await fc.get("/tasks")).text
        assert f'href="/tasks/{task_id}"' in mine and "Due in the next two days" not in mine
        page = await fc.get(f"/tasks/{task_id}")
        assert page.status_code == 200
        assert '<mark id="mark-1"' in page.text  # the claim quoted from the sample is marked in its text
        token = csrf_of(page.text)

        draft = await fc.post(
            f"/tasks/{task_id}",
            data={
                "_csrf_token": token,
                "action": "save",
                f"verdict-{first}": "accurate",
                f"sources-{first}": "https://www.aa.com.tr/en/turkey/erdogan-putin-call\nhttp://kremlin.ru/events",
            },
        )
        assert draft.status_code == 303
        assert (await tasks_of(db, app_id))[0].state == TaskState.in_progress

        incomplete = await fc.post(
            f"/tasks/{task_id}",
            data={"_csrf_token": token, "action": "complete", f"verdict-{first}": "accurate"},
        )
        assert incomplete.status_code == 422
        assert (
            f'id="verdict-{second}-error"' in incomplete.text
            and 'id="overall_verdict-error"' in incomplete.text
        )
        assert "https://www.aa.com.tr/en/turkey/erdogan-putin-call" in incomplete.text  # the draft is kept

        bad_source = await fc.post(
            f"/tasks/{task_id}",
            data={"_csrf_token": token, "action": "save", f"sources-{second}": "javascript:alert(1)"},
        )
        assert bad_source.status_code == 422 and f'id="sources-{second}-error"' in bad_source.text

        done = await fc.post(
            f"/tasks/{task_id}",
            data={
                "_csrf_token": token,
                "action": "complete",
                f"verdict-{first}": "accurate",
                f"sources-{first}": "https://www.aa.com.tr/en/turkey/erdogan-putin-call",
                f"verdict-{second}": "inaccurate",
                f"note-{second}": "The call was on 7 November; the date is right, the framing is not.",
                "overall_verdict": "misleading",
                "summary": "One claim holds, one does not.",
            },
        )
        assert done.status_code == 303
        again = await fc.post(
            f"/tasks/{task_id}",
            data={"_csrf_token": token, "action": "complete", "overall_verdict": "accurate"},
        )
        assert again.status_code == 409  # a completed task is closed
    [task] = await tasks_of(db, app_id)
    assert task.state == TaskState.done and task.overall_verdict == "misleading" and task.completed_at
    async with db.sessionmaker() as session:
        claims = (
            await session.scalars(select(Claim).where(Claim.task_id == task_id).order_by(Claim.position))
        ).all()
        kinds = (await session.scalars(select(Event.kind).where(Event.application_id == app_id))).all()
    assert [c.verdict for c in claims] == ["accurate", "inaccurate"]
    assert claims[0].sources == ["https://www.aa.com.tr/en/turkey/erdogan-putin-call"]
    assert "task_completed" in kinds
    [mail] = [m for m in await outbox(db, app_id) if m.template == "staff_task_completed"]
    assert mail.recipient == "eda@desk.example"
    text = render(mail, settings).get_body(("plain",)).get_content()
    assert "Overall verdict: misleading" in text and "One claim holds" in text
    page = (await client.get(f"/applications/{app_id}")).text
    assert 'id="task-progress">1 of 1 done' in page


async def test_a_fact_checker_sees_only_their_own_tasks(app, client, db, fact_check_desk):
    app_id, _, checker, _ = fact_check_desk
    task_id = await create_task(client, db, app_id, checker)
    async with make_client(app) as fc2:
        await login(fc2, "fc2@desk.example")
        assert f'href="/tasks/{task_id}"' not in (await fc2.get("/tasks")).text
        assert (await fc2.get(f"/tasks/{task_id}")).status_code == 404
        token = csrf_of((await fc2.get("/tasks")).text)
        posted = await fc2.post(f"/tasks/{task_id}", data={"_csrf_token": token, "action": "save"})
        assert posted.status_code == 404
        assert (await fc2.get(f"/applications/{app_id}")).status_code == 403
        assert (await fc2.get(f"/applications/{app_id}/tasks/new")).status_code == 403
    async with make_client(app) as fc:
        await login(fc, "fc@desk.example")
        page = (await fc.get(f"/tasks/{task_id}")).text
        assert "Manage" not in page  # no reassign or cancel for fact-checkers
        token = csrf_of(page)
        refused = await fc.post(f"/tasks/{task_id}/cancel", data={"_csrf_token": token})
        assert refused.status_code == 403


async def test_editor_reassigns_and_cancels_and_the_workflow_waits_for_the_tasks(
    app, client, db, fact_check_desk
):
    app_id, _, checker, other = fact_check_desk
    _, hidden = await page_form(client, app_id)
    await client.post(f"/applications/{app_id}/move", data={**hidden, "to": "screening"})
    task_id = await create_task(client, db, app_id, checker)
    _, hidden = await page_form(client, app_id)
    moved = await client.post(f"/applications/{app_id}/move", data={**hidden, "to": "fact_check"})
    assert moved.status_code == 303  # the task created beforehand meets the guard

    page = (await client.get(f"/tasks/{task_id}")).text
    handed = await client.post(
        f"/tasks/{task_id}/reassign", data={"_csrf_token": csrf_of(page), "assignee": str(other)}
    )
    assert handed.status_code == 303
    assert (await tasks_of(db, app_id))[0].assignee_id == other
    assert [m.recipient for m in await outbox(db, app_id) if m.template == "staff_task_assigned"] == [
        "fc@desk.example",
        "fc2@desk.example",
    ]
    async with make_client(app) as fc:
        await login(fc, "fc@desk.example")
        assert (await fc.get(f"/tasks/{task_id}")).status_code == 404  # no longer theirs

    _, hidden = await page_form(client, app_id)
    blocked = await client.post(
        f"/applications/{app_id}/move", data={**hidden, "to": "accepted", "message": "Hi"}
    )
    assert blocked.status_code == 409
    cancelled = await client.post(
        f"/tasks/{task_id}/cancel", data={"_csrf_token": csrf_of(page), "reason": "Sample withdrawn"}
    )
    assert cancelled.status_code == 303
    assert (await tasks_of(db, app_id))[0].state == TaskState.cancelled
    [notice] = [m for m in await outbox(db, app_id) if m.template == "staff_task_cancelled"]
    assert notice.recipient == "fc2@desk.example" and notice.context["reason"] == "Sample withdrawn"
    _, hidden = await page_form(client, app_id)
    accepted = await client.post(
        f"/applications/{app_id}/move", data={**hidden, "to": "accepted", "message": "Hi"}
    )
    assert accepted.status_code == 303
    assert (await stored(db, app_id)).state == State.accepted


async def test_overdue_tasks_show_on_my_tasks_and_in_the_queue_filter(app, client, db, fact_check_desk):
    app_id, _, checker, _ = fact_check_desk
    await submit(client, db, name="Tomas Without Tasks")
    task_id = await create_task(client, db, app_id, checker)
    app.state.clock.advance(timedelta(days=4, hours=12))  # due in 5 days: now due within two
    async with make_client(app) as fc:
        await login(fc, "fc@desk.example")
        soon = (await fc.get("/tasks")).text
        assert "Due in the next two days" in soon and f'href="/tasks/{task_id}"' in soon
        app.state.clock.advance(timedelta(days=2))
        await login(fc, "fc@desk.example")
        late = (await fc.get("/tasks")).text
        assert 'id="h-overdue"' in late and "overdue" in late
    await login(client, "eda@desk.example")
    queue = (await client.get("/dashboard?tasks_overdue=1")).text
    assert f'href="/applications/{app_id}"' in queue and "Tomas Without Tasks" not in queue


async def test_markup_in_claims_is_escaped(app, client, db, fact_check_desk):
    app_id, _, checker, _ = fact_check_desk
    task_id = await create_task(client, db, app_id, checker, claims="<img src=x onerror=alert(1)> is a claim")
    page = (await client.get(f"/tasks/{task_id}")).text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; is a claim" in page
