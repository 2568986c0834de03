"""Messages built from outbox rows: every template, headers, escaping (docs/security.md D2, D6)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.demo import load_demo
from app.mail.render import RenderError, render
from app.models import OutboxEmail
from tests.factories import make_staff, post_application, valid_fields


async def test_every_queued_demo_message_renders_with_its_message_id(db, settings):
    async with db.write_session() as session:
        await load_demo(session, settings=settings)
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(OutboxEmail))).all()
    assert {row.template for row in rows} >= {
        "applicant_received",
        "applicant_info_requested",
        "applicant_trial_offered",
        "applicant_decision",
        "applicant_withdrawn",
        "staff_new_application",
        "staff_task_assigned",
    }
    for row in rows:
        message = render(row, settings)
        assert message["Message-ID"] == row.message_id
        assert message["To"].addresses[0].addr_spec == row.recipient
        assert message["Subject"] and "{{" not in str(message)
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert settings.publication_name in text and "<html" in html
        if row.template.startswith("applicant_"):
            assert row.context["status_url"] in text


async def test_markup_in_a_name_is_escaped_in_html_and_kept_in_text(client, db, settings):
    response = await post_application(client, valid_fields(name="Ana <img src=x onerror=alert(1)> Ribeiro"))
    assert response.status_code == 303
    async with db.sessionmaker() as session:
        row = (
            await session.scalars(select(OutboxEmail).where(OutboxEmail.template == "applicant_received"))
        ).one()
    message = render(row, settings)
    assert "&lt;img src=x onerror=alert(1)&gt;" in message.get_body(("html",)).get_content()
    assert "<img src=x onerror=alert(1)>" in message.get_body(("plain",)).get_content()


async def test_a_line_break_in_a_recipient_cannot_add_headers(settings):
    row = OutboxEmail(
        recipient="ana@applicant.example\r\nBcc: everyone@example.com",
        recipient_name="Ana",
        template="applicant_withdrawn",
        context={"applicant_name": "Ana", "status_url": "x"},
        message_id="<1@x>",
        dedupe_key="k",
    )
    with pytest.raises(RenderError):
        render(row, settings)
    row.recipient, row.recipient_name = "ana@applicant.example", "Ana\nBcc: everyone@example.com"
    with pytest.raises(RenderError):
        render(row, settings)


async def test_a_broken_template_context_is_a_render_error(settings):
    row = OutboxEmail(
        recipient="ana@applicant.example",
        template="applicant_status",
        context={},
        message_id="<2@x>",
        dedupe_key="k2",
    )
    with pytest.raises(RenderError, match="applicant_status"):
        render(row, settings)


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


async def test_no_bidi_control_reaches_a_subject_and_names_are_isolated_in_html(client, db, settings):
    await make_staff(db, email="news.editor@desk.example", name="Eda Editor")
    response = await post_application(client, valid_fields(name="Ana \u202eoriebiR\u202c"))
    assert response.status_code == 303
    async with db.sessionmaker() as session:
        row = (
            await session.scalars(select(OutboxEmail).where(OutboxEmail.template == "staff_new_application"))
        ).one()
    message = render(row, settings)
    assert str(message["Subject"]) == "New application: Ana oriebiR"
    assert "<bdi>Ana oriebiR</bdi>" in message.get_body(("html",)).get_content()


async def test_a_name_stored_with_bidi_controls_is_cleaned_in_the_subject_and_display_name(settings):
    row = OutboxEmail(
        recipient="eda@desk.example",
        recipient_name="Eda \u202eEditor",
        template="staff_applicant_withdrew",
        context={"applicant_name": f"Ana {BIDI}Ribeiro", "message": "", "application_url": "x"},
        message_id="<3@x>",
        dedupe_key="k3",
    )
    message = render(row, settings)
    assert str(message["Subject"]) == "Ana Ribeiro withdrew their application"
    assert message["To"].addresses[0].display_name == "Eda Editor"
    assert not any(ch in str(message["Subject"]) for ch in BIDI)
