"""The checks run when a trial piece arrives: words against the limits, lateness, links, similar texts.

`run_checks` stores what it finds as data in `piece.checks` (numbers, flags, ids and the passages' own words),
never as sentences: `templates/trials/_checks.html` writes them in the reader's language.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import similarity
from app.models import TextPrint, Trial, TrialPiece
from app.settings import Settings

MAX_LINKS = 50
MAX_LINK_CHARS = 500
# An address with a scheme (https://, ftp://, javascript:, mailto: ...) or one that starts with www.
_LINK = re.compile(
    r"(?i)(?<![\w@.])(?:[a-z][a-z0-9+.\-]{1,19}://[^\s<>\"'«»]+"
    r"|(?:javascript|data|mailto|file|tel|vbscript):[^\s<>\"'«»]+"
    r"|www\.[^\s<>\"'«»]+)"
)
_TRAILING = ".,;:!?)]}»…"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def piece_text(piece: TrialPiece) -> str:
    """The words of the piece: pasted text, or the text read from its file."""
    return piece.text or piece.extracted_text or ""


def word_check(trial: Trial, count: int) -> dict[str, Any]:
    """The word count against the brief's limits (0: no limit)."""
    verdict = "within"
    if trial.min_words and count < trial.min_words:
        verdict = "too_short"
    elif trial.max_words and count > trial.max_words:
        verdict = "too_long"
    return {"count": count, "min": trial.min_words, "max": trial.max_words, "verdict": verdict}


def timing_check(trial: Trial, submitted_at: datetime) -> dict[str, Any]:
    """On time or late (by how many minutes), against a firm or a soft deadline."""
    deadline = _aware(trial.deadline_at)
    submitted = _aware(submitted_at)
    late_seconds = (submitted - deadline).total_seconds()
    return {
        "deadline_at": deadline.isoformat(),
        "submitted_at": submitted.isoformat(),
        "late": late_seconds > 0,
        "late_minutes": max(int(late_seconds // 60), 0),
        "firm": trial.deadline_firm,
    }


def _trimmed(url: str) -> str:
    """The address without the punctuation of the sentence around it (a closing bracket it opened stays)."""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def links_in(body: str) -> dict[str, Any]:
    """Every address in the text (the first MAX_LINKS), each with whether it is an http(s) link."""
    items: list[dict[str, Any]] = []
    total = 0
    for match in _LINK.finditer(body):
        url = _trimmed(match.group())
        if not url:
            continue
        total += 1
        if len(items) < MAX_LINKS:
            lowered = url.lower()
            items.append(
                {
                    "url": url[:MAX_LINK_CHARS],
                    "web": lowered.startswith(("http://", "https://")),
                    "secure": lowered.startswith("https://"),
                }
            )
    return {"count": total, "items": items}


async def run_checks(
    session: AsyncSession, settings: Settings, *, trial: Trial, piece: TrialPiece, now: datetime
) -> None:
    """Fill `piece.checks` (and index the piece's text for later comparisons), in the caller's transaction."""
    assert piece.id is not None, "the piece is stored (flushed) before it is checked"
    body = piece_text(piece)
    count = piece.word_count if piece.word_count is not None else len(body.split())
    prints = await similarity.fingerprints_of(body)
    similar = await similarity.similar_texts(
        session, application_id=piece.application_id, body=body, prints=prints, exclude_piece_id=piece.id
    )
    await similarity.index_text(
        session, application_id=piece.application_id, piece_id=piece.id, text=body, prints=prints
    )
    piece.checks = {
        "checked_at": _aware(now).isoformat(),
        "words": word_check(trial, count),
        "timing": timing_check(trial, piece.submitted_at or now),
        "links": links_in(body),
        "similarity": {**similar, "has_text": bool(body.strip())},
    }
    session.add(piece)


async def forget_application(session: AsyncSession, application_id: int) -> None:
    """On erasure: the application's prints go, its pieces' checks go, and the other pieces' checks lose
    their matches with it (whose passages quote its words)."""
    await session.execute(delete(TextPrint).where(col(TextPrint.application_id) == application_id))
    await session.execute(
        update(TrialPiece).where(col(TrialPiece.application_id) == application_id).values(checks={})
    )
    # The checks are JSON written by json.dumps: a match names the application as `"application_id": N`.
    candidates = await session.scalars(
        select(TrialPiece).where(
            col(TrialPiece.application_id) != application_id,
            sa.cast(col(TrialPiece.checks), sa.Text).contains(f'"application_id": {application_id}'),
        )
    )
    for piece in candidates.all():
        found = dict(piece.checks.get("similarity") or {})
        for group in ("own", "others"):
            found[group] = [m for m in found.get(group, []) if m.get("application_id") != application_id]
        piece.checks = {**piece.checks, "similarity": found}
        session.add(piece)
