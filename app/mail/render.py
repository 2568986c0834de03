"""Building the email for an outbox row: subject, text and HTML parts from `templates/email/`, and headers."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.mail import unsubscribe
from app.models import OutboxEmail
from app.settings import Settings
from app.text import strip_bidi
from app.web import TEMPLATES_DIR


class RenderError(Exception):
    """The row cannot become a message (a broken template, a bad address); permanent for that row."""


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Jinja for mail: HTML parts escaped, text parts as written; a missing variable is an error."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _address(display: str, address: str) -> tuple[str, str]:
    """A display name and address, checked: one address, no line breaks (SECURITY.md D6)."""
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
    """A message ready for the wire: the envelope and the bytes."""

    sender: str
    recipients: list[str]
    data: bytes


def build(row: OutboxEmail, settings: Settings, *, unsubscribe_url: str | None = None) -> Built:
    """The message for `row`, with its fixed Message-ID; RenderError when it cannot be built.

    Staff notifications that can be turned off carry List-Unsubscribe (and its one-click POST form). The MIME
    structure is assembled with the email package's compat32 classes, three times quicker than EmailMessage.
    """
    if unsubscribe_url is None:
        unsubscribe_url = unsubscribe.link(row, settings)
    env = environment()
    context: dict[str, Any] = {
        "publication_name": settings.publication_name,
        "status_url": "",
        "unsubscribe_url": unsubscribe_url,
        **row.context,
    }
    try:
        text_template = env.get_template(f"email/{row.template}.txt")
        subject = strip_bidi("".join(text_template.blocks["subject"](text_template.new_context(context))))
        subject = " ".join(subject.split())
        text = text_template.render(context)
        html = env.get_template(f"email/{row.template}.html").render({**context, "subject": subject})
    except Exception as exc:
        raise RenderError(f"template {row.template!r} failed: {type(exc).__name__}: {exc}") from exc
    sender_name, sender = _address(*parseaddr(settings.mail_from))
    # Names typed before they were cleaned on input could still reorder a subject or a display name.
    recipient_name, recipient = _address(strip_bidi(row.recipient_name), row.recipient)
    message = MIMEMultipart("alternative")
    message["From"] = formataddr((sender_name, sender), "utf-8")
    message["To"] = formataddr((recipient_name, recipient), "utf-8")
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]
    message["Message-ID"] = row.message_id
    message["Date"] = formatdate(localtime=False)
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if row.is_staff:
        message["Auto-Submitted"] = "auto-generated"
    message.attach(MIMEText(text, "plain", "utf-8"))
    message.attach(MIMEText(html, "html", "utf-8"))
    return Built(sender, [recipient], message.as_bytes())


def render(row: OutboxEmail, settings: Settings, *, unsubscribe_url: str | None = None) -> EmailMessage:
    """The message for `row` as an EmailMessage, for pages and checks (the worker sends `build`'s bytes)."""
    built = build(row, settings, unsubscribe_url=unsubscribe_url)
    message = email.message_from_bytes(built.data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message
