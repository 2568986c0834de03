"""The application page: details, samples, timeline, notes, labels, scores, assignment and moves."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models import (
    Application,
    ApplicationLabel,
    Event,
    FactCheckTask,
    Label,
    OutboxEmail,
    Score,
    State,
)
from tests.factories import (
    PDF,
    csrf_of,
    make_client,
    make_staff,
    page_form,
    post_application,
    staff_login,
    submit,
    valid_fields,
)
from tests.queries import outbox, stored


async def events_of(db, app_id: int) -> list[Event]:
    async with db.sessionmaker() as session:
        return list(
            (
                await session.scalars(select(Event).where(Event.application_id == app_id).order_by(Event.id))
            ).all()
        )


async def test_editor_sees_the_applicant_samples_and_timeline(client, db):
    app_id = await submit(
        client,
        db,
        name="Leyla <b>Mammadova</b>",
        motivation="I <script>check</script> facts against primary sources, every single day of the week.",
    )
    await staff_login(client, db, "eda@desk.example")
    page = await client.get(f"/applications/{app_id}")
    assert page.status_code == 200
    assert "Leyla &lt;b&gt;Mammadova&lt;/b&gt;" in page.text
    assert "&lt;script&gt;check&lt;/script&gt;" in page.text and "<script>check" not in page.text
    assert "Putin" in page.text  # the pasted sample is shown as text
    assert "Application received" in page.text
    assert "Confirmation to the applicant" in page.text  # the queued email is on the timeline with its status
    assert 'class="badge mail-queued"' in page.text


async def test_assigning_myself_takes_a_submitted_application_into_screening(client, db, app_id, editor):
    _, hidden = await page_form(client, app_id)
    response = await client.post(f"/applications/{app_id}/assign", data={**hidden, "assignee": "me"})
    assert response.status_code == 303
    application = await stored(db, app_id)
    assert application.assigned_editor_id == editor and application.state == State.screening
    kinds = [e.kind for e in await events_of(db, app_id)]
    assert kinds[-2:] == ["assigned", "state_changed"]
    assert not any(m.template == "staff_assigned" for m in await outbox(db, app_id))  # no mail to oneself


async def test_assigning_a_colleague_tells_them(client, db, app_id, editor):
    colleague = await make_staff(db, email="col@desk.example", name="Colleague")
    _, hidden = await page_form(client, app_id)
    assert (
        await client.post(f"/applications/{app_id}/assign", data={**hidden, "assignee": str(colleague)})
    ).status_code == 303
    mails = [m for m in await outbox(db, app_id) if m.template == "staff_assigned"]
    assert [m.recipient for m in mails] == ["col@desk.example"]
    assert mails[0].context["application_url"] == f"http://127.0.0.1:8000/applications/{app_id}"


async def test_page_shows_exactly_the_moves_the_workflow_allows(client, app_id, editor):
    page, _ = await page_form(client, app_id)
    moves = page[page.index('id="moves"') : page.index('id="assign-title"')]
    for label in ("Start screening", "Mark as spam", "Reject"):
        assert f">{label}<" in moves
    for label in ("Accept", "Request information", "Offer a trial", "Not spam"):
        assert f">{label}<" not in moves


async def test_request_information_needs_a_message_and_emails_the_applicant(client, db, app_id, editor):
    _, hidden = await page_form(client, app_id)
    await client.post(f"/applications/{app_id}/move", data={**hidden, "to": "screening"})
    _, hidden = await page_form(client, app_id)
    refused = await client.post(
        f"/applications/{app_id}/move", data={**hidden, "to": "info_requested", "message": " "}
    )
    assert refused.status_code == 422
    assert 'id="message-error"' in refused.text
    assert (await stored(db, app_id)).state == State.screening
    done = await client.post(
        f"/applications/{app_id}/move",
        data={**hidden, "to": "info_requested", "message": "Which of your pieces were edited by others?"},
    )
    assert done.status_code == 303
    assert (await stored(db, app_id)).state == State.info_requested
    mail = [m for m in await outbox(db, app_id) if m.template == "applicant_info_requested"]
    assert len(mail) == 1 and mail[0].status == "queued"
    assert mail[0].context["message"] == "Which of your pieces were edited by others?"


async def test_a_decision_carries_the_edited_message_and_is_held_for_release(client, db, app_id, editor):
    _, hidden = await page_form(client, app_id)
    await client.post(f"/applications/{app_id}/move", data={**hidden, "to": "screening"})
    page, hidden = await page_form(client, app_id)
    assert "We enjoyed your work samples" in page  # the default acceptance text, ready to edit
    response = await client.post(
        f"/applications/{app_id}/move", data={**hidden, "to": "accepted", "message": "Welcome, Leyla!"}
    )
    assert response.status_code == 303
    application = await stored(db, app_id)
    assert (
        application.state == State.accepted
        and application.decided_at is not None
        and application.due_at is None
    )
    decision = [m for m in await outbox(db, app_id) if m.template == "applicant_decision"]
    assert len(decision) == 1 and decision[0].status == "held"
    assert decision[0].context["message"] == "Welcome, Leyla!"


async def test_rejecting_needs_an_internal_reason(client, db, app_id, editor):
    _, hidden = await page_form(client, app_id)
    refused = await client.post(
        f"/applications/{app_id}/move", data={**hidden, "to": "rejected", "message": "Sorry."}
    )
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    assert "Sorry.</textarea>" in refused.text  # the message typed is kept
    assert (await stored(db, app_id)).state == State.submitted
    ok = await client.post(
        f"/applications/{app_id}/move",
        data={**hidden, "to": "rejected", "message": "Sorry.", "reason": "Off topic"},
    )
    assert ok.status_code == 303 and (await stored(db, app_id)).state == State.rejected


async def test_a_form_from_an_old_version_gets_409_and_shows_what_changed(app, db):
    async with make_client(app) as first, make_client(app) as second:
        app_id = await submit(first, db)
        await staff_login(first, db, "one@desk.example", name="Editor One")
        await staff_login(second, db, "two@desk.example", name="Editor Two")
        _, old = await page_form(second, app_id)
        _, hidden = await page_form(first, app_id)
        assert (
            await first.post(f"/applications/{app_id}/move", data={**hidden, "to": "spam"})
        ).status_code == 303
        late = await second.post(f"/applications/{app_id}/move", data={**old, "to": "screening"})
        assert late.status_code == 409
        assert "Moved from Submitted to Spam" in late.text
        assert (await stored(db, app_id)).state == State.spam
        late_assign = await second.post(f"/applications/{app_id}/assign", data={**old, "assignee": "me"})
        assert late_assign.status_code == 409
        assert (await stored(db, app_id)).assigned_editor_id is None


MARKS = dict.fromkeys(("analysis", "fact_accuracy", "concision", "interest_style", "topic_knowledge"), "4")

# Every form that changes an application: where it is rendered, where it posts, and what it sends.
CHANGING_FORMS = {
    "move": ("", "move", {"to": "rejected", "reason": "Off topic", "message": "Sorry."}),
    "assign": ("", "assign", {"assignee": "me"}),
    "labels": ("", "labels", {"labels": "shortlist"}),
    "score": ("", "score", {**MARKS, "recommendation": "accept"}),
    "task": ("/tasks/new", "tasks", {"task_claims": "The call took place on Monday."}),
}


async def snapshot(db, app_id: int) -> tuple[object, ...]:
    """Everything a form on the application page can change, and its timeline and mail."""
    async with db.sessionmaker() as session:
        application = await session.get(Application, app_id)
        assert application is not None
        labels = (
            await session.scalars(
                select(Label.name)
                .join(ApplicationLabel, ApplicationLabel.label_id == Label.id)  # type: ignore[arg-type]
                .where(ApplicationLabel.application_id == app_id)
            )
        ).all()

        async def count(model) -> int:
            return int(
                await session.scalar(
                    select(func.count()).select_from(model).where(model.application_id == app_id)
                )
                or 0
            )

        return (
            application.state,
            application.assigned_editor_id,
            application.version,
            sorted(labels),
            await count(Score),
            await count(FactCheckTask),
            await count(Event),
            await count(OutboxEmail),
        )


async def rendered_form(client, app_id: int, page: str) -> dict[str, str]:
    """The hidden fields of the forms on the page (the application page or the new-task page)."""
    html = (await client.get(f"/applications/{app_id}{page}")).text
    version = re.search(r'name="version" value="(\d+)"', html)
    assert version, page
    return {"_csrf_token": csrf_of(html), "version": version.group(1)}


async def someone_moves(client, app_id: int) -> str:
    _, hidden = await page_form(client, app_id)
    assert (
        await client.post(f"/applications/{app_id}/move", data={**hidden, "to": "screening"})
    ).status_code == 303
    return "Moved from Submitted to Screening"


async def someone_labels(client, app_id: int) -> str:
    _, hidden = await page_form(client, app_id)
    assert (
        await client.post(f"/applications/{app_id}/labels", data={**hidden, "labels": "urgent"})
    ).status_code == 303
    return "Labels set to: <bdi>urgent</bdi>"


@pytest.mark.parametrize("change", [someone_moves, someone_labels], ids=["moved", "labelled"])
@pytest.mark.parametrize("form", sorted(CHANGING_FORMS))
async def test_every_form_from_an_old_version_gets_409_and_changes_nothing(app, db, form, change):
    page, path, fields = CHANGING_FORMS[form]
    async with make_client(app) as mine, make_client(app) as theirs:
        app_id = await submit(mine, db)
        await staff_login(mine, db, "one@desk.example", name="Editor One")
        await staff_login(theirs, db, "two@desk.example", name="Editor Two")
        checker = await make_staff(db, email="fc@desk.example", name="Fact Checker", roles=("fact_checker",))
        stale = await rendered_form(mine, app_id, page)
        what_changed = await change(theirs, app_id)
        before = await snapshot(db, app_id)
        late = await mine.post(
            f"/applications/{app_id}/{path}", data={**stale, **fields, "task_assignee": str(checker)}
        )
        assert late.status_code == 409, late.text
        assert what_changed in late.text
        assert await snapshot(db, app_id) == before
        # The same form rendered now goes through.
        fresh = await rendered_form(mine, app_id, page)
        done = await mine.post(
            f"/applications/{app_id}/{path}", data={**fresh, **fields, "task_assignee": str(checker)}
        )
        assert done.status_code == 303, done.text
        assert await snapshot(db, app_id) != before


@pytest.mark.parametrize("form", sorted(CHANGING_FORMS))
async def test_a_form_without_a_version_is_refused(client, db, form):
    page, path, fields = CHANGING_FORMS[form]
    app_id = await submit(client, db)
    await staff_login(client, db, "eda@desk.example")
    checker = await make_staff(db, email="fc@desk.example", name="Fact Checker", roles=("fact_checker",))
    hidden = await rendered_form(client, app_id, page)
    del hidden["version"]
    before = await snapshot(db, app_id)
    refused = await client.post(
        f"/applications/{app_id}/{path}", data={**hidden, **fields, "task_assignee": str(checker)}
    )
    assert refused.status_code == 409 and "Reload the page" in refused.text
    assert await snapshot(db, app_id) == before


async def test_a_note_adds_to_the_timeline_whatever_changed_and_leaves_the_version_alone(app, db):
    async with make_client(app) as mine, make_client(app) as theirs:
        app_id = await submit(mine, db)
        await staff_login(mine, db, "one@desk.example", name="Editor One")
        await staff_login(theirs, db, "two@desk.example", name="Editor Two")
        page, hidden = await page_form(mine, app_id)
        assert f'action="/applications/{app_id}/notes"' in page
        await someone_labels(theirs, app_id)
        noted = await mine.post(f"/applications/{app_id}/notes", data={**hidden, "note": "Check the dates."})
        assert noted.status_code == 303  # a note overwrites nothing, so an older page may add one
        _, hidden = await page_form(theirs, app_id)
        await theirs.post(f"/applications/{app_id}/notes", data={**hidden, "note": "Agreed."})
        # The notes did not make the page the other editor had open stale.
        labelled = await theirs.post(
            f"/applications/{app_id}/labels", data={**hidden, "labels": "urgent, news"}
        )
        assert labelled.status_code == 303
    notes = [e.message for e in await events_of(db, app_id) if e.kind == "note"]
    assert notes == ["Check the dates.", "Agreed."]


async def test_an_illegal_move_is_refused_and_changes_nothing(client, db, app_id, editor):
    _, hidden = await page_form(client, app_id)
    before = len(await events_of(db, app_id))
    for target in ("accepted", "trial", "withdrawn", "nonsense"):
        response = await client.post(
            f"/applications/{app_id}/move", data={**hidden, "to": target, "message": "x"}
        )
        assert response.status_code in (409, 422), target
    application = await stored(db, app_id)
    assert application.state == State.submitted and application.version == int(hidden["version"])
    assert len(await events_of(db, app_id)) == before


async def test_fact_check_needs_a_task_and_blocks_the_decision_until_it_is_done(client, db, app_id, editor):
    checker = await make_staff(db, email="fc@desk.example", name="Fact Checker", roles=("fact_checker",))
    _, hidden = await page_form(client, app_id)
    await client.post(f"/applications/{app_id}/move", data={**hidden, "to": "screening"})
    _, hidden = await page_form(client, app_id)
    refused = await client.post(f"/applications/{app_id}/move", data={**hidden, "to": "fact_check"})
    assert refused.status_code == 422 and 'id="task_claims-error"' in refused.text
    sent = await client.post(
        f"/applications/{app_id}/move",
        data={
            **hidden,
            "to": "fact_check",
            "task_assignee": str(checker),
            "task_claims": "Putin and Erdogan spoke by phone.\nThe call took place on Monday.",
        },
    )
    assert sent.status_code == 303, sent.text
    assert (await stored(db, app_id)).state == State.fact_check
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(FactCheckTask)) == 1
    assert [m.recipient for m in await outbox(db, app_id) if m.template == "staff_task_assigned"] == [
        "fc@desk.example"
    ]
    page, hidden = await page_form(client, app_id)
    assert "Every fact-check task must be done or cancelled first." in page
    blocked = await client.post(
        f"/applications/{app_id}/move", data={**hidden, "to": "accepted", "message": "Hi"}
    )
    assert blocked.status_code == 409
    assert (await stored(db, app_id)).state == State.fact_check


async def test_notes_are_internal_and_empty_notes_are_refused(client, db):
    response = await post_application(client, valid_fields())
    status_url = response.headers["location"]
    app_id = await submit(client, db)
    await staff_login(client, db, "eda@desk.example")
    _, hidden = await page_form(client, app_id)
    empty = await client.post(f"/applications/{app_id}/notes", data={**hidden, "note": "   "})
    assert empty.status_code == 422 and 'id="note-error"' in empty.text
    # Fields that are not part of the form are ignored (mass assignment).
    added = await client.post(
        f"/applications/{app_id}/notes",
        data={
            **hidden,
            "note": "Strong <i>analysis</i>; check the dates.",
            "state": "accepted",
            "assigned_editor_id": "1",
        },
    )
    assert added.status_code == 303
    page, _ = await page_form(client, app_id)
    assert "Strong &lt;i&gt;analysis&lt;/i&gt;; check the dates." in page
    application = await stored(db, app_id)
    assert application.state == State.submitted and application.assigned_editor_id is None
    received = await client.get(status_url)
    assert "check the dates" not in received.text


async def test_labels_are_set_and_new_ones_created(client, db, app_id, editor):
    _, hidden = await page_form(client, app_id)
    assert (
        await client.post(
            f"/applications/{app_id}/labels", data={**hidden, "labels": "economy, Baku ,economy"}
        )
    ).status_code == 303
    page, _ = await page_form(client, app_id)
    assert (
        '<span class="badge label"><bdi>Baku</bdi></span>' in page
        and '<span class="badge label"><bdi>economy</bdi></span>' in page
    )
    kinds = [e.kind for e in await events_of(db, app_id)]
    assert kinds.count("labels_changed") == 1


async def test_scores_from_two_editors_are_averaged(app, db):
    async with make_client(app) as one, make_client(app) as two:
        app_id = await submit(one, db)
        await staff_login(one, db, "one@desk.example", name="Editor One")
        await staff_login(two, db, "two@desk.example", name="Editor Two")
        marks_one = {
            "analysis": "5",
            "fact_accuracy": "4",
            "concision": "3",
            "interest_style": "4",
            "topic_knowledge": "5",
        }
        marks_two = {
            "analysis": "3",
            "fact_accuracy": "4",
            "concision": "5",
            "interest_style": "2",
            "topic_knowledge": "3",
        }
        for client, marks in ((one, marks_one), (two, marks_two)):
            _, hidden = await page_form(client, app_id)
            response = await client.post(
                f"/applications/{app_id}/score", data={**hidden, **marks, "recommendation": "accept"}
            )
            assert response.status_code == 303
        page, hidden = await page_form(one, app_id)
        assert 'Average of all marks: <strong id="overall">3.8</strong> of 5' in page
        bad = await one.post(f"/applications/{app_id}/score", data={**hidden, **marks_one, "analysis": "9"})
        assert bad.status_code == 422 and 'id="analysis-error"' in bad.text


async def test_a_field_longer_than_its_form_allows_is_refused_at_the_field_and_nothing_is_saved(
    client, db, app_id, editor
):
    # The page's fields carry maxlength; a longer value is refused with its limit, not cut short and saved.
    _, hidden = await page_form(client, app_id)
    before = await snapshot(db, app_id)
    data = {**hidden, **MARKS, "recommendation": "trial", "comment": "x" * 10_001}
    refused = await client.post(f"/applications/{app_id}/score", data=data)
    assert refused.status_code == 422
    assert re.search(r"At most 10[,\s\u00a0\u202f]?000 characters\.", refused.text)
    assert await snapshot(db, app_id) == before


async def test_the_scores_table_names_each_criterion_and_averages_only_the_marks(client, app_id, editor):
    _, hidden = await page_form(client, app_id)
    await client.post(f"/applications/{app_id}/score", data={**hidden, **MARKS, "recommendation": "trial"})
    page, _ = await page_form(client, app_id)
    table = page[page.index('<table class="scores">') : page.index("</table>")]
    headers = re.findall(r'<th scope="col">(.*?)</th>', table)
    names = ["Analysis", "Fact accuracy", "Concision", "Interest and style", "Topic knowledge"]
    assert len(headers) == 7 and headers[0] == "Editor"
    assert headers[-1] == '<abbr title="Recommendation">Rec.</abbr>'
    for header, name in zip(headers[1:6], names, strict=True):
        # The full name, or a shortening inside <abbr> that carries it.
        assert header == name or re.fullmatch(rf'<abbr title="{name}">[^<]+</abbr>', header), header
    footer = re.search(r"<tfoot><tr>(.*?)</tr></tfoot>", table)
    assert footer
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", footer.group(1))
    assert cells[0] == "Average" and cells[1:6] == ["4.0"] * 5 and cells[6] == ""
    assert "<td>Trial</td>" in table
    assert 'Average of all marks: <strong id="overall">4.0</strong> of 5' in page


async def test_sample_download_is_an_attachment_with_the_sniffed_type(app, db):
    async with make_client(app) as client:
        data = valid_fields(**{"sample-0-text": None, "sample-0-title": "Report"})
        response = await post_application(
            client, data, files=[("sample-0-file", ("../../etc/Report.pdf", PDF, "text/html"))]
        )
        assert response.status_code == 303, response.text
        async with db.sessionmaker() as session:
            from app.models import WorkSample

            sample = (await session.scalars(select(WorkSample))).one()
        url = f"/applications/{sample.application_id}/samples/{sample.id}/file"
        anonymous = await client.get(url)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
        await staff_login(client, db, "fc@desk.example", roles=("fact_checker",))
        assert (await client.get(url)).status_code == 404  # no task of theirs on this application
    async with make_client(app) as editor:
        await staff_login(editor, db, "eda@desk.example")
        download = await editor.get(url)
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["x-content-type-options"] == "nosniff"
        disposition = download.headers["content-disposition"]
        assert disposition.startswith("attachment") and "Report.pdf" in disposition and "/" not in disposition
        assert (
            await editor.get(f"/applications/{sample.application_id}/samples/{sample.id + 999}/file")
        ).status_code == 404


async def test_only_editors_open_the_application_page(app, db):
    async with make_client(app) as client:
        app_id = await submit(client, db)
        anonymous = await client.get(f"/applications/{app_id}")
        assert anonymous.status_code == 303
        await staff_login(client, db, "fc@desk.example", roles=("fact_checker",))
        assert (await client.get(f"/applications/{app_id}")).status_code == 403
    async with make_client(app) as admin:
        await staff_login(admin, db, "adm@desk.example", roles=("admin",))
        assert (await admin.get(f"/applications/{app_id}")).status_code == 403


async def test_moves_without_a_csrf_token_are_refused(client, db, app_id, editor):
    _, hidden = await page_form(client, app_id)
    del hidden["_csrf_token"]
    for path in ("move", "assign", "notes", "labels", "score"):
        assert (
            await client.post(f"/applications/{app_id}/{path}", data={**hidden, "to": "screening"})
        ).status_code == 403
    assert (await stored(db, app_id)).state == State.submitted


async def test_earlier_applications_from_the_same_address_are_listed(client, db):
    first = await submit(client, db, email="same@applicant.example")
    second = await submit(client, db, email="Same@Applicant.example")
    await staff_login(client, db, "eda@desk.example")
    page, _ = await page_form(client, second)
    assert f'href="/applications/{first}"' in page and "Repeat applicant" in page


async def test_the_name_and_sample_titles_are_isolated_from_the_page_around_them(client, db):
    app_id = await submit(
        client, db, name="Leyla \u202eavodammaM\u202c", **{"sample-0-title": "\u2066The call\u2069"}
    )
    await staff_login(client, db, "eda@desk.example")
    html, _ = await page_form(client, app_id)
    assert "<h1><bdi>Leyla avodammaM</bdi></h1>" in html
    assert "<h3><bdi>The call</bdi></h3>" in html
    assert 'class="pasted" tabindex="0" role="region" aria-label="The call" dir="auto"' in html
    assert not any(ch in html for ch in "\u202e\u202c\u2066\u2069")
