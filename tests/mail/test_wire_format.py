"""The bytes a message goes out as (app/mail/render.py `encode`): they parse back with the right headers and
parts, in 8bit where the relay announces 8BITMIME and in 7-bit ASCII where it does not, every line within
998 octets."""

from __future__ import annotations

import email
import email.policy
import email.utils
from email.message import EmailMessage

import pytest

from app.core.outbound import enqueue
from app.mail.render import Parts, compose, encode
from app.models import EmailStatus, OutboxEmail
from tests.mail.support import mail_settings, until, worker_running
from tests.queries import outbox

RUSSIAN_NAME = "Ольга Редактор"


def russian_row(**fields: object) -> OutboxEmail:
    values: dict[str, object] = {
        "recipient": "olga@desk.example",
        "recipient_name": "Ольга «Оля» Петрова, отдел новостей",
        "is_staff": True,
        "template": "staff_task_cancelled",
        "context": {
            "task_url": "https://desk.example/tasks/7",
            "editor_name": RUSSIAN_NAME,
            "reason": "Дубль",
        },
        "message_id": "<wire-7@meridian.example>",
        "dedupe_key": "wire:7",
        "locale": "ru",
        "time_zone": "Europe/Moscow",
    }
    values.update(fields)
    return OutboxEmail(**values)


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def lines_within_998(data: bytes) -> bool:
    return max(len(line) for line in data.split(b"\n")) <= 998


def check_message(data: bytes, parts: Parts) -> EmailMessage:
    """The message carries every header and both parts as composed, in UTF-8."""
    message = parsed(data)
    assert message.get_content_type() == "multipart/alternative"
    assert message["From"].addresses[0].addr_spec == parts.sender
    assert message["From"].addresses[0].display_name == parts.sender_name
    assert message["To"].addresses[0].addr_spec == parts.recipient
    assert message["To"].addresses[0].display_name == parts.recipient_name
    assert str(message["Subject"]) == parts.subject
    assert message["Message-ID"] == parts.message_id
    assert email.utils.parsedate_to_datetime(str(message["Date"])) is not None
    for name, value in parts.headers:
        assert str(message[name]) == value
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert text.get_content() == parts.text
    assert html.get_content() == parts.html
    assert lines_within_998(data)
    head = data.split(b"\n\n", 1)[0].decode("ascii")
    subject = head[head.index("\nSubject:") + 1 :].split("\nMessage-ID:")[0]
    assert all(len(line) <= 78 for line in subject.split("\n"))
    return message


@pytest.mark.parametrize("eight_bit", [True, False], ids=["8BITMIME", "7-bit"])
def test_a_russian_message_parses_back_whole(settings, eight_bit):
    parts = compose(russian_row(), settings, unsubscribe_url="https://desk.example/unsubscribe/abc")
    assert not parts.subject.isascii() and RUSSIAN_NAME in parts.text
    built = encode(parts, eight_bit=eight_bit)
    message = check_message(built.data, parts)
    assert message["List-Unsubscribe"] == "<https://desk.example/unsubscribe/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    encodings = {part["Content-Transfer-Encoding"] for part in message.iter_parts()}
    assert built.eight_bit is eight_bit
    if eight_bit:
        assert encodings == {"8bit"}
        assert RUSSIAN_NAME.encode() in built.data
    else:
        assert encodings == {"base64"}
        assert built.data.isascii()


def test_an_english_message_is_plain_7bit_and_needs_no_8bitmime(settings):
    parts = compose(
        russian_row(
            locale="en",
            recipient_name="Ana Ribeiro",
            context={"task_url": "https://desk.example/tasks/8", "editor_name": "Eda Editor", "reason": ""},
        ),
        settings,
    )
    built = encode(parts, eight_bit=True)
    message = check_message(built.data, parts)
    assert message.get_body(("plain",))["Content-Transfer-Encoding"] == "7bit"
    assert "List-Unsubscribe" not in message


def base_parts(**fields: object) -> Parts:
    values: dict[str, object] = {
        "sender_name": "The Meridian, contributor desk",
        "sender": "desk@meridian.example",
        "recipient_name": 'Jane "JD" Doe (fact-checks)',
        "recipient": "jane@desk.example",
        "subject": "A subject",
        "text": "Text.\n",
        "html": "<p>HTML</p>\n",
        "message_id": "<parts-1@meridian.example>",
        "headers": (),
    }
    values.update(fields)
    return Parts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "subject",
    [
        "word " * 60,
        "x" * 400,
        "Заявка " * 40 + "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🙂 " * 10,
        "Ünïcödé and ASCII, mixed: " + "é" * 200,
    ],
    ids=["long-ascii", "one-long-word", "long-russian", "long-accented"],
)
@pytest.mark.parametrize("eight_bit", [True, False])
def test_long_subjects_and_names_fold_and_decode_to_what_was_written(subject, eight_bit):
    parts = base_parts(subject=" ".join(subject.split()), recipient_name="Длинное Имя " * 20)
    check_message(encode(parts, eight_bit=eight_bit).data, parts)


@pytest.mark.parametrize("eight_bit", [True, False])
def test_a_body_line_longer_than_998_octets_goes_as_base64(eight_bit):
    parts = base_parts(text="short line\n" + "ж" * 600 + "\nend\n", html="<p>" + "a" * 1200 + "</p>\n")
    built = encode(parts, eight_bit=eight_bit)
    message = check_message(built.data, parts)
    assert {part["Content-Transfer-Encoding"] for part in message.iter_parts()} == {"base64"}


def test_carriage_returns_and_lines_starting_with_a_dot_survive():
    parts = base_parts(text="one\r\ntwo\r\n", html=".starts with a dot\n..two dots\n")
    message = check_message(encode(parts, eight_bit=True).data, parts)
    assert message.get_body(("plain",))["Content-Transfer-Encoding"] == "base64"


async def test_a_relay_without_8bitmime_gets_seven_bit_mail_and_one_with_it_gets_8bit(db, settings, relay):
    for announced in (False, True):
        relay.eight_bit_mime = announced
        async with db.write_session() as session:
            await enqueue(
                session,
                settings=settings,
                template="staff_task_cancelled",
                recipient=f"olga{int(announced)}@desk.example",
                recipient_name="Ольга Петрова",
                dedupe_key=f"wire:{announced}",
                context={
                    "task_url": "https://desk.example/tasks/1",
                    "editor_name": RUSSIAN_NAME,
                    "reason": "",
                },
                locale="ru",
            )
        async with worker_running(db, mail_settings(settings, relay)):
            await until(lambda: _all_sent(db))
    first, second = relay.wait_for(2)
    assert first.raw.isascii() and "BODY=8BITMIME" not in first.mail_options
    assert RUSSIAN_NAME.encode() in second.raw and "BODY=8BITMIME" in second.mail_options
    for received in (first, second):
        message = parsed(received.raw)
        assert str(message["To"].addresses[0].display_name) == "Ольга Петрова"
        assert not received.subject.isascii()
        assert RUSSIAN_NAME in message.get_body(("plain",)).get_content()
        assert RUSSIAN_NAME in message.get_body(("html",)).get_content()
        assert lines_within_998(received.raw)


async def _all_sent(db) -> bool:
    return all(row.status == EmailStatus.sent for row in await outbox(db))
