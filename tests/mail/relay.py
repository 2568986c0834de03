"""A real SMTP server on 127.0.0.1 (aiosmtpd) that tests steer: reply codes, a hang in DATA, refused logins,
whether it announces 8BITMIME."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, Session

from tests.environment import free_port


@dataclass
class Received:
    message_id: str
    to: list[str]
    subject: str
    raw: bytes
    mail_options: list[str] = field(default_factory=list)


@dataclass
class Relay:
    """What the server does next: `replies` are answered to DATA in turn (then 250); `hang` holds DATA;
    `eight_bit_mime`: whether EHLO announces 8BITMIME."""

    port: int = field(default_factory=free_port)
    replies: list[str] = field(default_factory=list)
    always: str | None = None
    hang: bool = False
    refuse_login: bool = False
    delay: float = 0.0
    on_accept: Callable[[Received], None] | None = None
    eight_bit_mime: bool = True
    received: list[Received] = field(default_factory=list)
    data_commands: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    async def handle_EHLO(
        self, server: SMTPServer, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [line for line in responses if self.eight_bit_mime or line != "250-8BITMIME"]

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.data_commands += 1
        if self.hang:
            await asyncio.sleep(3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            reply = self.replies.pop(0) if self.replies else self.always
        if reply and not reply.startswith("250"):
            return reply
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        got = Received(
            str(parsed["Message-ID"]),
            list(envelope.rcpt_tos),
            str(parsed["Subject"]),
            raw,
            list(envelope.mail_options),
        )
        with self._lock:
            self.received.append(got)
        if self.on_accept:
            self.on_accept(got)
        return "250 OK"

    def _authenticate(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        return AuthResult(success=not self.refuse_login, handled=False)

    def start(self) -> Relay:
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
            auth_required=False,
            ready_timeout=10,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def ids(self) -> list[str]:
        with self._lock:
            return [r.message_id for r in self.received]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"the relay got {len(self.received)} of {count} messages")
