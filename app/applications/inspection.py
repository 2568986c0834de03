"""Reading an uploaded document: its type by content, safety checks, word count and plain text.

Run as `python -m app.applications.inspection`, it is the child process `uploads` starts for each upload: it
sets CPU-time and address-space limits on itself before reading the file, so a hostile document costs a fixed
budget at most. This module imports nothing of the web app, so that child starts small.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import resource
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.parsers import expat

KB = 1024
MB = 1024 * KB
CHUNK = 64 * KB
PDF_HEADER_WINDOW = 1024
# The bytes read to decide a file's type by its content.
HEAD_BYTES = 8 * KB
RATIO_MIN_ENTRY_BYTES = 1 * MB
MAX_RATIO = 200
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
TEXT_EXTENSIONS = frozenset({"txt", "md"})
# How often (in operations, tokens or chunks) the CPU clock is read against the budget.
CLOCK_EVERY = 512

EXECUTABLE_MAGIC = (
    b"MZ",  # DOS/Windows PE
    b"\x7fELF",
    b"#!",  # script with an interpreter line
    b"\xef\xbb\xbf#!",
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
    b"\x00asm",  # WebAssembly
    b"dex\n",  # Android
)

# Tags a browser's sniffer would treat as HTML at the start of a document (WHATWG MIME sniffing), plus XML.
MARKUP_START = re.compile(
    r"<(?:!doctype\s+html|!--|\?xml|html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p"
    r"|(?:[a-z][\w.-]*:)?svg)(?:[\s/>]|\Z)",
    re.IGNORECASE,
)
# Markup that makes a file active content wherever it appears.
MARKUP_ANYWHERE = re.compile(
    r"<(?:!doctype\s+html|html|body|script|iframe|object|embed|(?:[a-z][\w.-]*:)?svg)(?:[\s/>]|\Z)",
    re.IGNORECASE,
)
MARKUP_OVERLAP = 64

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_SENTENCE_ENDS = (".", "!", "?", "…", ":", '"', "”", "'", "’")


def N_(message: str) -> str:
    """Mark `message` for the catalog; the web process translates it when it shows it."""
    return message


class UploadRejected(Exception):
    """An upload refused for a reason the applicant can act on; `message` is shown to them.

    Raised in the inspection process, `message` is the catalog's English text and `params` fill its
    placeholders, so that the web process can show it in the applicant's language.
    """

    def __init__(self, message: str, *, status_code: int = 422, params: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.params = params or {}


class OverBudget(BaseException):
    """More work than the budget allows; not an Exception, so that no reader swallows it."""


@dataclass(frozen=True)
class Limits:
    """What one inspection may spend, and the archive limits it checks."""

    cpu_seconds: int
    memory_bytes: int
    max_pdf_operations: int
    max_text_chars: int
    archive_max_entries: int
    archive_max_uncompressed_bytes: int


@dataclass(frozen=True)
class Inspection:
    """The type found by content, and the word count and text when they could be read within the budget."""

    detected_type: str
    word_count: int | None
    text: str | None


class _Budget:
    """Counts work and stops it (OverBudget) past a number of PDF operations or of CPU seconds."""

    def __init__(self, limits: Limits) -> None:
        self.deadline = time.process_time() + limits.cpu_seconds
        self.max_operations = limits.max_pdf_operations
        self.operations = 0
        self._ticks = 0

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % CLOCK_EVERY == 0 and time.process_time() > self.deadline:
            raise OverBudget

    def operation(self, *_args: Any) -> None:
        self.operations += 1
        if self.operations > self.max_operations:
            raise OverBudget
        self.tick()


# --- words and text -------------------------------------------------------------------------------------


class _Words:
    """Counts whitespace-separated tokens that contain a letter or digit, fed in pieces."""

    HAS_WORD = re.compile(r"\w")
    TRAILING = re.compile(r"\S+\Z")
    MAX_CARRY = 4 * KB

    def __init__(self) -> None:
        self.count = 0
        self._carry = ""

    def feed(self, text: str) -> None:
        text = self._carry + text
        self._carry = ""
        tail = self.TRAILING.search(text)
        if tail is not None:
            self._carry = tail.group()
            text = text[: tail.start()]
        self.count += sum(1 for token in text.split() if self.HAS_WORD.search(token))
        if len(self._carry) > self.MAX_CARRY:
            self.boundary()

    def boundary(self) -> None:
        if self.HAS_WORD.search(self._carry):
            self.count += 1
        self._carry = ""

    def total(self) -> int:
        self.boundary()
        return self.count


class _Reader:
    """Words counted and text kept (up to a number of characters) from one pass over a document."""

    def __init__(self, max_chars: int) -> None:
        self.words = _Words()
        self._parts: list[str] = []
        self._size = 0
        self._max = max_chars

    def feed(self, text: str) -> None:
        self.words.feed(text)
        self.keep(text)

    def boundary(self, separator: str = " ") -> None:
        self.words.boundary()
        self.keep(separator)

    def keep(self, text: str) -> None:
        if self._size < self._max:
            piece = text[: self._max - self._size]
            self._parts.append(piece)
            self._size += len(piece)

    def result(self, detected_type: str) -> Inspection:
        return Inspection(detected_type, self.words.total(), tidy("".join(self._parts))[: self._max])


def tidy(raw: str) -> str:
    """Spaces collapsed inside lines, at most one empty line between paragraphs, no NUL or lone surrogate."""
    raw = raw.replace("\x00", "").encode("utf-8", errors="replace").decode("utf-8")
    lines = [" ".join(line.split()) for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


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


# --- content checks -------------------------------------------------------------------------------------


def _mismatch(ext: str) -> UploadRejected:
    return UploadRejected(
        N_("This file's contents do not match its .%(ext)s extension."), params={"ext": ext}
    )


def _damaged() -> UploadRejected:
    return UploadRejected(N_("This document appears to be damaged and could not be read."))


Checked = Callable[[str], None]


ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def type_by_head(head: bytes, ext: str) -> str | None:
    """What the first bytes of a file (HEAD_BYTES of them) decide alone: "pdf" for a PDF, which is then safe
    to keep (its text is only read, never trusted); "zip" for an archive named .docx or .odt, whose parts
    must still be checked; None when the whole file has to be read. Raises UploadRejected for a program or
    a type that does not match `ext`."""
    if head.startswith(EXECUTABLE_MAGIC):
        raise UploadRejected(N_("This file is a program, not a document."))
    if head.startswith(ZIP_MAGIC):
        if ext not in ("docx", "odt"):
            raise _mismatch(ext)
        return "zip"
    pdf_at = head.find(b"%PDF-", 0, PDF_HEADER_WINDOW + 4)
    if pdf_at == 0 or (pdf_at > 0 and ext == "pdf"):
        # Readers skip junk before the header; a browser could read that junk as HTML.
        if ext != "pdf" or b"<" in head[:pdf_at]:
            raise _mismatch(ext)
        return "pdf"
    return None


def inspect_file(path: Path, ext: str, limits: Limits, checked: Checked = lambda _type: None) -> Inspection:
    """Decide the file's type from its content, check it agrees with `ext`, count its words, keep its text.

    `checked(type)` is called as soon as the file is known to be safe to keep; past that point running out
    of budget only loses the count and the text. OverBudget before it means the file could not be checked.
    """
    budget = _Budget(limits)
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    found = type_by_head(head, ext)
    if found == "zip":
        return _inspect_zip(path, ext, limits, budget, checked)
    if found == "pdf":
        checked("pdf")
        return _pdf(path, limits, budget)
    if head.startswith(b"{\\rtf"):
        if ext != "rtf":
            raise _mismatch(ext)
        return _rtf(path, limits, budget)
    if ext not in TEXT_EXTENSIONS:
        raise _mismatch(ext)
    return _text(path, ext, limits, budget)


def _text(path: Path, ext: str, limits: Limits, budget: _Budget) -> Inspection:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    reader = _Reader(limits.max_text_chars)
    tail = ""
    first = True
    with path.open("rb") as fh:
        while True:
            budget.tick()
            chunk = fh.read(CHUNK)
            final = not chunk
            if b"\x00" in chunk:
                raise UploadRejected(
                    N_("This text file contains binary data. Please upload a document instead.")
                )
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError:
                raise UploadRejected(
                    N_("This text file is not UTF-8 encoded. Please save it as UTF-8 or upload a PDF.")
                ) from None
            if first and MARKUP_START.match(text.lstrip()):
                raise _markup()
            if MARKUP_ANYWHERE.search(tail + text):
                raise _markup()
            tail = (tail + text)[-MARKUP_OVERLAP:]
            first = first and not text.strip()
            reader.feed(text)
            if final:
                return reader.result(ext)


def _markup() -> UploadRejected:
    return UploadRejected(N_("This text file contains HTML or SVG markup, which is not accepted."))


def _pdf(path: Path, limits: Limits, budget: _Budget) -> Inspection:
    from pypdf import PdfReader

    reader = _Reader(limits.max_text_chars)
    try:
        # An open file, not a path: given a path, pypdf reads the whole file into memory first.
        with path.open("rb") as fh:
            pdf = PdfReader(fh)
            if pdf.is_encrypted:
                return Inspection("pdf", None, None)
            # Every page counts, however many: the budget bounds the work (operations and CPU time), so
            # pages that share one long content stream cost what they really cost.
            for page in pdf.pages:
                text = page.extract_text(visitor_operand_before=budget.operation) or ""
                reader.words.feed(text)
                reader.words.boundary()
                reader.keep(unwrap(text) + "\n\n")
    except (OverBudget, MemoryError, RecursionError):
        raise
    except Exception:
        # A PDF pypdf cannot read may still open in a viewer; it is kept, just without a count.
        return Inspection("pdf", None, None)
    return reader.result("pdf")


RTF_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([^\\{}\r\n]+)|[\r\n]+", re.DOTALL
)
RTF_SKIP = frozenset(
    b"""
    fonttbl colortbl stylesheet info pict object objdata themedata colorschememapping datastore
    latentstyles listtable listoverridetable rsidtbl generator xmlnstbl fldinst header footer headerl
    headerr headerf footerl footerr footerf filetbl revtbl pgdsctbl mmathPr operator author
    """.split()
)
RTF_BREAKS = {b"par": "\n", b"line": "\n", b"tab": "\t", b"sect": "\n", b"page": "\n", b"cell": "\t",
              b"row": "\n", b"lbr": "\n", b"emspace": " ", b"enspace": " ", b"qmspace": " "}  # fmt: skip
RTF_EMBEDDED = frozenset({b"object", b"objdata", b"objemb", b"objlink", b"objautlink", b"objupdate"})


def _rtf_char(code: int) -> str:
    char = chr(code % 65536)
    return "\ufffd" if "\ud800" <= char <= "\udfff" else char


def _rtf(path: Path, limits: Limits, budget: _Budget) -> Inspection:
    data = path.read_bytes()
    reader = _Reader(limits.max_text_chars)
    skip_depth: int | None = None
    depth = 0
    group_start = False
    pending_skip = 0
    for match in RTF_TOKEN.finditer(data):
        budget.tick()
        word, param, hexchar, symbol, brace, text = match.groups()
        if word in RTF_EMBEDDED:
            # Embedded OLE objects are the usual carrier of RTF exploits.
            raise UploadRejected(N_("RTF files with embedded objects are not accepted. Please upload a PDF."))
        if brace == b"{":
            depth += 1
            group_start = True
            continue
        if brace == b"}":
            if skip_depth is not None and depth <= skip_depth:
                skip_depth = None
            depth -= 1
            group_start = False
            continue
        starts_group, group_start = group_start, False
        if skip_depth is not None:
            continue
        if (symbol == b"*" and starts_group) or word in RTF_SKIP:
            skip_depth = depth
            continue
        if word is not None:
            if word in RTF_BREAKS:
                reader.boundary(RTF_BREAKS[word])
            elif word == b"u" and param is not None:
                reader.feed(_rtf_char(int(param)))
                pending_skip = 1
            continue
        if hexchar is not None:
            if pending_skip:
                pending_skip -= 1
            else:
                reader.feed(bytes.fromhex(hexchar.decode()).decode("cp1252", errors="replace"))
            continue
        if symbol is not None:
            if symbol == b"~":
                reader.boundary()
            elif symbol in (b"\n", b"\r"):
                reader.boundary("\n")
            elif symbol in (b"\\", b"{", b"}", b"_"):
                reader.feed(symbol.decode("latin-1"))
            continue
        if text is not None:
            if pending_skip:
                text, pending_skip = text[1:], 0
            reader.feed(text.decode("cp1252", errors="replace"))
    return reader.result("rtf")


# --- DOCX and ODT ---------------------------------------------------------------------------------------


def _zip_declared_entries(path: Path) -> int | None:
    """The entry count from the end-of-central-directory record, read before parsing the directory."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - (22 + 65535)))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    return int.from_bytes(tail[at + 10 : at + 12], "little")


