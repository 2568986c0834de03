"""Spam defence for the public form: honeypot, signed render time and the per-IP / per-email limits."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import ratelimit
from app.core.errors import Invalid
from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.core.web import Signer, TokenExpired, TokenInvalid
from app.settings import Settings

FORM_SALT = "byline.apply-form"
# Stored with the application in English and shown to staff in their language.
TOKEN_FORGED = N_("form token missing or forged")
HONEYPOT_FILLED = N_("honeypot field filled")
TOO_FAST = N_("form sent faster than a person can fill it")
HONEYPOT_FIELD = "website"


def issue_form_token(settings: Settings) -> str:
    """A token carrying a one-time nonce and the time the form was rendered."""
    return Signer(settings, FORM_SALT).dumps(secrets.token_urlsafe(18))


@dataclass(frozen=True)
class Screening:
    """The spam verdict on one post and the key that makes a double submit one application."""

    spam_reason: str | None
    submission_key: str | None


def screen(*, honeypot: str, form_token: str, settings: Settings, now: datetime) -> Screening:
    """Judge a post; an expired form is the only outcome the person is told about."""
    try:
        nonce, signed_at = Signer(settings, FORM_SALT).loads(
            form_token, max_age=settings.spam_max_form_age_seconds
        )
    except TokenExpired:
        expired = _("This form was open for too long. Check your answers and send it again.")
        raise Invalid(expired, {"form": expired}) from None
    except TokenInvalid:
        return Screening(spam_reason=TOKEN_FORGED, submission_key=None)
    key = hashlib.sha256(str(nonce).encode()).hexdigest()[:40]
    if honeypot.strip():
        return Screening(spam_reason=HONEYPOT_FILLED, submission_key=key)
    if (now - signed_at).total_seconds() < settings.spam_min_form_seconds:
        return Screening(spam_reason=TOO_FAST, submission_key=key)
    return Screening(spam_reason=None, submission_key=key)


async def enforce_rate_limits(
    session: AsyncSession, *, settings: Settings, ip: str, email: str, now: datetime
) -> None:
    """Count this submission against its address and its email; RateLimited past either limit."""
    message = _(
        "We have received several applications from you in a short time. "
        "Please wait before sending another one; your earlier applications are safe."
    )
    await ratelimit.hit_all(
        session,
        [
            (
                ratelimit.bucket_key(settings, "apply-ip", ip),
                settings.rate_apply_per_ip,
                settings.rate_apply_per_ip_window_seconds,
            ),
            (
                ratelimit.bucket_key(settings, "apply-email", email),
                settings.rate_apply_per_email,
                settings.rate_apply_per_email_window_seconds,
            ),
        ],
        now=now,
        message=message,
    )
