"""The brief of a trial: the offer form read and checked, its template in the applicant's language, and how
the deadline, the time left and the fee are shown."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import format_currency
from litestar.datastructures import FormMultiDict

from app.core.forms import FormFields
from app.core.i18n import N_, current_locale, current_time_zone, ngettext, use_locale
from app.core.i18n import gettext as _
from app.core.limits import MESSAGE_LIMIT
from app.models import FeeKind, Trial

TEXT_LIMIT = 5000
MAX_WORDS = 20_000
# Fees are kept in minor units (kopecks, cents) in a 32-bit column: at most 1,000,000.00 of a currency.
MAX_FEE_MINOR = 100_000_000
CURRENCIES = ("RUB", "EUR", "USD", "GBP", "AZN", "KZT", "GEL", "AMD", "TRY")
FEE_KINDS = {
    FeeKind.flat: N_("Flat fee"),
    FeeKind.per_word: N_("Per word, with a cap"),
    FeeKind.unpaid: N_("Unpaid"),
}
DEFAULT_DAYS = 7
DEFAULT_HOUR = 18
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class Brief:
    """A checked offer: what the applicant is asked to write, by when, for what fee, checked by whom."""

    topic: str
    sources: str
    style_notes: str
    min_words: int
    max_words: int
    deadline_at: datetime
    deadline_firm: bool
    fee_kind: str
    fee_amount_minor: int | None
    fee_cap_minor: int | None
    currency: str
    fact_checker_id: int | None
    message: str


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_input(moment: datetime, time_zone: str) -> str:
    """`moment` as a datetime-local field shows it in `time_zone`."""
    return moment.astimezone(_zone(time_zone)).strftime(LOCAL_FORMAT)


def parse_local(value: str, time_zone: str) -> datetime | None:
    """A datetime-local field's "YYYY-MM-DDTHH:MM" in `time_zone`, as UTC; None when it is not one."""
    try:
        local = datetime.strptime(value.strip()[:16], LOCAL_FORMAT)
    except ValueError:
        return None
    return local.replace(tzinfo=_zone(time_zone)).astimezone(UTC)


def parse_money(value: str) -> int | None:
    """A decimal amount ("5000", "12.50", "12,50") in minor units; None when it is not one we keep."""
    text = value.strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not text or len(text) > 20:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        return None
    minor = int(amount * 100)
    return minor if minor <= MAX_FEE_MINOR else None


def money_input(minor: int | None) -> str:
    """Minor units as the form's decimal string: 500000 → "5000", 1250 → "12.50"."""
    if minor is None:
        return ""
    whole, cents = divmod(minor, 100)
    return f"{whole}.{cents:02d}" if cents else str(whole)


def read_deadline(fields: FormFields, *, time_zone: str, now: datetime) -> datetime:
    """The `deadline` field as UTC; a message at the field when it is missing, malformed or not ahead."""
    deadline = parse_local(fields.raw("deadline"), time_zone)
    if deadline is None:
        fields.fail("deadline", N_("Give the deadline as a date and a time."))
        return now
    if deadline <= now:
        fields.fail("deadline", N_("The deadline must be in the future."))
    return deadline


def _words(fields: FormFields, name: str) -> int:
    return (
        fields.integer(name, message=N_("A whole number of words, 0 to 20,000."), low=0, high=MAX_WORDS) or 0
    )