def _unsafe_entry_name(name: str) -> bool:
    if "\x00" in name or name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return True
    return any(part == ".." for part in re.split(r"[/\\]", name))


def _check_archive(zf: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > limits.archive_max_entries:
        raise _too_many_parts()
    if sum(info.file_size for info in infos) > limits.archive_max_uncompressed_bytes:
        raise _too_large_unpacked()
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.flag_bits & 0x1:
            raise UploadRejected(N_("Password-protected documents are not accepted."))
        if _unsafe_entry_name(info.orig_filename) or _unsafe_entry_name(info.filename):
            raise UploadRejected(N_("This document contains unsafe file paths and was not accepted."))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _damaged()
        if info.file_size > RATIO_MIN_ENTRY_BYTES and (
            info.compress_size == 0 or info.file_size / info.compress_size > MAX_RATIO
        ):
            raise _too_large_unpacked()
        if info.filename in entries:
            # Readers disagree on which duplicate wins, so the checked part might not be the shown one.
            raise _damaged()
        entries[info.filename] = info
    return entries


def _too_many_parts() -> UploadRejected:
    return UploadRejected(N_("This document contains too many parts to be checked safely."))


def _too_large_unpacked() -> UploadRejected:
    return UploadRejected(N_("This document would be too large once unpacked."))


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    """An entry's bytes in chunks, refusing more than `cap` whatever the header declared."""
    read = 0
    with zf.open(info) as member:
        while chunk := member.read(CHUNK):
            read += len(chunk)
            if read > cap:
                raise _too_large_unpacked()
            yield chunk


def _inspect_zip(path: Path, ext: str, limits: Limits, budget: _Budget, checked: Checked) -> Inspection:
    declared = _zip_declared_entries(path)
    if declared is None:
        raise _damaged()
    if declared > limits.archive_max_entries:
        raise _too_many_parts()
    try:
        with zipfile.ZipFile(path) as zf:
            entries = _check_archive(zf, limits)
            cap = limits.archive_max_uncompressed_bytes
            mimetype = entries.get("mimetype")
            if mimetype is not None and mimetype.file_size <= 200:
                if b"".join(_read_entry(zf, mimetype, 200)) == ODT_MIMETYPE:
                    if ext != "odt":
                        raise _mismatch(ext)
                    content = entries.get("content.xml")
                    if content is None:
                        raise _damaged()
                    chunks = _read_entry(zf, content, cap)
                    return _xml(chunks, _odt_handlers, limits, budget, lambda: checked("odt")).result("odt")
            if "[Content_Types].xml" in entries and "word/document.xml" in entries:
                if ext != "docx":
                    raise _mismatch(ext)
                if any(name.lower().endswith("vbaproject.bin") for name in entries):
                    raise UploadRejected(N_("Documents with macros are not accepted."))
                chunks = _read_entry(zf, entries["word/document.xml"], cap)
                return _xml(chunks, _docx_handlers, limits, budget, lambda: checked("docx")).result("docx")
            raise _mismatch(ext)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, ValueError):
        raise _damaged() from None


