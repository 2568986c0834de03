"""Building the email for an outbox row: subject, text and HTML parts from `templates/email/`, and headers."""

from __future__ import annotations

import base64
import email
import email.policy
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.core import i18n
from app.core.i18n import N_
from app.core.text import strip_bidi
from app.core.web import TEMPLATES_DIR
from app.mail import unsubscribe
from app.models import OutboxEmail
from app.settings import Settings


class RenderError(Exception):
    """The row cannot become a message (a broken template, a bad address); permanent for that row."""


# Fact-check verdicts as a message names them (the values are the stored ones).
VERDICTS = {
    "accurate": N_("accurate"),
    "inaccurate": N_("inaccurate"),
    "misleading": N_("misleading"),
    "unverifiable": N_("unverifiable"),
}


def _translate(value: str) -> str:
    """A text marked for the catalog where it was written (a status label), in the message's language."""
    return i18n.gettext(str(value)) if value else ""


def _verdict(value: str) -> str:
    return i18n.gettext(VERDICTS[value]) if value in VERDICTS else str(value)


def _moment(value: datetime | str | None) -> datetime | str | None:
    """A time kept in a row's context as ISO text, read back; other text (older rows) stays as it is."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _datetime(value: datetime | str | None) -> str:
    moment = _moment(value)
    return i18n.format_datetime(moment) if isinstance(moment, datetime) else str(moment or "")


def _date(value: datetime | str | None) -> str:
    if isinstance(value, str) and len(value) == len("2026-12-07"):
        try:
            return i18n.format_date(date.fromisoformat(value))
        except ValueError:
            return value
    moment = _moment(value)
    return i18n.format_date(moment) if isinstance(moment, datetime) else str(moment or "")


@lru_cache(maxsize=2)
def environment(reload: bool = False) -> Environment:
    """Jinja for mail: HTML parts escaped, text parts as written; a missing variable is an error.

    Texts are translated into the language of the `i18n.use_locale` block the message is rendered in.
    `reload`: a template edited on disk is read again (development); otherwise each template is read and
    compiled once per process, with no look at the file per message.
    """
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        auto_reload=reload,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.raw_gettext, i18n.raw_ngettext, newstyle=True, pgettext=i18n.raw_pgettext
    )
    env.filters.update(
        datetime=_datetime,
        date=_date,
        format_datetime=_datetime,
        format_date=_date,
        format_number=i18n.format_number,
        translate=_translate,
        verdict=_verdict,
    )
    env.globals.update(current_locale=i18n.current_locale)
    return env


def _address(display: str, address: str) -> tuple[str, str]:
    """A display name and address, checked: one address, no line breaks (docs/security.md D6)."""
    if any(ch in display + address for ch in "\r\n"):
        raise RenderError("line break in an address")
    name, addr = parseaddr(address)
    user, _, domain = addr.rpartition("@")
    if not user or not domain or addr != address.strip() or any(c in addr for c in ' ,;<>"()'):
        raise RenderError(f"not an email address: {address!r}")
    try:
        Address(display_name=display or name, username=user, domain=domain)
    except (ValueError, IndexError) as exc:
        raise RenderError(f"not an email address: {address!r}") from exc
    return display or name, addr


@dataclass(frozen=True)
class Built:
    """A message ready for the wire: the envelope and the bytes; `eight_bit`: a body is 8bit (8BITMIME)."""

    sender: str
    recipients: list[str]
    data: bytes
    eight_bit: bool = False


@dataclass(frozen=True)
class Parts:
    """What a message says, before it is encoded: addresses, subject, the two bodies, the extra headers."""

    sender_name: str
    sender: str
    recipient_name: str
    recipient: str
    subject: str
    text: str
    html: str
    message_id: str
    headers: tuple[tuple[str, str], ...]


@lru_cache(maxsize=8)
def _sender(mail_from: str) -> tuple[str, str]:
    return _address(*parseaddr(mail_from))


def compose(row: OutboxEmail, settings: Settings, *, unsubscribe_url: str | None = None) -> Parts:
    """The parts of the message for `row`; RenderError when it cannot be built.

    Staff notifications that can be turned off carry List-Unsubscribe (and its one-click POST form).
    """
    if unsubscribe_url is None:
        unsubscribe_url = unsubscribe.link(row, settings)
    env = environment(settings.env == "dev")
    context: dict[str, Any] = {
        "publication_name": settings.publication_name,
        "status_url": "",
        "unsubscribe_url": unsubscribe_url,
        **row.context,
    }
    try:
        with i18n.use_locale(row.locale, row.time_zone):
            text_template = env.get_template(f"email/{row.template}.txt")
            subject = strip_bidi("".join(text_template.blocks["subject"](text_template.new_context(context))))
            subject = " ".join(subject.split())
            text = text_template.render(context)
            html = env.get_template(f"email/{row.template}.html").render({**context, "subject": subject})
    except Exception as exc:
        raise RenderError(f"template {row.template!r} failed: {type(exc).__name__}: {exc}") from exc
    sender_name, sender = _sender(settings.mail_from)
    # Names typed before they were cleaned on input could still reorder a subject or a display name.
    recipient_name, recipient = _address(strip_bidi(row.recipient_name), row.recipient)
    headers: list[tuple[str, str]] = []
    if unsubscribe_url:
        headers.append(("List-Unsubscribe", f"<{unsubscribe_url}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    if row.is_staff:
        headers.append(("Auto-Submitted", "auto-generated"))
    return Parts(
        sender_name, sender, recipient_name, recipient, subject, text, html, row.message_id, tuple(headers)
    )


def build(
    row: OutboxEmail, settings: Settings, *, unsubscribe_url: str | None = None, eight_bit: bool = False
) -> Built:
    """The message for `row`, with its fixed Message-ID, as bytes for the wire; RenderError when it cannot be
    built. `eight_bit`: the server takes 8bit bodies (it announced 8BITMIME)."""
    return encode(compose(row, settings, unsubscribe_url=unsubscribe_url), eight_bit=eight_bit)


# The longest line SMTP carries is 998 octets and a line break (RFC 5321 4.5.3.1.6); headers fold at 78.
MAX_LINE = 998
FOLD = 78
# An encoded word holds at most 39 octets of UTF-8: "=?utf-8?b?" + 52 base64 characters + "?=" is 64 of the
# 75 allowed, so "Subject: " and the first word stay within 78.
WORD_OCTETS = 39


def _encoded_words(value: str) -> list[str]:
    """`value` as RFC 2047 encoded words in base64, each holding whole characters."""
    words: list[bytes] = []
    chunk: list[bytes] = []
    size = 0
    for char in value:
        octets = char.encode()
        if size + len(octets) > WORD_OCTETS:
            words.append(b"".join(chunk))
            chunk, size = [], 0
        chunk.append(octets)
        size += len(octets)
    if chunk:
        words.append(b"".join(chunk))
    return [f"=?utf-8?b?{base64.b64encode(word).decode()}?=" for word in words]


def _unstructured(name: str, value: str) -> str:
    """A header of free text (the subject), folded at spaces; encoded words when it is not ASCII or a word
    is too long to fold."""
    line = f"{name}: {value}"
    if value.isascii() and len(line) <= FOLD:
        return line
    words = value.split(" ")
    if value.isascii() and all(len(word) < FOLD - 1 for word in words):
        lines, current = [], f"{name}:"
        for word in words:
            if len(current) + 1 + len(word) > FOLD and current != f"{name}:":
                lines.append(current)
                current = ""
            current += " " + word
        lines.append(current)
        return "\n".join(lines)
    return f"{name}: " + "\n ".join(_encoded_words(value))


def _mailbox(name: str, display: str, address: str) -> str:
    """An address header: the display name plain (quoted where needed) when ASCII, otherwise one encoded word
    (as the compat32 classes write it: decoders, Python's among them, put a space where a phrase's encoded
    words meet), and the address on a line of its own when the line would be long."""
    if not display:
        return f"{name}: {address}"
    if display.isascii():
        phrase, angle = formataddr((display, address)).rsplit(" <", 1)
        first, angle = f"{name}: {phrase}", "<" + angle
    else:
        word = f"=?utf-8?b?{base64.b64encode(display.encode()).decode()}?="
        if len(name) + 2 + len(word) > MAX_LINE:
            word = "\n ".join(_encoded_words(display))
        first, angle = f"{name}: {word}", f"<{address}>"
    last = first.rsplit("\n", 1)[-1]
    return first + (" " if len(last) + 1 + len(angle) <= FOLD else "\n ") + angle


def _plain_header(name: str, value: str) -> bool:
    """A header written as it is (a link, a keyword): ASCII, one line of at most 998 octets."""
    return (
        value.isascii() and "\r" not in value and "\n" not in value and len(name) + 2 + len(value) <= MAX_LINE
    )


def _body(content: str, eight_bit: bool) -> tuple[str, bytes]:
    """A text part's transfer encoding and bytes: 7bit or 8bit as written when every line fits (8bit only
    where the server takes it), base64 otherwise (long lines, carriage returns, NUL)."""
    data = content.encode()
    if "\r" not in content and "\0" not in content and (eight_bit or content.isascii()):
        if len(data) <= MAX_LINE or max(map(len, data.split(b"\n"))) <= MAX_LINE:
            return ("7bit" if content.isascii() else "8bit"), data
    return "base64", base64.encodebytes(data)


def encode(parts: Parts, *, eight_bit: bool = False) -> Built:
    """The MIME bytes of `parts`: multipart/alternative, the text part then the HTML part, in UTF-8.

    Written out directly rather than through the email package's generator (which costs more than the rest
    of sending a message). Addresses outside ASCII, and headers that are not one plain ASCII line, take the
    compat32 classes (`encode_compat32`).
    """
    if not (
        parts.sender.isascii()
        and parts.recipient.isascii()
        and _plain_header("Message-ID", parts.message_id)
        and all(_plain_header(name, value) for name, value in parts.headers)
    ):
        return encode_compat32(parts)
    text_encoding, text = _body(parts.text, eight_bit)
    html_encoding, html = _body(parts.html, eight_bit)
    boundary = f"=_{secrets.token_hex(16)}"
    while boundary.encode() in text or boundary.encode() in html:  # pragma: no cover - 128 random bits
        boundary = f"=_{secrets.token_hex(16)}"
    headers = [
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "MIME-Version: 1.0",
        _mailbox("From", parts.sender_name, parts.sender),
        _mailbox("To", parts.recipient_name, parts.recipient),
        _unstructured("Subject", parts.subject),
        f"Message-ID: {parts.message_id}",
        f"Date: {formatdate(localtime=False)}",
        *(f"{name}: {value}" for name, value in parts.headers),
    ]
    head = "\n".join(headers)
    data = b"".join(
        (
            head.encode(),
            f'\n\n--{boundary}\nContent-Type: text/plain; charset="utf-8"\n'
            f"Content-Transfer-Encoding: {text_encoding}\n\n".encode(),
            text,
            f'\n--{boundary}\nContent-Type: text/html; charset="utf-8"\n'
            f"Content-Transfer-Encoding: {html_encoding}\n\n".encode(),
            html,
            f"\n--{boundary}--\n".encode(),
        )
    )
    return Built(parts.sender, [parts.recipient], data, "8bit" in (text_encoding, html_encoding))


def encode_compat32(parts: Parts) -> Built:
    """The MIME bytes of `parts` by the email package's compat32 classes (bodies in base64)."""
    message = MIMEMultipart("alternative")
    message["From"] = formataddr((parts.sender_name, parts.sender), "utf-8")
    message["To"] = formataddr((parts.recipient_name, parts.recipient), "utf-8")
    subject = parts.subject
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]
    message["Message-ID"] = parts.message_id
    message["Date"] = formatdate(localtime=False)
    for name, value in parts.headers:
        message[name] = value
    message.attach(MIMEText(parts.text, "plain", "utf-8"))
    message.attach(MIMEText(parts.html, "html", "utf-8"))
    return Built(parts.sender, [parts.recipient], message.as_bytes())


def render(row: OutboxEmail, settings: Settings, *, unsubscribe_url: str | None = None) -> EmailMessage:
    """The message for `row` as an EmailMessage, for pages and checks (the worker sends `build`'s bytes)."""
    built = build(row, settings, unsubscribe_url=unsubscribe_url, eight_bit=True)
    message = email.message_from_bytes(built.data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message
