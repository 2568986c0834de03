"""Near-duplicate texts: fingerprints of work samples and trial pieces, and the lookup of shared passages.

A text is cut into words (letters and digits in any script, folded and stemmed the way app/core/search.py
does, so «бюджета» and «бюджет» are one word), the words into overlapping 5-word shingles, each shingle hashed
to a signed 64-bit number (xxHash), and of the hashes only those winnowing selects are kept (Schleimer,
Wilkerson and Aiken, "Winnowing: local algorithms for document fingerprinting", 2003; the algorithm of Moss):
the smallest hash of every window of WINDOW shingles. Any passage two texts share of at least
WINDOW + SHINGLE - 1 words gives both texts the same print, and each print keeps the word position where its
shingle starts, so the shared passage can be shown. Prints are rows of `text_print` under an index on the
hash: finding the texts that share prints with a new one is one indexed probe per print, whatever the number
of stored texts.

Costs are bounded: a text is read up to MAX_CHARS characters and keeps at most MAX_PRINTS prints; a lookup
probes at most MAX_QUERY_PRINTS of them and reads at most PROBE_ROWS rows per print, and a print found in more
than BOILERPLATE_APPLICATIONS applications (a stock phrase, a quoted statement) is ignored.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio.to_thread
import Stemmer
import xxhash
from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import SiteSetting, TextPrint, TrialPiece, WorkSample
from app.settings import Settings

SHINGLE = 5  # words per shingle
WINDOW = 12  # shingles per winnowing window: a shared run of 16 words or more is always found
MAX_CHARS = 400_000
MAX_PRINTS = 5_000
THREAD_CHARS = 20_000
MAX_QUERY_PRINTS = 1_000
BATCH = 500  # hashes per query
BOILERPLATE_APPLICATIONS = 20
PROBE_ROWS = 2 * BOILERPLATE_APPLICATIONS + 1
# A match: at least MIN_SHARED prints, and MIN_STRONG prints or MIN_SHARE of the piece's prints.
MIN_SHARED = 3
MIN_STRONG = 8
MIN_SHARE = 0.15
TOP = 5  # matches per group (the applicant's own texts, other applications)
MAX_PASSAGES = 3
CONTEXT_WORDS = 6
MAX_MARK_WORDS = 80
_WORD = re.compile(r"[^\W_]+")
_SIGN = 1 << 63


@dataclass(frozen=True)
class Word:
    start: int  # character offsets in the text
    end: int
    key: str  # folded and stemmed


@dataclass(frozen=True)
class Print:
    hash: int
    position: int  # the index of the shingle's first word


_local = threading.local()  # a Stemmer is not safe to share between threads


def _stemmer(language: str) -> Stemmer.Stemmer:
    stemmers: dict[str, Stemmer.Stemmer] = _local.__dict__.setdefault("stemmers", {})
    if language not in stemmers:
        stemmers[language] = Stemmer.Stemmer(language)
    return stemmers[language]


def _key(word: str) -> str:
    folded = word.lower().replace("ё", "е")
    if not folded.isalpha():
        return folded
    return str(_stemmer("english" if folded.isascii() else "russian").stemWord(folded))


def words(body: str) -> list[Word]:
    """The words of a text (its first MAX_CHARS characters) with their places, folded and stemmed."""
    keys: dict[str, str] = {}  # each distinct word is stemmed once
    found = []
    for m in _WORD.finditer(body[:MAX_CHARS]):
        word = m.group()
        key = keys.get(word)
        if key is None:
            key = keys[word] = _key(word)
        found.append(Word(m.start(), m.end(), key))
    return found


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= _SIGN else value


def shingle_hashes(keys: Sequence[str]) -> list[int]:
    """The hash of every SHINGLE-word run, in order; a text shorter than one shingle hashes as one run."""
    if not keys:
        return []
    count = max(len(keys) - SHINGLE + 1, 1)
    return [_signed(xxhash.xxh64_intdigest(" ".join(keys[i : i + SHINGLE]).encode())) for i in range(count)]


def winnow(hashes: Sequence[int], window: int = WINDOW) -> list[Print]:
    """Robust winnowing: the smallest hash of each window (the rightmost one on a tie), each place once."""
    if len(hashes) <= window:
        if not hashes:
            return []
        smallest = min(range(len(hashes)), key=lambda i: (hashes[i], -i))
        return [Print(hashes[smallest], smallest)]
    chosen: list[Print] = []
    last = -1
    candidates: list[int] = []  # indexes with increasing hashes (a monotonic queue)
    head = 0
    for i, value in enumerate(hashes):
        while len(candidates) > head and hashes[candidates[-1]] >= value:
            candidates.pop()
        candidates.append(i)
        if candidates[head] <= i - window:
            head += 1
        if i >= window - 1 and candidates[head] != last:
            last = candidates[head]
            chosen.append(Print(hashes[last], last))
        if head > 4096:  # keep the queue short
            del candidates[:head]
            head = 0
    return chosen


def fingerprints(body: str) -> list[Print]:
    """The prints of a text, at most MAX_PRINTS (from its start)."""
    return winnow(shingle_hashes([w.key for w in words(body)]))[:MAX_PRINTS]


async def fingerprints_of(body: str) -> list[Print]:
    """`fingerprints`, in a worker thread for a long text (about 10 µs a word) so the event loop goes on."""
    if len(body) < THREAD_CHARS:
        return fingerprints(body)
    return await anyio.to_thread.run_sync(fingerprints, body)


# --- the index --------------------------------------------------------------------------------------------


async def index_text(
    session: AsyncSession,
    *,
    application_id: int,
    sample_id: int | None = None,
    piece_id: int | None = None,
    text: str | None,
    prints: list[Print] | None = None,
) -> int:
    """Store the prints of a sample's or a piece's text (replacing its earlier ones); returns how many."""
    owner = (
        col(TextPrint.piece_id) == piece_id if piece_id is not None else col(TextPrint.sample_id) == sample_id
    )
    if piece_id is not None or sample_id is not None:
        await session.execute(delete(TextPrint).where(owner))
    prints = prints if prints is not None else await fingerprints_of(text or "")
    if prints:
        await session.execute(
            insert(TextPrint),
            [
                {
                    "hash": p.hash,
                    "application_id": application_id,
                    "sample_id": sample_id,
                    "piece_id": piece_id,
                    "position": p.position,
                }
                for p in prints
            ],
        )
    return len(prints)


def sample_text(sample: WorkSample) -> str | None:
    """The words of a work sample: pasted text, or the text read from its file."""
    return sample.text if sample.text else sample.extracted_text


async def index_samples(session: AsyncSession, samples: Iterable[WorkSample]) -> None:
    """Index the text of each stored (flushed) sample that has one."""
    for sample in samples:
        body = sample_text(sample)
        if body and sample.id is not None:
            await index_text(session, application_id=sample.application_id, sample_id=sample.id, text=body)


# --- the lookup -------------------------------------------------------------------------------------------


@dataclass
class Target:
    application_id: int
    sample_id: int | None
    piece_id: int | None
    # piece position -> positions of the same hash in the target
    pairs: dict[int, set[int]] = field(default_factory=dict)


def _query_prints(prints: Sequence[Print]) -> list[Print]:
    """At most MAX_QUERY_PRINTS prints, spread evenly over the text."""
    if len(prints) <= MAX_QUERY_PRINTS:
        return list(prints)
    step = len(prints) / MAX_QUERY_PRINTS
    return [prints[int(i * step)] for i in range(MAX_QUERY_PRINTS)]


# One indexed probe per hash ({hash}: a parameter's name), each LIMITed, leaving out the prints of the piece
# being checked (:piece; 0 for none).
_PROBE = (
    "SELECT hash, application_id, sample_id, piece_id, position FROM text_print "
    "WHERE hash = {hash} AND (piece_id IS NULL OR piece_id <> :piece) LIMIT :probe"
)
_LATERAL = "SELECT t.* FROM unnest(CAST(:hashes AS bigint[])) AS h(value) CROSS JOIN LATERAL ({probe}) AS t"
_PROBE_POSTGRES = text(_LATERAL.format(probe=_PROBE.format(hash="h.value")))
SQLITE_PROBES = 250  # under SQLite's limit of 500 terms in a compound select


async def _probe(
    session: AsyncSession, hashes: list[int], exclude_piece_id: int | None
) -> list[tuple[int, int, int | None, int | None, int]]:
    """The stored prints of `hashes`, at most PROBE_ROWS rows per hash, leaving out one piece's own."""
    params: dict[str, Any] = {"piece": exclude_piece_id or 0, "probe": PROBE_ROWS}
    if session.get_bind().dialect.name == "postgresql":
        rows = await session.execute(_PROBE_POSTGRES, {**params, "hashes": hashes})
        return [tuple(r) for r in rows.all()]
    found: list[tuple[int, int, int | None, int | None, int]] = []
    for start in range(0, len(hashes), SQLITE_PROBES):
        chunk = hashes[start : start + SQLITE_PROBES]
        # Only the parameter names (:h0, :h1, ...) are written into the statement, never a value.
        sql = " UNION ALL ".join(
            "SELECT * FROM (" + _PROBE.format(hash=f":h{n}") + ")"  # noqa: S608 - parameter names only
            for n in range(len(chunk))
        )
        rows = await session.execute(text(sql), {**params, **{f"h{n}": h for n, h in enumerate(chunk)}})
        found.extend(tuple(r) for r in rows.all())
    return found


