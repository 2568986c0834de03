"""The applicant answers an information request on the status page."""

from __future__ import annotations

import re

from app.models import State
from tests.factories import PDF, ask_applicant, csrf_of, make_client, submit
from tests.queries import outbox, samples_of, stored


async def test_the_applicant_answers_with_a_link_and_the_editor_is_told(app, db):
    app_id, status_url = await ask_applicant(app, db)
    async with make_client(app) as applicant:
        page = await applicant.get(status_url)
        assert "Which of your pieces were edited by others?" in page.text and "Send my answer" in page.text
        token = csrf_of(page.text)
        response = await applicant.post(
            f"{status_url}/reply",
            data={
                "_csrf_token": token,
                "reply": "All of them were edited lightly; the <em>analysis</em> was mine.",
                "sample_title": "Budget analysis",
                "sample_url": "https://paper.example/budget",
            },
            files=[("unused", ("", b"", "application/octet-stream"))],
        )
        assert response.status_code == 303
        after = await applicant.get(status_url)
        assert "Send my answer" not in after.text
        assert "the &lt;em&gt;analysis&lt;/em&gt; was mine" in after.text
    assert (await stored(db, app_id)).state == State.screening
    assert [s.url for s in await samples_of(db, app_id) if s.kind == "link"] == [
        "https://paper.example/budget"
    ]
    told = [m for m in await outbox(db, app_id) if m.template == "staff_applicant_replied"]
    assert [m.recipient for m in told] == ["eda@desk.example"]
    assert "the <em>analysis</em> was mine" in told[0].context["message"]


async def test_an_empty_answer_is_refused_with_the_values_kept(app, db):
    app_id, status_url = await ask_applicant(app, db)
    async with make_client(app) as applicant:
        token = csrf_of((await applicant.get(status_url)).text)
        response = await applicant.post(
            f"{status_url}/reply",
            data={
                "_csrf_token": token,
                "reply": "  ",
                "sample_url": "javascript:alert(1)",
                "sample_title": "Mine",
            },
            files=[("unused", ("", b"", "application/octet-stream"))],
        )
        assert response.status_code == 422
        assert 'id="reply-error"' in response.text and 'id="sample-url-error"' in response.text
        assert 'value="Mine"' in response.text
    assert (await stored(db, app_id)).state == State.info_requested


async def test_a_file_sample_is_stored_and_a_refused_file_leaves_nothing(app, db, settings):
    app_id, status_url = await ask_applicant(app, db)
    before = sorted(p.name for p in settings.uploads_path.iterdir())
    async with make_client(app) as applicant:
        token = csrf_of((await applicant.get(status_url)).text)
        refused = await applicant.post(
            f"{status_url}/reply",
            data={"_csrf_token": token, "reply": "Here is another piece.", "sample_title": "Piece"},
            files=[("sample_file", ("piece.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf"))],
        )
        assert refused.status_code == 422 and 'id="sample-file-error"' in refused.text
        assert sorted(p.name for p in settings.uploads_path.iterdir()) == before
        assert (await stored(db, app_id)).state == State.info_requested
        accepted = await applicant.post(
            f"{status_url}/reply",
            data={"_csrf_token": token, "reply": "Here is another piece.", "sample_title": "Piece"},
            files=[("sample_file", ("piece.pdf", PDF, "application/pdf"))],
        )
        assert accepted.status_code == 303
    files = [s for s in await samples_of(db, app_id) if s.kind == "file"]
    assert len(files) == 1 and files[0].detected_type == "pdf"
    assert (settings.uploads_path / files[0].storage_key).is_file()


async def test_answering_when_nothing_was_asked_is_a_conflict(app, db):
    async with make_client(app) as applicant:
        app_id = await submit(applicant, db)
        status_url = f"/status/{(await stored(db, app_id)).public_id}"
        page = await applicant.get(status_url)
        assert "Send my answer" not in page.text
        response = await applicant.post(
            f"{status_url}/reply",
            data={"_csrf_token": csrf_of((await applicant.get("/apply")).text), "reply": "Hello"},
            files=[("unused", ("", b"", "application/octet-stream"))],
        )
        assert response.status_code == 409
    assert (await stored(db, app_id)).state == State.submitted


async def test_a_title_that_is_too_long_is_refused_at_the_title(app, db):
    app_id, status_url = await ask_applicant(app, db)
    async with make_client(app) as applicant:
        token = csrf_of((await applicant.get(status_url)).text)
        response = await applicant.post(
            f"{status_url}/reply",
            data={
                "_csrf_token": token,
                "reply": "Here is one more piece.",
                "sample_title": "x" * 201,
                "sample_url": "https://paper.example/long",
            },
            files=[("unused", ("", b"", "application/octet-stream"))],
        )
        assert response.status_code == 422
        assert 'id="sample-title-error">Titles can be at most 200 characters.' in response.text
    assert (await stored(db, app_id)).state == State.info_requested
    assert not [s for s in await samples_of(db, app_id) if s.kind == "link"]


async def test_the_answer_is_marked_required_and_errors_are_listed_in_page_order(app, db):
    _, status_url = await ask_applicant(app, db)
    async with make_client(app) as applicant:
        page = await applicant.get(status_url)
        assert re.search(r'<textarea id="reply-text"[^>]*\srequired', page.text)
        assert re.search(r'<label for="reply-text">[^<]*<span class="required">\(required\)', page.text)
        response = await applicant.post(
            f"{status_url}/reply",
            data={
                "_csrf_token": csrf_of(page.text),
                "reply": "",
                "sample_url": "ftp://x",
                "sample_title": "",
            },
            files=[("unused", ("", b"", "application/octet-stream"))],
        )
        assert response.status_code == 422
        summary = re.search(r"<div[^>]*data-error-summary[^>]*>(.*?)</div>", response.text, re.S)
        assert summary
        listed = re.findall(r"<li>([^<]*)</li>", summary.group(1))
        assert listed == [
            "Write your answer to the editor&#39;s question.",
            "Give the sample a title.",
            "Enter a full web address starting with http:// or https://.",
        ]
