"""The whole desk in a real browser, as `make run` serves it: the worker delivers every email to the mail
catcher, and people act on what arrives there.

An admin invites an editor and a fact-checker, who join through the emailed links; an applicant applies and
gets the confirmation; the editor requests information, the applicant answers, the editor picks claims from
the sample's sentences for a fact-check task, the fact-checker completes it, the editor accepts, releases the
held decision from the outbox, and the applicant receives it.
"""

from __future__ import annotations

import re

import pytest

from app.demo import make_pdf
from tests.browser import log_in, open_mail, shot
from tests.environment import SAMPLES
from tests.factories import NEWS_SENTENCE, make_staff

pytestmark = pytest.mark.browser

PASSWORD = "a long shared desk passphrase for the journey"


def link_in(text: str, base: str, path: str) -> str:
    found = re.search(rf"{re.escape(base)}{path}\S+", text)
    assert found, text
    return found.group(0)


async def join(browser, base: str, email: str, name: str, step: str):
    """A new browser for the invited person, who joins through the emailed link."""
    context = await browser.new_context()
    page = await context.new_page()
    text = await open_mail(page, base, email, "invited")
    await page.goto(link_in(text, base, "/invitations/"))
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Choose a password").fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await shot(page, f"{step}-join")
    await page.get_by_role("button", name="Create my account").click()
    await page.wait_for_load_state()
    return page


