"""Languages: the message catalogs, the current request's language and time zone, and Babel formatting."""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel import units as babel_units
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, Translations

# The publication writes in Russian; English is the language of the source texts.
SUPPORTED_LOCALES = ("ru", "en")
# Each language named in itself, for the language switch and the account page.
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}
SOURCE_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANG_COOKIE = "byline_lang"
LANG_PARAM = "lang"

_locale: ContextVar[str | None] = ContextVar("byline_locale", default=None)
_zone: ContextVar[str | None] = ContextVar("byline_time_zone", default=None)
# Outside a request (mail, commands) the site's defaults apply; create_app sets them from the settings.
_defaults = {"locale": "ru", "time_zone": "UTC"}


def configure(default_locale: str, time_zone: str) -> None:
    """The site's language and time zone, used wherever no request chose others."""
    _defaults["locale"] = default_locale
    _defaults["time_zone"] = time_zone


def supported(value: str | None) -> str | None:
    """`value` as one of the supported locales ("ru-RU" → "ru"), or None."""
    if not value:
        return None
    lang = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return lang if lang in SUPPORTED_LOCALES else None


def valid_time_zone(value: str | None) -> str | None:
    """`value` if it names an IANA time zone, else None."""
    if not value or value not in _time_zones():
        return None
    return value


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone_choices() -> list[str]:
    """Every IANA time zone name, sorted, for a select list."""
    return sorted(_time_zones())


def negotiate(accept_language: str) -> str | None:
    """The best supported locale for an Accept-Language header, or None."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, val = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(val)
                except ValueError:
                    quality = 0.0
        if quality > 0 and tag.strip():
            ranked.append((-quality, position, tag.strip()))
    for _, _, tag in sorted(ranked):
        if found := supported(tag):
            return found
    return None


def request_locale_set() -> bool:
    return _locale.get() is not None


def current_locale() -> str:
    return _locale.get() or _defaults["locale"]


def current_time_zone() -> str:
    return _zone.get() or _defaults["time_zone"]


@contextmanager
def use_locale(locale: str | None, time_zone: str | None = None) -> Iterator[None]:
    """Translate and format in `locale` (and `time_zone`) inside the block, e.g. for a recipient's mail."""
    locale_token = _locale.set(supported(locale) or _defaults["locale"])
    zone_token = _zone.set(valid_time_zone(time_zone) or _zone.get())
    try:
        yield
    finally:
        _zone.reset(zone_token)
        _locale.reset(locale_token)


def set_request_locale(locale: str, time_zone: str | None) -> tuple[Any, Any]:
    """Set the language and zone of the request being served; `reset_request_locale` undoes it."""
    return _locale.set(locale), _zone.set(time_zone)


def reset_request_locale(tokens: tuple[Any, Any]) -> None:
    _locale.reset(tokens[0])
    _zone.reset(tokens[1])