async def find_targets(
    session: AsyncSession,
    prints: Sequence[Print],
    *,
    exclude_piece_id: int | None = None,
    boilerplate: int = BOILERPLATE_APPLICATIONS,
) -> tuple[list[Target], int]:
    """The stored texts sharing prints with `prints`, and how many of the query's prints were boilerplate."""
    query = _query_prints(prints)
    positions: dict[int, list[int]] = defaultdict(list)
    for p in query:
        positions[p.hash].append(p.position)
    hashes = list(positions)
    by_hash: dict[int, list[tuple[int, int | None, int | None, int]]] = defaultdict(list)
    for start in range(0, len(hashes), BATCH):
        for hash_, app_id, sample_id, piece_id, position in await _probe(
            session, hashes[start : start + BATCH], exclude_piece_id
        ):
            by_hash[hash_].append((app_id, sample_id, piece_id, position))
    targets: dict[tuple[int, int | None, int | None], Target] = {}
    common = 0
    for hash_, rows in by_hash.items():
        if len(rows) >= PROBE_ROWS or len({row[0] for row in rows}) > boilerplate:
            common += len(positions[hash_])
            continue
        for app_id, sample_id, piece_id, position in rows:
            key = (app_id, sample_id, piece_id)
            target = targets.setdefault(key, Target(app_id, sample_id, piece_id))
            for mine in positions[hash_]:
                target.pairs.setdefault(mine, set()).add(position)
    return list(targets.values()), common


