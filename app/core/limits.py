"""The input limits the HTML forms and the JSON API share, so that both refuse the same input."""

from __future__ import annotations

# A move: the message to the applicant and the internal reason.
MESSAGE_LIMIT = 20_000
REASON_LIMIT = 2_000
# A fact-check task: its claims, and the work recorded on each.
MAX_CLAIMS = 50
MAX_CLAIM_CHARS = 2000
MAX_SOURCES = 10
MAX_URL = 2000
MAX_NOTE = 5000
MAX_SUMMARY = 10_000
