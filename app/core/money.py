"""Money as Byline keeps it: whole minor units (kopecks, cents) in the database, Decimal in between, and the
amount written in the reader's language with its currency (Babel). Byline records fees; it moves no money.

A currency's minor unit (its ISO 4217 exponent: 2 for RUB and USD, 0 for JPY, 3 for KWD) comes from Babel.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel import numbers as babel_numbers

from app.core import i18n

# The currencies a fee may be agreed in, the site's own first.
CURRENCIES = ("RUB", "USD", "EUR", "GBP", "AZN", "GEL", "KZT", "AMD", "TRY", "UAH")


def exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has (ISO 4217)."""
    return int(babel_numbers.get_currency_precision(currency))


def to_decimal(minor: int, currency: str) -> Decimal:
    """Minor units as a Decimal amount in the currency: 150050 RUB → Decimal("1500.50")."""
    places = exponent(currency)
    return Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def to_minor(amount: Decimal | str, currency: str) -> int:
    """A Decimal (or its text with a dot) in whole minor units, rounded half up; ValueError if no number."""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    return int(value.scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def plain(minor: int, currency: str) -> str:
    """The amount as scripts and spreadsheets read it: digits and a dot, no grouping ("1500.50")."""
    return format(to_decimal(minor, currency), "f")


def format_money(minor: int | None, currency: str) -> str:
    """The amount in the reader's language with its currency: "1 500,50 ₽" or "RUB 1,500.50"."""
    if minor is None:
        return ""
    return str(
        babel_numbers.format_currency(
            to_decimal(minor, currency), currency, locale=i18n.current_locale(), currency_digits=True
        )
    )
