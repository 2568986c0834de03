"""The plain text of a work sample, and its sentences, for picking the claims a fact-checker verifies.

Files were checked when they were uploaded (type by content, archive limits, no macros), so the libraries here
read documents already known to be what they claim. Extraction runs in a thread and its result is kept on the
sample, so a long PDF is read once.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import SampleKind, WorkSample
from app.settings import Settings

MAX_TEXT_CHARS = 400_000
MAX_SENTENCES = 2_000
_SENTENCE_ENDS = (".", "!", "?", "…", ":", '"', "”", "'", "’")


def _pdf(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return "\n\n".join(unwrap(page.extract_text() or "") for page in reader.pages)


def unwrap(page: str) -> str:
    """Join the lines a PDF wrapped: a long line that does not end a sentence continues on the next."""
    lines = [line.rstrip() for line in page.split("\n")]
    widest = max((len(line) for line in lines), default=0)
    out: list[str] = []
    previous = ""
    for line in lines:
        if previous and len(previous) >= 0.6 * widest and not previous.endswith(_SENTENCE_ENDS) and line:
            out[-1] = f"{out[-1]} {line.lstrip()}"
        else:
            out.append(line)
        previous = line
    return "\n".join(out)


def _docx(path: Path) -> str:
    import docx

    return "\n\n".join(paragraph.text for paragraph in docx.Document(str(path)).paragraphs)


def _odt(path: Path) -> str:
    from odf import teletype, text
    from odf.opendocument import load

    document = load(str(path))
    blocks = document.getElementsByType(text.H) + document.getElementsByType(text.P)
    # getElementsByType groups by element type; keep the document's own order instead.
    order = {id(node): n for n, node in enumerate(_walk(document.text))}
    blocks.sort(key=lambda node: order.get(id(node), 0))
    return "\n\n".join(teletype.extractText(block) for block in blocks)


def _walk(node: object) -> list[object]:
    found = [node]
    for child in getattr(node, "childNodes", []):
        found.extend(_walk(child))
    return found


def _rtf(path: Path) -> str:
    from striprtf.striprtf import rtf_to_text

    return str(rtf_to_text(path.read_text(encoding="latin-1"), errors="ignore"))  # type: ignore[no-untyped-call]


def _plain(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


READERS = {"pdf": _pdf, "docx": _docx, "odt": _odt, "rtf": _rtf, "txt": _plain, "md": _plain}


def read_file_text(path: Path, detected_type: str) -> str:
    """The text of a stored file; empty when it holds none that can be read."""
    reader = READERS.get(detected_type)
    if reader is None:
        return ""
    try:
        raw = reader(path)
    except Exception:  # a damaged document yields no text; the claims can still be typed
        return ""
    return tidy(raw)[:MAX_TEXT_CHARS]


def tidy(raw: str) -> str:
    """Spaces collapsed inside lines, at most one empty line between paragraphs."""
    lines = [" ".join(line.split()) for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


async def sample_text(session: AsyncSession, sample: WorkSample, settings: Settings) -> str:
    """The text of any sample: pasted text as it is, a file's extracted text (read once, then kept)."""
    if sample.kind == SampleKind.text:
        return sample.text or ""
    if sample.kind != SampleKind.file or not sample.storage_key:
        return ""
    if sample.extracted_text is not None:
        return sample.extracted_text
    path = settings.uploads_path / sample.storage_key
    if not path.is_file():
        return ""
    found = await asyncio.to_thread(read_file_text, path, sample.detected_type or "")
    await session.execute(
        update(WorkSample).where(col(WorkSample.id) == sample.id).values(extracted_text=found)
    )
    sample.extracted_text = found
    return found


# A sentence ends at . ! ? or … (with any closing quotes or brackets) before a space and a capital, digit or
# opening quote; and at every line break. Common abbreviations do not end one.
_END = re.compile(r"""([.!?…]["'”’)\]]*)\s+(?=["'“‘(\[]?[A-Z0-9À-ÖØ-Þ])""")
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
