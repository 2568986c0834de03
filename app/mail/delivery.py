"""Sending one outbox message over SMTP: the mail channel of the outbound sender (app/core/outbound).

Each lane keeps its own persistent connection to the relay (`BYLINE_MAIL_CONNECTIONS` lanes). A message is
built from its row every time it is tried (its bodies in 8bit where the relay announced 8BITMIME), with the
Message-ID fixed when it was queued, so a copy sent again after a crash is recognisable (at least once).
What an SMTP failure means (retry, fail, pause the queue) is app/mail/smtp.py's `classify`; a message that
cannot be built fails at once.
"""

from __future__ import annotations

from app.core import i18n
from app.core.outbound import SENT, Channel, Outcome, Verdict
from app.mail.render import RenderError, compose
from app.mail.smtp import Connection, Failure
from app.mail.smtp import Verdict as SmtpVerdict
from app.models import OutboxEmail
from app.settings import Settings

# The site setting where a sender notes that mail is paused, until when and why (the outbox page shows it).
PAUSE_KEY = "mail_paused"

_VERDICTS = {
    SmtpVerdict.transient: Verdict.retry,
    SmtpVerdict.permanent: Verdict.failed,
    SmtpVerdict.pause: Verdict.pause,
}


class SmtpChannel(Channel[OutboxEmail]):
    name = "mail"
    item = "message"
    model = OutboxEmail
    pause_key = PAUSE_KEY

    def __init__(self, settings: Settings, target: tuple[str, int, str]) -> None:
        # Rows queued without a language (before it was recorded) are written in the site's.
        i18n.configure(settings.default_locale, settings.time_zone)
        self.settings = settings
        self.host, self.port, self.security = target
        self.lanes = settings.mail_connections
        self.pause_seconds = settings.mail_pause_seconds
        self.connections: list[Connection] = []

    async def open(self) -> None:
        self.connections = [
            Connection(self.settings, self.host, self.port, self.security) for _ in range(self.lanes)
        ]

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()

    async def send(self, row: OutboxEmail, lane: int) -> Outcome:
        try:
            message = compose(row, self.settings)
        except RenderError as exc:
            return Outcome(Verdict.failed, str(exc))
        try:
            await self.connections[lane].send(message)
        except Failure as failure:
            return Outcome(_VERDICTS[failure.verdict], failure.reason)
        return SENT


def smtp_channel(settings: Settings) -> SmtpChannel | None:
    """The channel to the relay (or the local mail catcher), or None when there is neither: mail waits."""
    target = settings.smtp_target
    return SmtpChannel(settings, target) if target is not None else None
