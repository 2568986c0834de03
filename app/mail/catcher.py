"""The local mail catcher: an SMTP server on 127.0.0.1 that keeps every message it is given, for reading
in the browser at /mail-catcher when Byline runs on one machine with no mail server (`make run`).

Never in production: the settings refuse it there.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from app.core import links
from app.settings import Settings

log = logging.getLogger("byline.mail")
MAX_LISTED = 300
NAME_LENGTH = 31  # yyyymmddThhmmss-ffffff-<8 hex>


class _Keeper:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S-%f")
        target = self.folder / f"{stamp}-{secrets.token_hex(4)}.eml"
        data = envelope.original_content or envelope.content
        raw = data if isinstance(data, bytes) else str(data).encode()
        await asyncio.to_thread(target.write_bytes, raw)
        return "250 Message kept"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[None]:
    """The catcher while the block runs, when the settings turn it on (the web process of `make run`)."""
    if not settings.mail_catcher:
        yield
        return
    server = await start(settings)
    log.info(
        "mail catcher on 127.0.0.1:%s; read the mail at %s",
        settings.mail_catcher_port,
        links.absolute(settings, "mail_catcher"),
    )
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


async def start(settings: Settings) -> asyncio.Server:
    """Listen on 127.0.0.1:`mail_catcher_port`; messages land in var/mail-catcher/."""
    folder = settings.mail_catcher_dir
    folder.mkdir(parents=True, exist_ok=True)
    keeper = _Keeper(folder)
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(keeper, hostname="byline-mail-catcher", ident="Byline mail catcher"),
        host="127.0.0.1",
        port=settings.mail_catcher_port,
    )


@dataclass(frozen=True)
class Caught:
    id: str
    received: datetime
    sender: str
    to: str
    subject: str


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _received(name: str) -> datetime:
    return datetime.strptime(name[:22], "%Y%m%dT%H%M%S-%f").replace(tzinfo=UTC)


def listing(settings: Settings, *, to: str = "") -> list[Caught]:
    """The newest caught messages first, optionally only those to an address containing `to`."""
    folder = settings.mail_catcher_dir
    if not folder.is_dir():
        return []
    found: list[Caught] = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = _parse(path)
        recipient = str(message.get("To", ""))
        if to and to.lower() not in recipient.lower():
            continue
        found.append(
            Caught(
                path.stem,
                _received(path.stem),
                str(message.get("From", "")),
                recipient,
                str(message.get("Subject", "")),
            )
        )
        if len(found) >= MAX_LISTED:
            break
    return found


def valid_id(message_id: str) -> bool:
    return len(message_id) == NAME_LENGTH and all(c.isalnum() or c in "T-" for c in message_id)


def read(settings: Settings, message_id: str) -> dict[str, Any] | None:
    """One caught message: its headers, text part and HTML part; None when there is no such message."""
    if not valid_id(message_id):
        return None
    path = settings.mail_catcher_dir / f"{message_id}.eml"
    if not path.is_file():
        return None
    message = _parse(path)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return {
        "id": message_id,
        "received": _received(message_id),
        "headers": [(name, str(value)) for name, value in message.items()],
        "subject": str(message.get("Subject", "")),
        "text": text.get_content() if text is not None else "",
        "html": html.get_content() if html is not None else "",
    }
