"""The SMTP relay: persistent aiosmtplib connections, and what each failure means (docs/email.md)."""

from __future__ import annotations

import asyncio
import enum
import ssl
from dataclasses import dataclass

import aiosmtplib

from app.mail.render import Built, Parts, encode
from app.settings import Settings


class Verdict(enum.Enum):
    transient = "transient"  # try again later: connection trouble, timeouts, 4xx
    permanent = "permanent"  # the relay refused this message for good: 5xx
    pause = "pause"  # the relay refuses us: authentication (535) or TLS; every message waits


@dataclass(frozen=True)
class Failure(Exception):
    verdict: Verdict
    reason: str

    def __str__(self) -> str:
        return self.reason


def classify(exc: BaseException) -> Failure:
    """What a failed send means for the message and the queue."""
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError) or (
        isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 535
    ):
        return Failure(Verdict.pause, f"authentication refused: {exc}")
    if isinstance(exc, ssl.SSLError | aiosmtplib.SMTPNotSupported):
        return Failure(Verdict.pause, f"TLS failed: {exc}")
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [error.code for error in exc.recipients]
        permanent = all(500 <= code < 600 for code in codes)
        return Failure(Verdict.permanent if permanent else Verdict.transient, f"recipient refused: {exc}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        verdict = Verdict.permanent if 500 <= exc.code < 600 else Verdict.transient
        return Failure(verdict, f"{exc.code} {exc.message}")
    # Timeouts, refused or dropped connections, anything else on the wire: try again later.
    return Failure(Verdict.transient, f"{type(exc).__name__}: {exc}")


async def _transaction(smtp: aiosmtplib.SMTP, message: Built) -> None:
    """MAIL, RCPT and DATA for one message, failing as aiosmtplib's `sendmail` does (the same exceptions),
    without its parsing of every address on every message: render.py's `_address` has checked both (one
    address each, no space, bracket, comma or line break); one outside ASCII fails here as it did there."""
    options = [b"BODY=8BITMIME"] if message.eight_bit else []
    sender = message.sender.encode("ascii")
    response = await smtp.execute_command(b"MAIL", b"FROM:<" + sender + b">", *options)
    if response.code != 250:
        raise aiosmtplib.SMTPSenderRefused(response.code, response.message, message.sender)
    refused = []
    for recipient in message.recipients:
        response = await smtp.execute_command(b"RCPT", b"TO:<" + recipient.encode("ascii") + b">")
        if response.code not in (250, 251):
            refused.append(aiosmtplib.SMTPRecipientRefused(response.code, response.message, recipient))
    if len(refused) == len(message.recipients):
        raise aiosmtplib.SMTPRecipientsRefused(refused)
    await smtp.data(message.data)


class Connection:
    """One SMTP connection, opened on first use and kept open for the next message."""

    def __init__(self, settings: Settings, host: str, port: int, security: str) -> None:
        self.settings = settings
        self.host, self.port, self.security = host, port, security
        self._smtp: aiosmtplib.SMTP | None = None

    async def _open(self) -> aiosmtplib.SMTP:
        settings = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",
            timeout=settings.smtp_timeout_seconds,
            username=settings.smtp_username or None,
            password=settings.smtp_password.get_secret_value() or None,
        )
        await smtp.connect()
        try:
            if smtp.is_ehlo_or_helo_needed:  # now, so that what the server takes (8BITMIME) is known
                try:
                    await smtp.ehlo()
                except aiosmtplib.SMTPHeloError:
                    await smtp.helo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    async def send(self, message: Built | Parts) -> None:
        """Send one message; a Failure says why it did not go.

        Parts are encoded for this server: bodies in 8bit where it announced 8BITMIME, in base64 otherwise.
        """
        try:
            if self._smtp is None or not self._smtp.is_connected:
                self._smtp = await self._open()
            smtp = self._smtp
        except asyncio.CancelledError:
            await self.close()
            raise
        except Exception as exc:
            await self.close()
            raise classify(exc) from exc
        if isinstance(message, Parts):
            message = encode(message, eight_bit=smtp.supports_extension("8bitmime"))
        try:
            await _transaction(smtp, message)
        except asyncio.CancelledError:
            await self.close()
            raise
        except Exception as exc:
            await self.close()
            raise classify(exc) from exc

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except Exception:  # the connection is going away anyway
                smtp.close()
