"""Posted forms: reading them field by field as the application form does (each value cleaned and held to its
limit, a message at each field that is wrong, Invalid with all of them), and the one answer to bad input: the
request's writes rolled back, then the form shown again."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable, Collection, Mapping

from litestar.datastructures import FormMultiDict
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Invalid
from app.core.i18n import ngettext
from app.core.text import strip_bidi

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85]")


def clean_text(value: str) -> str:
    """Typed text as it is kept: NFC, Unix line ends, no control characters, no spaces around it."""
    return CONTROL.sub("", unicodedata.normalize("NFC", value.replace("\r\n", "\n"))).strip()


def int_or_none(value: object) -> int | None:
    """A whole number sent as text, or None."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def at_most(limit: int) -> str:
    """The message at a field sent longer than its limit."""
    return ngettext("At most %(num)s character.", "At most %(num)s characters.", limit)


class FormFields:
    """One posted form, read field by field.

    Each reader returns the value to use and, when the field is wrong, keeps a message at it (the first one
    found); `check` raises them together as Invalid, for the form to show each at its field.
    """

    def __init__(self, data: FormMultiDict | Mapping[str, str]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def fail(self, name: str, message: str) -> None:
        """Keep `message` at the field `name` (unless it has one already)."""
        self.errors.setdefault(name, message)

    def raw(self, name: str) -> str:
        """The field as sent: "" when it is missing or a file."""
        value = self.data.get(name)
        return value if isinstance(value, str) else ""

    def values(self, name: str) -> list[str]:
        """Every value sent under `name` (ticked boxes, a multiple choice)."""
        if isinstance(self.data, FormMultiDict):
            sent = self.data.getall(name, [])
        else:
            sent = [self.data[name]] if name in self.data else []
        return [value for value in sent if isinstance(value, str)]

    def ids(self, name: str) -> list[int]:
        """The ids ticked under `name`, each once, in order; anything else is ignored."""
        return sorted({int(value) for value in self.values(name) if value.isdigit() and len(value) < 19})

    def text(self, name: str, *, limit: int, required: str | None = None, one_line: bool = False) -> str:
        """Typed text, cleaned; with `one_line`, without bidirectional controls and with each run of spaces
        and line breaks made one space (names, labels)."""
        value = clean_text(self.raw(name))
        if one_line:
            value = " ".join(strip_bidi(value).split())
        if len(value) > limit:
            self.fail(name, at_most(limit))
        elif not value and required:
            self.fail(name, required)
        return value

    def secret(self, name: str, *, limit: int) -> str:
        """A password exactly as typed, refused past `limit` (it is checked, never shown or cleaned)."""
        value = self.raw(name)
        if len(value) > limit:
            self.fail(name, at_most(limit))
        return value

    def choice(self, name: str, choices: Collection[str], *, message: str, default: str = "") -> str:
        """One of `choices` (`default` when the field is empty); `message` at the field otherwise."""
        value = self.raw(name) or default
        if value not in choices:
            self.fail(name, message)
        return value

    def integer(
        self, name: str, *, message: str | None = None, low: int | None = None, high: int | None = None
    ) -> int | None:
        """A whole number between `low` and `high`, or None when the field is empty. With a `message`, an
        empty field or a wrong number gets it; without one, a wrong number reads as None."""
        value = int_or_none(self.raw(name).strip() or None)
        if value is not None and ((low is not None and value < low) or (high is not None and value > high)):
            value = None
        if value is None and message:
            self.fail(name, message)
        return value

    def check(self, message: str) -> None:
        """Raise Invalid with `message` and the message at each field, if any field is wrong."""
        if self.errors:
            raise Invalid(message, dict(self.errors))


Page = Callable[[Invalid], Awaitable[Template] | Template]


async def form_error(session: AsyncSession, error: Invalid, page: Page) -> Template:
    """The answer to bad form input: everything the request wrote is rolled back first (with the files it
    stored), then `page(error)` renders the form again from what is stored, with the error's status."""
    await session.rollback()
    answer = page(error)
    if not isinstance(answer, Template):
        answer = await answer
    answer.status_code = error.status_code
    return answer