def read_brief(
    form: FormMultiDict | Mapping[str, str],
    *,
    time_zone: str,
    now: datetime,
    fact_checker_ids: Collection[int],
) -> Brief:
    """The offer form as a Brief; Invalid with a message at each field that is wrong."""
    fields = FormFields(form)
    topic = fields.text("topic", limit=TEXT_LIMIT, required=N_("Write the topic and the angle."))
    sources = fields.text("sources", limit=TEXT_LIMIT)
    style_notes = fields.text("style_notes", limit=TEXT_LIMIT)
    message = fields.text("message", limit=MESSAGE_LIMIT)
    min_words = _words(fields, "min_words")
    max_words = _words(fields, "max_words")
    if "max_words" not in fields.errors and max_words == 0:
        fields.fail("max_words", N_("Give the most words the piece may have."))
    elif "min_words" not in fields.errors and min_words > max_words:
        fields.fail("min_words", N_("The minimum cannot be above the maximum."))
    deadline = read_deadline(fields, time_zone=time_zone, now=now)
    fee_kind = fields.choice("fee_kind", list(FEE_KINDS), message=N_("Choose how the piece is paid."))
    currency = fields.choice("currency", CURRENCIES, message=N_("Choose a currency."), default="RUB")
    amount = cap = None
    if fee_kind in (FeeKind.flat, FeeKind.per_word):
        amount = parse_money(fields.raw("fee_amount"))
        if amount is None or amount == 0:
            fields.fail("fee_amount", N_("Give the fee as an amount, e.g. 5000 or 12.50."))
    if fee_kind == FeeKind.per_word:
        cap = parse_money(fields.raw("fee_cap"))
        if cap is None or cap == 0:
            fields.fail("fee_cap", N_("Give the most the piece can earn, e.g. 20000."))
        elif amount and cap < amount:
            fields.fail("fee_cap", N_("The cap cannot be below the rate per word."))
    checker_raw = fields.raw("fact_checker_id").strip()
    checker: int | None = None
    if checker_raw:
        checker = fields.integer("fact_checker_id")
        if checker is None or checker not in fact_checker_ids:
            fields.fail("fact_checker_id", N_("Choose a fact-checker from the list, or the desk."))
    fields.check(N_("The brief is not complete: see the marked fields."))
    return Brief(
        topic=topic,
        sources=sources,
        style_notes=style_notes,
        min_words=min_words,
        max_words=max_words,
        deadline_at=deadline,
        deadline_firm=fields.raw("deadline_firm") == "1",
        fee_kind=fee_kind,
        fee_amount_minor=amount,
        fee_cap_minor=cap,
        currency=currency,
        fact_checker_id=checker,
        message=message,
    )


INTRO = N_(
    "Dear %(name)s,\n\n"
    "Thank you for your application to %(publication)s. Before we decide, we would like to offer you a short "
    "trial assignment: the brief, the deadline and the fee are below and on your application's page.\n\n"
    "Best regards,\nThe editors of %(publication)s"
)


def template(
    locale: str | None, *, now: datetime, time_zone: str, name: str, publication: str
) -> dict[str, str]:
    """The offer form's starting values: the brief's template and the message written in the applicant's
    language, the deadline a week ahead at 18:00 in the editor's time zone."""
    day = now.astimezone(_zone(time_zone)) + timedelta(days=DEFAULT_DAYS)
    deadline = day.replace(hour=DEFAULT_HOUR, minute=0, second=0, microsecond=0)
    with use_locale(locale):
        message = _(INTRO, name=name, publication=publication)
        sources = _(
            "Primary sources first: official documents, statements and statistics, with a link to each. "
            "Name every source you quote."
        )
        style = _(
            "Analysis, not opinion. Lead with the news, keep paragraphs short, explain every term a general "
            "reader may not know."
        )
    return {
        "topic": "",
        "sources": sources,
        "style_notes": style,
        "min_words": "600",
        "max_words": "1200",
        "deadline": deadline.strftime(LOCAL_FORMAT),
        "deadline_firm": "1",
        "fee_kind": FeeKind.flat,
        "fee_amount": "",
        "fee_cap": "",
        "currency": "RUB",
        "fact_checker_id": "",
        "message": message,
    }


def money(minor: int | None, currency: str) -> str:
    """An amount in minor units in the reader's language: 5 000,00 ₽ or RUB 5,000.00."""
    if minor is None:
        return ""
    return format_currency(Decimal(minor) / 100, currency, locale=current_locale())


def fee_text(trial: Trial) -> str:
    """The fee as the brief states it, in the reader's language."""
    if trial.fee_kind == FeeKind.unpaid:
        return _("Unpaid")
    if trial.fee_kind == FeeKind.per_word:
        return _(
            "%(rate)s per word, at most %(cap)s",
            rate=money(trial.fee_amount_minor, trial.currency),
            cap=money(trial.fee_cap_minor, trial.currency),
        )
    return money(trial.fee_amount_minor, trial.currency)


def time_left(deadline: datetime, now: datetime) -> str:
    """How long until `deadline`, as a person says it: "2 days 5 hours left", "40 minutes left"."""
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return _("The deadline has passed.")
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = max(rest // 60, 1) if not (days or hours) else rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(num)s day", "%(num)s days", days))
    if hours:
        parts.append(ngettext("%(num)s hour", "%(num)s hours", hours))
    if not days and minutes:
        parts.append(ngettext("%(num)s minute", "%(num)s minutes", minutes))
    return _("Time left: %(span)s", span=" ".join(parts))


def zone_name() -> str:
    """The time zone the reader's times are shown in."""
    return current_time_zone()


def is_late(trial: Trial, now: datetime) -> bool:
    return now > trial.deadline_at


def is_locked(trial: Trial, now: datetime) -> bool:
    """Whether the piece can no longer be saved or sent: a firm deadline that has passed."""
    return trial.deadline_firm and is_late(trial, now)
