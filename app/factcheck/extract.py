"""The plain text of a work sample, and its sentences, for picking the claims a fact-checker verifies.

A file's text is read once, when it is uploaded, in the same budget-limited child process that checks it
(`app.applications.inspection`), and kept on the sample. Pages only read the stored text: they never open
the file and never write.
"""

from __future__ import annotations

import re

from app.models import SampleKind, WorkSample

MAX_SENTENCES = 2_000


def sample_text(sample: WorkSample) -> str:
    """The text of any sample: pasted text as it is, a file's text as stored at upload ("" if none)."""
    if sample.kind == SampleKind.text:
        return sample.text or ""
    if sample.kind != SampleKind.file:
        return ""
    return sample.extracted_text or ""


# A sentence ends at . ! ? or … (with any closing quotes or brackets) before a space and a capital (Latin or
# Cyrillic), digit or opening quote; and at every line break. Common abbreviations do not end one.
_END = re.compile(r"""([.!?…]["'”’»)\]]*)\s+(?=["'“‘«„(\[]?[A-Z0-9À-ÖØ-ÞА-ЯЁ])""")
_ABBREVIATIONS = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|No|vs|etc|e\.g|i\.e|Jan|Feb|Aug|Sept|Oct|Nov|Dec|U\.S|U\.K)\.$"
)


def sentences(text: str) -> list[str]:
    """The sentences of a text, in order, each on its own and trimmed."""
    found: list[str] = []
    for paragraph in text.split("\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        start = 0
        pieces: list[str] = []
        for match in _END.finditer(paragraph):
            candidate = paragraph[start : match.end(1)]
            if _ABBREVIATIONS.search(candidate.rstrip("\"'”’)]")):
                continue
            pieces.append(candidate)
            start = match.end()
        pieces.append(paragraph[start:])
        found.extend(piece.strip() for piece in pieces if piece.strip())
        if len(found) >= MAX_SENTENCES:
            break
    return found[:MAX_SENTENCES]
