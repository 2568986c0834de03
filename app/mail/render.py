"""Building the email for an outbox row: subject, text and HTML parts from `templates/email/`, and headers."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.mail import unsubscribe
from app.models import OutboxEmail
from app.settings import Settings
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


def _address(display: str, address: str) -> Address:
    if any(ch in display + address for ch in "\r\n"):
        raise RenderError("line break in an address")
    name, addr = parseaddr(address)
    if "@" not in addr or addr != address.strip():
        raise RenderError(f"not an email address: {address!r}")
    user, _, domain = addr.rpartition("@")
    try:
        return Address(display_name=display or name, username=user, domain=domain)
    except (ValueError, IndexError) as exc:
        raise RenderError(f"not an email address: {address!r}") from exc


def render(row: OutboxEmail, settings: Settings, *, unsubscribe_url: str | None = None) -> EmailMessage:
    """The message for `row`, with its fixed Message-ID; RenderError when it cannot be built.

    Staff notifications that can be turned off carry List-Unsubscribe (and its one-click POST form).
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
        subject = "".join(text_template.blocks["subject"](text_template.new_context(context))).strip()
        text = text_template.render(context)
        html = env.get_template(f"email/{row.template}.html").render({**context, "subject": subject})
    except Exception as exc:
        raise RenderError(f"template {row.template!r} failed: {type(exc).__name__}: {exc}") from exc
    message = EmailMessage()
    from_name, from_addr = parseaddr(settings.mail_from)
    message["From"] = _address(from_name, from_addr)
    message["To"] = _address(row.recipient_name, row.recipient)
    message["Subject"] = " ".join(subject.split())
    message["Message-ID"] = row.message_id
    message["Date"] = formatdate(localtime=False)
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if row.is_staff:
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