class _UnsafeXml(Exception):
    pass


def _refuse_xml(*_args: Any) -> None:
    raise _UnsafeXml


Handlers = tuple[Callable[[str, dict[str, str]], None], Callable[[str], None], Callable[[str], None]]


def _docx_handlers(reader: _Reader) -> Handlers:
    state = {"in_text": 0}
    breaks = {"tab": "\t", "br": "\n", "cr": "\n"}

    def start(name: str, _attrs: dict[str, str]) -> None:
        ns, _, local = name.rpartition("}")
        if ns != W_NS:
            return
        if local == "t":
            state["in_text"] += 1
        elif local == "p":
            reader.boundary()
        elif local in breaks:
            reader.boundary(breaks[local])

    def end(name: str) -> None:
        ns, _, local = name.rpartition("}")
        if ns == W_NS and local == "t":
            state["in_text"] -= 1
        elif ns == W_NS and local == "p":
            reader.boundary("\n\n")

    def text(data: str) -> None:
        if state["in_text"] > 0:
            reader.feed(data)

    return start, end, text


def _odt_handlers(reader: _Reader) -> Handlers:
    state = {"in_para": 0}
    breaks = {"s": " ", "tab": "\t", "line-break": "\n"}
    spaces = f"{TEXT_NS}}}c"

    def start(name: str, attrs: dict[str, str]) -> None:
        ns, _, local = name.rpartition("}")
        if ns != TEXT_NS:
            return
        if local in ("p", "h"):
            state["in_para"] += 1
            reader.boundary()
        elif local == "s":
            count = attrs.get(spaces, "1")
            reader.boundary(" " * min(int(count) if count.isdigit() else 1, 100))
        elif local in breaks:
            reader.boundary(breaks[local])

    def end(name: str) -> None:
        ns, _, local = name.rpartition("}")
        if ns == TEXT_NS and local in ("p", "h"):
            state["in_para"] -= 1
            reader.boundary("\n\n")

    def text(data: str) -> None:
        if state["in_para"] > 0:
            reader.feed(data)

    return start, end, text