def _catalog_path(locale: str, suffix: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.{suffix}"


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog of `locale`; compiled from its .po in memory when no .mo was built."""
    if locale == SOURCE_LOCALE:
        return _gettext.NullTranslations()
    mo = _catalog_path(locale, "mo")
    if mo.exists():
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    po = _catalog_path(locale, "po")
    if not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=locale, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def compile_catalogs() -> list[Path]:
    """Write the .mo of every catalog whose .po is newer (as `pybabel compile` does); the files written."""
    written = []
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=po.parent.parent.name, domain=DOMAIN)
        # Written aside and renamed: a process reading the catalog meanwhile sees the old or the new one.
        partial = mo.with_suffix(f".mo.{os.getpid()}")
        with partial.open("wb") as out:
            write_mo(out, catalog)
        os.replace(partial, mo)
        written.append(mo)
    translations.cache_clear()
    return written


def raw_gettext(message: str) -> str:
    """The translation alone; Jinja's new-style gettext fills in the variables itself."""
    return translations(current_locale()).gettext(message)


def raw_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def raw_pgettext(context: str, message: str) -> str:
    return translations(current_locale()).pgettext(context, message)


def gettext(message: str, **variables: Any) -> str:
    """`message` in the current language, with `%(name)s` placeholders filled from `variables`."""
    text = translations(current_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    """The form for `n` in the current language; `%(num)s` is `n` (as Jinja's ngettext gives it)."""
    text = translations(current_locale()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def pgettext(context: str, message: str, **variables: Any) -> str:
    """`message` as meant in `context` in the current language."""
    text = translations(current_locale()).pgettext(context, message)
    return text % variables if variables else text


def lazy_gettext(message: str, **variables: Any) -> LazyProxy:
    """A message translated when it is shown, for module-level texts."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_l = lazy_gettext


def N_(message: str) -> str:
    """Mark `message` for the catalog where it is defined; it is translated where it is shown."""
    return message


def _babel_locale() -> Locale:
    try:
        return Locale.parse(current_locale())
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE_LOCALE)


def _zone_info() -> ZoneInfo:
    try:
        return ZoneInfo(current_time_zone())
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _aware(value: datetime) -> datetime:
    """Stored times are UTC; naive ones (SQLite) are read as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_datetime(value: datetime | None) -> str:
    """A moment in the reader's language and time zone, e.g. "December 7, 2026, 06:01"."""
    if value is None:
        return ""
    locale = _babel_locale()
    local = _aware(value).astimezone(_zone_info())
    day = babel_dates.format_date(local.date(), "long", locale=locale)
    return f"{day}, {babel_dates.format_time(local, 'HH:mm', locale=locale)}"


@lru_cache(maxsize=4096)
def _long_date(day: date, locale: Locale) -> str:
    return babel_dates.format_date(day, "long", locale=locale)


def datetime_formatter() -> Callable[[datetime | None], str]:
    """`format_datetime` for a page's many moments: language and zone looked up once, each day once."""
    locale = _babel_locale()
    zone = _zone_info()
    days: dict[date, str] = {}

    def format_one(value: datetime | None) -> str:
        if value is None:
            return ""
        local = _aware(value).astimezone(zone)
        day = local.date()
        if day not in days:
            days[day] = _long_date(day, locale)
        # What babel's "HH:mm" writes in both languages.
        return f"{days[day]}, {local.hour:02d}:{local.minute:02d}"

    return format_one


def format_date(value: datetime | date | None) -> str:
    """A day in the reader's language (and, for a moment, their time zone)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _aware(value).astimezone(_zone_info()).date()
    return babel_dates.format_date(value, "long", locale=_babel_locale())


def format_number(value: int | float | None) -> str:
    """A number with the reader's digit grouping: 12 345 or 12,345."""
    if value is None:
        return ""
    if type(value) is int:
        return _format_int(value, current_locale())
    return babel_numbers.format_decimal(value, locale=_babel_locale())


@lru_cache(maxsize=4096)
def _format_int(value: int, locale: str) -> str:
    """Whole numbers (a page's counts) repeat from page to page: each is written once per language."""
    with use_locale(locale):
        return babel_numbers.format_decimal(value, locale=_babel_locale())


def format_mark(value: float | None) -> str:
    """A mark or an average with one decimal in the reader's digits: 4,2 or 4.2."""
    if value is None:
        return ""
    return babel_numbers.format_decimal(value, "0.0", locale=_babel_locale())


_SIZE_UNITS = (("digital-gigabyte", 1024**3), ("digital-megabyte", 1024**2), ("digital-kilobyte", 1024))


def format_size(value: int | None) -> str:
    """A file size in the reader's units and digits: 1,5 МБ or 1.5 MB; 512 байт or 512 bytes."""
    if value is None:
        return ""
    for unit, size in _SIZE_UNITS:
        if value >= size:
            return babel_units.format_unit(
                value / size, unit, length="short", format="#,##0.#", locale=_babel_locale()
            )
    return babel_units.format_unit(value, "digital-byte", length="long", locale=_babel_locale())