async def test_the_desk_from_invitation_to_a_released_decision(
    clean_db, live_server_with_mail, browser, tmp_path
):
    base = live_server_with_mail
    await make_staff(
        clean_db, email="admin@desk.example", name="Ada Admin", roles=("admin",), password=PASSWORD
    )

    # The admin invites an editor and a fact-checker.
    admin = await (await browser.new_context()).new_page()
    await log_in(admin, base, "admin@desk.example", PASSWORD)
    for email, name, role in (
        ("nina@desk.example", "Nina Editor", "Editor"),
        ("farid@desk.example", "Farid Checker", "Fact-checker"),
    ):
        await admin.goto(base + "/admin/users")
        await admin.get_by_label("Email").fill(email)
        await admin.get_by_label("Name", exact=True).fill(name)
        await admin.get_by_label("Editor").set_checked(role == "Editor")
        await admin.get_by_label("Fact-checker").set_checked(role == "Fact-checker")
        await admin.get_by_role("button", name="Send the invitation").click()
        await admin.locator("#notice").wait_for()
    await shot(admin, "staff-01-invitations-sent")
    await admin.goto(base + "/api/v1/docs")
    await shot(admin, "staff-01-api-reference")
    editor = await join(browser, base, "nina@desk.example", "Nina Editor", "staff-02-editor")
    assert editor.url.endswith("/dashboard")
    checker = await join(browser, base, "farid@desk.example", "Farid Checker", "staff-03-checker")
    assert checker.url.endswith("/tasks")

    # An applicant applies with a file, a link and pasted text; the confirmation arrives.
    applicant = await (await browser.new_context()).new_page()
    article = (SAMPLES / "work-sample-news.txt").read_text(encoding="utf-8")
    pdf = tmp_path / "karabakh.pdf"
    pdf.write_bytes(make_pdf("Putin and Erdogan on Karabakh", article))
    await applicant.goto(base + "/apply")
    await applicant.get_by_label("Full name").fill("Leyla Mammadova")
    await applicant.get_by_label("Email").fill("leyla@applicant.example")
    await applicant.get_by_label("Country").fill("Azerbaijan")
    await applicant.get_by_label("News").check()
    await applicant.get_by_label("Politics").check()
    await applicant.get_by_label("Cover letter").fill(
        "I analyse regional politics and check every claim I write."
    )
    await applicant.get_by_label("Experience").fill("Four years at a regional daily.")
    await applicant.get_by_label("Availability").fill("Two pieces a week")
    await applicant.locator("#sample-0-title").fill("The call, pasted")
    await applicant.locator("#sample-0-text").fill(article)
    await applicant.get_by_text("Add sample 2").click()
    await applicant.locator("#sample-1-title").fill("The call, as PDF")
    await applicant.locator("#sample-1-file").set_input_files(str(pdf))
    await applicant.get_by_text("Add sample 3").click()
    await applicant.locator("#sample-2-title").fill("Portfolio")
    await applicant.locator("#sample-2-url").fill("https://portfolio.example/leyla")
    await applicant.get_by_label("I agree").check()
    await applicant.get_by_role("button", name="Send my application").click()
    await applicant.get_by_role("heading", name="Thank you, Leyla Mammadova").wait_for()
    status_url = await applicant.locator("#status-link").get_attribute("href")
    confirmation = await open_mail(applicant, base, "leyla@applicant.example", "received")
    assert "/status/" in confirmation
    await shot(applicant, "applicant-10-confirmation-in-the-mail-catcher")
    await applicant.goto(base + "/mail-catcher")
    await shot(applicant, "applicant-10-mail-catcher")

    # The editor finds it in the queue and asks a question.
    await editor.goto(base + "/dashboard")
    await editor.get_by_role("link", name="Leyla Mammadova").click()
    await editor.get_by_role("button", name="Start screening").click()
    await editor.locator("#state", has_text="Screening").wait_for()
    await editor.locator("summary", has_text="Request information").click()
    await editor.locator("#message-info_requested").fill("Which sources did you use for the call?")
    await editor.locator("#moves").get_by_role("button", name="Request information").click()
    await editor.locator("#state", has_text="Info requested").wait_for()
    await shot(editor, "staff-04-information-requested")

    # The applicant reads the question in the mail and answers on the status page.
    question = await open_mail(applicant, base, "leyla@applicant.example", "question")
    assert "Which sources" in question
    await applicant.goto(base + status_url if status_url.startswith("/") else status_url)
    await applicant.get_by_label("Your answer").fill("The Anadolu agency and the Kremlin's readout.")
    await applicant.get_by_role("button", name="Send my answer").click()
    await applicant.get_by_text("The Anadolu agency").first.wait_for()
    await shot(applicant, "applicant-11-answered")

    # The editor picks a claim from the sample's sentences for the fact-checker, then sends it to fact check.
    await editor.reload()
    await editor.locator("#state", has_text="Screening").wait_for()
    await editor.get_by_role("link", name="Pick claims from this sample for a fact check").first.click()
    await editor.get_by_label(NEWS_SENTENCE).check()
    await editor.get_by_label("Fact-checker").select_option(label="Farid Checker (0)")
    await shot(editor, "staff-05-task-from-sentences")
    await editor.get_by_role("button", name="Create the task").click()
    await editor.locator("#task-progress").wait_for()
    await editor.locator("summary", has_text="Send to fact check").click()
    await editor.locator("#moves").get_by_role("button", name="Send to fact check").click()
    await editor.locator("#state", has_text="Fact check").wait_for()

    # The fact-checker is told, verifies the claim and completes the task.
    task_mail = await open_mail(checker, base, "farid@desk.example", "Fact-check task")
    await checker.goto(link_in(task_mail, base, "/tasks/"))
    await checker.locator("#mark-1").wait_for()
    await checker.get_by_label("Accurate").first.check()
    await checker.get_by_label("Sources for claim 1").fill(
        "https://www.aa.com.tr/en/turkey/erdogan-putin-call"
    )
    await checker.get_by_label("Overall verdict").select_option("accurate")
    await checker.get_by_label("Summary for the editor").fill("The date and the call check out.")
    await shot(checker, "staff-06-verdicts")
    await checker.get_by_role("button", name="Complete the task").click()
    await checker.locator("#notice").wait_for()
    done = await open_mail(editor, base, "nina@desk.example", "Fact check done")
    assert "Overall verdict: accurate" in done

    # The editor accepts; the decision waits in the outbox until released; the applicant receives it.
    await editor.goto(base + "/dashboard?state=fact_check")
    await editor.get_by_role("link", name="Leyla Mammadova").click()
    await editor.locator("summary", has_text="Accept").click()
    await editor.locator("#moves").get_by_role("button", name="Accept").click()
    await editor.locator("#state", has_text="Accepted").wait_for()
    await editor.goto(base + "/outbox?status=held")
    await shot(editor, "staff-07-held-in-the-outbox")
    await editor.locator("#outbox tbody a").first.click()
    await editor.locator("#mail-text").wait_for()
    await shot(editor, "staff-08-held-decision")
    await editor.goto(base + "/outbox?status=held")
    await editor.get_by_role("checkbox").first.check()
    await editor.get_by_label("With the ticked messages").select_option("release")
    await editor.get_by_role("button", name="Apply to ticked messages").click()
    await shot(editor, "staff-09-decision-released")
    decision = await open_mail(applicant, base, "leyla@applicant.example", "Your application to")
    assert "Leyla" in decision
    await shot(applicant, "applicant-12-decision-received")