def _runs(positions: Iterable[int], total_words: int) -> list[tuple[int, int]]:
    """Word ranges [start, end) covered by shingles starting at `positions`; close ones merged."""
    runs: list[tuple[int, int]] = []
    for p in sorted(set(positions)):
        start, end = p, min(p + SHINGLE, max(total_words, p + 1))
        if runs and start <= runs[-1][1] + WINDOW:
            runs[-1] = (runs[-1][0], max(runs[-1][1], end))
        else:
            runs.append((start, end))
    return runs


def passage(body: str, tokens: Sequence[Word], run: tuple[int, int]) -> dict[str, Any]:
    """The words of `run` (at most MAX_MARK_WORDS) with a few words of context, as plain text: "before",
    "match", "after", and whether the text goes on before ("lead") and after ("tail") what is shown."""
    start, end = run[0], min(run[1], len(tokens))
    if start >= end:
        return {"before": "", "match": "", "after": "", "lead": False, "tail": False}
    mark_end = min(end, start + MAX_MARK_WORDS)
    cut = mark_end < end
    first = max(start - CONTEXT_WORDS, 0)
    last = mark_end if cut else min(mark_end + CONTEXT_WORDS, len(tokens))
    return {
        "before": body[tokens[first].start : tokens[start].start],
        "match": body[tokens[start].start : tokens[mark_end - 1].end],
        "after": body[tokens[mark_end - 1].end : tokens[last - 1].end],
        "lead": first > 0,
        "tail": last < len(tokens),
    }


async def _target_text(session: AsyncSession, target: Target) -> str:
    if target.sample_id is not None:
        sample = await session.get(WorkSample, target.sample_id)
        return (sample_text(sample) or "") if sample else ""
    if target.piece_id is not None:
        piece = await session.get(TrialPiece, target.piece_id)
        return (piece.text or piece.extracted_text or "") if piece else ""
    return ""


def _aligned(
    mine: Sequence[Word], theirs: Sequence[Word], run: tuple[int, int], pairs: list[tuple[int, int]]
) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """The run in this text and the one it matches in the other, each widened word by word to where the two
    texts part (winnowing keeps only some shingles, so a shared passage starts before its first print)."""
    if not theirs or not pairs:
        return run, None
    p0, q0 = pairs[0]
    p1, q1 = min(
        (pair for pair in pairs if pair[0] == pairs[-1][0]), key=lambda pair: abs(pair[1] - q0 - pair[0] + p0)
    )
    if q1 < q0:
        return run, _runs([q for _, q in pairs], len(theirs))[0]
    while p0 > 0 and q0 > 0 and mine[p0 - 1].key == theirs[q0 - 1].key:
        p0, q0 = p0 - 1, q0 - 1
    end_p, end_q = min(p1 + SHINGLE, len(mine)), min(q1 + SHINGLE, len(theirs))
    while end_p < len(mine) and end_q < len(theirs) and mine[end_p].key == theirs[end_q].key:
        end_p, end_q = end_p + 1, end_q + 1
    return (min(p0, run[0]), max(end_p, run[1])), (q0, end_q)


