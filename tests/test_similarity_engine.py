"""The near-duplicate engine's pure parts (app/core/similarity.py): words, shingles, winnowing, passages."""

from __future__ import annotations

import random

from app.core import similarity
from app.core.similarity import SHINGLE, WINDOW, Print, fingerprints, passage, winnow, words
from tests.environment import SAMPLES


def _naive_winnow(hashes: list[int], window: int) -> list[Print]:
    """The definition: the smallest hash of each window (the rightmost on a tie), each place recorded once."""
    chosen: list[Print] = []
    last = -1
    for start in range(len(hashes) - window + 1):
        part = hashes[start : start + window]
        smallest = min(part)
        place = start + max(i for i, h in enumerate(part) if h == smallest)
        if place != last:
            chosen.append(Print(hashes[place], place))
            last = place
    return chosen


def test_winnowing_keeps_the_smallest_hash_of_every_window():
    rng = random.Random(15)
    for _ in range(20):
        hashes = [rng.randrange(-(2**63), 2**63) for _ in range(rng.randrange(WINDOW, 600))]
        assert winnow(hashes) == _naive_winnow(hashes, WINDOW)
    repeats = [rng.randrange(0, 4) for _ in range(500)]  # many ties
    assert winnow(repeats) == _naive_winnow(repeats, WINDOW)
    assert winnow([5, 3, 9]) == [Print(3, 1)]  # shorter than a window: its smallest
    assert winnow([]) == []


def test_words_are_folded_and_stemmed_in_russian_and_english():
    assert [w.key for w in words("Бюджета Бюджетом бюджет")] == ["бюджет"] * 3
    assert [w.key for w in words("Ёлка елка")] == ["елк", "елк"]
    assert [w.key for w in words("Writers writer's, 2027")] == ["writer", "writer", "s", "2027"]
    body = "Say «hello», world"
    assert [body[w.start : w.end] for w in words(body)] == ["Say", "hello", "world"]


def test_hashes_fit_a_signed_bigint_and_a_shared_passage_gives_shared_prints():
    article = (SAMPLES / "work-sample-news.txt").read_text(encoding="utf-8")
    prints = fingerprints(article)
    assert prints and all(-(2**63) <= p.hash < 2**63 for p in prints)
    # About two prints per window of shingles.
    assert len(words(article)) / 12 < len(prints) < len(words(article)) / 3
    paragraph = " ".join(article.split()[40 : 40 + WINDOW + SHINGLE + 10])
    wrapped = "Completely different opening words here. " + paragraph + " And a different ending as well."
    assert {p.hash for p in fingerprints(wrapped)} & {p.hash for p in prints}
    unrelated = (SAMPLES / "call-for-authors.txt").read_text(encoding="utf-8")
    assert not {p.hash for p in fingerprints(unrelated)} & {p.hash for p in prints}


def test_a_long_text_keeps_a_bounded_number_of_prints():
    rng = random.Random(3)
    vocabulary = [f"word{n}" for n in range(5000)]
    long_text = " ".join(rng.choice(vocabulary) for _ in range(80_000))
    assert len(long_text) > similarity.MAX_CHARS
    assert len(fingerprints(long_text)) <= similarity.MAX_PRINTS


def test_a_passage_marks_the_shared_words_with_context():
    body = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    tokens = words(body)
    shown = passage(body, tokens, (8, 10))
    assert shown["match"] == "nine ten"
    assert shown["before"] == "three four five six seven eight "
    assert shown["after"] == " eleven twelve thirteen fourteen"
    assert shown["lead"] and not shown["tail"]
