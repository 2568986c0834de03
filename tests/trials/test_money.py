"""Money as fees keep it: minor units by each currency's ISO 4217 exponent, plain decimals for files, and the
amount in the reader's language."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.core import i18n, money


@pytest.mark.parametrize(
    ("currency", "minor", "plain"),
    [("RUB", 150_050, "1500.50"), ("USD", 5, "0.05"), ("JPY", 1500, "1500"), ("KWD", 1_234, "1.234")],
)
def test_minor_units_follow_the_currency_s_exponent(currency, minor, plain):
    assert money.plain(minor, currency) == plain
    assert money.to_decimal(minor, currency) == Decimal(plain)
    assert money.to_minor(plain, currency) == minor


def test_amounts_round_half_up_to_the_minor_unit_and_refuse_what_is_no_number():
    assert money.to_minor("10.005", "RUB") == 1001
    assert money.to_minor(Decimal("0.5"), "JPY") == 1
    for bad in ("ten", "NaN", "Infinity", ""):
        with pytest.raises(ValueError):
            money.to_minor(bad, "RUB")


def test_an_amount_is_written_in_the_reader_s_language():
    with i18n.use_locale("ru"):
        assert money.format_money(1_500_050, "RUB") == "15\xa0000,50\xa0₽"
    with i18n.use_locale("en"):
        assert money.format_money(1_500_050, "USD") == "$15,000.50"
        assert money.format_money(1500, "JPY") == "¥1,500"
        assert money.format_money(None, "USD") == ""
    assert set(money.CURRENCIES) >= {"RUB", "USD", "EUR"}