async def _describe(
    session: AsyncSession, target: Target, body: str, tokens: Sequence[Word], total: int
) -> dict[str, Any]:
    shared = len(target.pairs)
    other_body = await _target_text(session, target)
    other_tokens = words(other_body)
    passages = []
    runs = sorted(_runs(target.pairs, len(tokens)), key=lambda r: r[0] - r[1])[:MAX_PASSAGES]
    for run in sorted(runs):
        pairs = sorted((p, q) for p, qs in target.pairs.items() if run[0] <= p < run[1] for q in qs)
        mine, theirs = _aligned(tokens, other_tokens, run, pairs)
        passages.append(
            {
                "piece": passage(body, tokens, mine),
                "other": passage(other_body, other_tokens, theirs) if theirs else None,
            }
        )
    return {
        "application_id": target.application_id,
        "sample_id": target.sample_id,
        "piece_id": target.piece_id,
        "shared": shared,
        "share": round(100 * shared / total) if total else 0,
        "passages": passages,
    }


async def similar_texts(
    session: AsyncSession,
    *,
    application_id: int,
    body: str,
    prints: Sequence[Print],
    exclude_piece_id: int | None = None,
    boilerplate: int = BOILERPLATE_APPLICATIONS,
) -> dict[str, Any]:
    """What a text shares with the stored ones, as data: {"prints", "common", "own": [...], "others": [...]}.

    Each match: the other text (application, sample or piece), the shared prints and their share of the text's
    prints (%), and up to MAX_PASSAGES passages, each as it reads in this text and in the other.
    """
    targets, common = await find_targets(
        session, prints, exclude_piece_id=exclude_piece_id, boilerplate=boilerplate
    )
    total = len(_query_prints(prints))
    strong = [
        t
        for t in targets
        if len(t.pairs) >= MIN_SHARED and (len(t.pairs) >= MIN_STRONG or len(t.pairs) >= MIN_SHARE * total)
    ]
    strong.sort(key=lambda t: (-len(t.pairs), t.application_id, t.sample_id or 0, t.piece_id or 0))
    tokens = words(body) if strong else []
    result: dict[str, Any] = {"prints": total, "common": common, "own": [], "others": []}
    for group, chosen in (
        ("own", [t for t in strong if t.application_id == application_id][:TOP]),
        ("others", [t for t in strong if t.application_id != application_id][:TOP]),
    ):
        for target in chosen:
            result[group].append(await _describe(session, target, body, tokens, total))
    return result


# --- texts stored before they were indexed ----------------------------------------------------------------

BACKFILL_KEY = "similarity_indexed_through"  # the last work sample id the backfill has looked at
BACKFILL_BATCH = 200


async def index_earlier_samples(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """A scheduled job: index the samples stored before samples were indexed on arrival, BACKFILL_BATCH a run,
    in order of id; once through, a run is one indexed query. Returns how many it indexed."""
    marker = await session.get(SiteSetting, BACKFILL_KEY, with_for_update=True)
    through = int(marker.value) if marker is not None else 0
    batch = (
        await session.scalars(
            select(WorkSample)
            .where(col(WorkSample.id) > through)
            .order_by(col(WorkSample.id))
            .limit(BACKFILL_BATCH)
        )
    ).all()
    if not batch:
        return 0
    ids = [sample.id for sample in batch]
    done = set(
        (
            await session.scalars(select(col(TextPrint.sample_id)).where(col(TextPrint.sample_id).in_(ids)))
        ).all()
    )
    # A sample still waiting for its reader (app/applications/reading.py) gets its prints from it.
    missing = [sample for sample in batch if sample.id not in done and sample.text_due_at is None]
    await index_samples(session, missing)
    if marker is None:
        marker = SiteSetting(key=BACKFILL_KEY, value=0)
    marker.value = batch[-1].id
    marker.updated_at = now
    session.add(marker)
    return sum(1 for sample in missing if sample_text(sample))
