"""Reading form fields: the small parsers every form handler shares."""

from __future__ import annotations


def int_or_none(value: object) -> int | None:
    """A whole number from a form field, or None when it is missing or not a number."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