def _xml(
    chunks: Iterator[bytes],
    handlers: Callable[[_Reader], Handlers],
    limits: Limits,
    budget: _Budget,
    checked: Callable[[], None],
) -> _Reader:
    """Read streamed XML; a DOCTYPE or entity declaration refuses the file (no expansion)."""
    reader = _Reader(limits.max_text_chars)
    start, end, text = handlers(reader)
    seen_root = False

    def on_start(name: str, attrs: dict[str, str]) -> None:
        nonlocal seen_root
        if not seen_root:
            # Declarations can only come before the root element: from here on the file is safe to keep.
            seen_root = True
            checked()
        start(name, attrs)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_xml
    parser.EntityDeclHandler = _refuse_xml
    parser.UnparsedEntityDeclHandler = _refuse_xml
    parser.ExternalEntityRefHandler = _refuse_xml  # type: ignore[assignment]
    parser.StartElementHandler = on_start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        for chunk in chunks:
            budget.tick()
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _UnsafeXml:
        raise UploadRejected(
            N_("This document contains unsafe XML declarations and was not accepted.")
        ) from None
    except expat.ExpatError:
        raise _damaged() from None
    return reader


# --- the limited child process ----------------------------------------------------------------------------


def _limit(limits: Limits) -> None:
    """CPU seconds and address space for this process; past the CPU limit the kernel ends it."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    used = int(time.process_time())
    # The soft limit sends SIGXCPU (which ends the process), the hard one SIGKILL a second later.
    resource.setrlimit(resource.RLIMIT_CPU, (used + limits.cpu_seconds + 1, used + limits.cpu_seconds + 2))


def _tiny_pdf() -> bytes:
    """A valid one-page PDF with one word, for the warm-up."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length 33>>stream\nBT /F1 12 Tf 72 700 Td (a) Tj ET\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def _warm_up() -> None:
    """Import the PDF reader and its lazily loaded parts while the process waits, not while someone does."""
    import io

    from pypdf import PdfReader

    try:
        PdfReader(io.BytesIO(_tiny_pdf())).pages[0].extract_text()
    except Exception:  # noqa: S110  (only a warm-up)
        pass


def _send(out: BinaryIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message).encode() + b"\n")
    out.flush()


def main() -> None:
    """Child process: wait for one job on stdin, inspect that file under the limits, answer on stdout.

    Answers are JSON lines: {"checked": type} once the file is safe to keep, then one of {"done": [type,
    count, text]}, {"rejected": [message, status, params]} or {"over": true}.
    """
    # Answers go to the original stdout; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _warm_up()
    line = sys.stdin.buffer.readline()
    if not line:
        return
    job = json.loads(line)
    limits = Limits(**job["limits"])
    try:
        _limit(limits)
        found = inspect_file(
            Path(job["path"]), job["ext"], limits, lambda kind: _send(out, {"checked": kind})
        )
        _send(out, {"done": [found.detected_type, found.word_count, found.text]})
    except UploadRejected as exc:
        _send(out, {"rejected": [exc.message, exc.status_code, exc.params]})
    except (OverBudget, MemoryError, RecursionError):
        _send(out, {"over": True})


if __name__ == "__main__":
    main()
