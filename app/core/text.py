"""Cleaning typed text: the invisible characters that reorder what is shown around them."""

from __future__ import annotations

import re
import unicodedata

# Embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069) and the LRM, RLM and ALM marks:
# in a name or a subject they can make the text read differently from what was typed.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def strip_bidi(value: str) -> str:
    """`value` without bidirectional control characters."""
    return BIDI_CONTROLS.sub("", value)


def normalize_email(address: str) -> str:
    """The identity of an email address (repeat applicants, staff sign-in): NFC, trimmed, lower-cased."""
    return unicodedata.normalize("NFC", address.strip()).lower()
