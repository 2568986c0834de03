"""Work-sample uploads: name and size checks, content sniffing, safe storage and cleanup (spec E1 to E4)."""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import os
import re
import secrets
import unicodedata
import weakref
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO
from xml.parsers import expat

import anyio.to_thread
from litestar.datastructures import UploadFile
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.i18n import N_
from app.i18n import gettext as _
from app.settings import Settings

KB = 1024
MB = 1024 * KB
CHUNK = 64 * KB
PDF_MAX_PAGES = 200
PDF_COUNT_MAX_BYTES = 5 * MB
# Uploaded documents read (type checks, word counts) at the same time, per event loop.
INSPECTIONS_AT_ONCE = 2
_inspections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _inspection_slots() -> anyio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _inspections.get(loop)
    if slots is None:
        slots = _inspections[loop] = anyio.Semaphore(INSPECTIONS_AT_ONCE)
    return slots


PDF_HEADER_WINDOW = 1024
MAX_DISPLAY_NAME = 255
RATIO_MIN_ENTRY_BYTES = 1 * MB
MAX_RATIO = 200
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
STORAGE_KEY = re.compile(r"[0-9a-f]{32}")
# An upload is written to `<key>.part` and renamed to `<key>` once its checks pass.
PART_SUFFIX = ".part"

ALLOWED_EXTENSIONS = ("pdf", "docx", "odt", "rtf", "txt", "md")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "rtf": "application/rtf",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
TEXT_EXTENSIONS = frozenset({"txt", "md"})
ACCEPTED_TYPES_MESSAGE = N_(
    "Only PDF, Word (.docx), OpenDocument (.odt), RTF, plain text (.txt) "
    "and Markdown (.md) files are accepted."
)

# Inner extensions that make a name like `cv.html.pdf` dangerous: some servers, mail filters and
# desktops act on them rather than on the last one.
DANGEROUS_EXTENSIONS = frozenset(
    """
    htm html xhtml xht shtml mht mhtml svg svgz xml xsl xslt js mjs cjs jsx ts vbs vbe jse wsf wsh hta
    php php3 php4 php5 php7 php8 phtml phar pht asp aspx ascx ashx jsp jspx cfm cgi pl py pyc pyw rb
    sh bash zsh csh ksh ps1 psm1 psd1 bat cmd com exe dll scr msi msp mst cpl pif lnk url reg inf scf
    gadget msc ws jar class apk app appimage dmg pkg deb rpm run bin elf so dylib swf iso img vhd
    docm dotm xlsm xltm pptm potm ppsm
    """.split()
)

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

BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


class UploadRejected(Exception):
    """An upload refused for a reason the applicant can act on; `message` is shown to them."""

    def __init__(self, message: str, *, status_code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass(frozen=True)
class StoredFile:
    """A file accepted and stored under `storage_key` in the upload folder."""

    storage_key: str
    path: Path
    file_name: str
    detected_type: str
    content_type: str
    size_bytes: int
    sha256: str
    word_count: int | None


def _human_size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f}".removesuffix(".0") + " MB"
    if n >= KB:
        return f"{n / KB:.1f}".removesuffix(".0") + " KB"
    return f"{n} bytes"


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS


def clean_filename(name: str) -> str:
    """The name to show for an upload: basename only, no control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if not _is_control(ch))
    base = re.split(r"[/\\]", name)[-1].strip()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext.strip()
    # Leading dots would make a hidden file or `..` if the name were ever used on disk.
    stem = stem.strip().lstrip(".").strip() or "sample"
    if not ext:
        return stem[:MAX_DISPLAY_NAME]
    ext = ext[:16]
    return f"{stem[: MAX_DISPLAY_NAME - len(ext) - 1].rstrip()}.{ext}"


def check_filename(name: str) -> str:
    """The upload's extension if the name is acceptable; raises UploadRejected otherwise."""
    if any(_is_control(ch) for ch in name):
        raise UploadRejected(
            _("The file name contains characters that are not allowed. Please rename the file and try again.")
        )
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
    parts = base.split(".")
    if len(parts) < 2:
        raise UploadRejected(_(ACCEPTED_TYPES_MESSAGE))
    ext = parts[-1].lower()
    if ext not in ALLOWED_EXTENSIONS:
        raise UploadRejected(_(ACCEPTED_TYPES_MESSAGE))
    for inner in parts[1:-1]:
        if inner.strip().lower() in DANGEROUS_EXTENSIONS:
            raise UploadRejected(
                _(
                    "The file name contains a second extension (.%(ext)s) that is not allowed. "
                    "Please rename the file and try again.",
                    ext=inner.strip(),
                )
            )
    return ext


# --- word counting --------------------------------------------------------------------------------------


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


# --- content checks -------------------------------------------------------------------------------------


def _mismatch(ext: str) -> UploadRejected:
    return UploadRejected(_("This file's contents do not match its .%(ext)s extension.", ext=ext))


def _damaged() -> UploadRejected:
    return UploadRejected(_("This document appears to be damaged and could not be read."))


def _inspect(path: Path, ext: str, settings: Settings) -> tuple[str, int | None]:
    """Decide the file's type from its content, check it agrees with `ext`, and count its words."""
    with path.open("rb") as fh:
        head = fh.read(8 * KB)
    if head.startswith(EXECUTABLE_MAGIC):
        raise UploadRejected(_("This file is a program, not a document."))
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if ext not in ("docx", "odt"):
            raise _mismatch(ext)
        return _inspect_zip(path, ext, settings)
    pdf_at = head.find(b"%PDF-", 0, PDF_HEADER_WINDOW + 4)
    if pdf_at == 0 or (pdf_at > 0 and ext == "pdf"):
        if ext != "pdf":
            raise _mismatch(ext)
        # Readers skip junk before the header; a browser could read that junk as HTML.
        if b"<" in head[:pdf_at]:
            raise _mismatch(ext)
        # Large PDFs are scans and photos more than text, and reading one takes twice its size in memory:
        # they are kept without a word count (PERFORMANCE.md B5).
        return "pdf", _pdf_words(path) if path.stat().st_size <= PDF_COUNT_MAX_BYTES else None
    if head.startswith(b"{\\rtf"):
        if ext != "rtf":
            raise _mismatch(ext)
        return "rtf", _rtf_words(path)
    if ext not in TEXT_EXTENSIONS:
        raise _mismatch(ext)
    return ext, _text_words(path)


def _text_words(path: Path) -> int:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    words = _Words()
    tail = ""
    first = True
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            final = not chunk
            if b"\x00" in chunk:
                raise UploadRejected(
                    _("This text file contains binary data. Please upload a document instead.")
                )
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError:
                raise UploadRejected(
                    _("This text file is not UTF-8 encoded. Please save it as UTF-8 or upload a PDF.")
                ) from None
            if first and MARKUP_START.match(text.lstrip()):
                raise _markup()
            if MARKUP_ANYWHERE.search(tail + text):
                raise _markup()
            tail = (tail + text)[-MARKUP_OVERLAP:]
            first = first and not text.strip()
            words.feed(text)
            if final:
                return words.total()


def _markup() -> UploadRejected:
    return UploadRejected(_("This text file contains HTML or SVG markup, which is not accepted."))


def _pdf_words(path: Path) -> int | None:
    from pypdf import PdfReader

    words = _Words()
    try:
        # An open file, not a path: given a path, pypdf reads the whole file into memory first.
        with path.open("rb") as fh:
            reader = PdfReader(fh)
            if reader.is_encrypted:
                return None
            for number, page in enumerate(reader.pages):
                if number >= PDF_MAX_PAGES:
                    break
                words.feed(page.extract_text() or "")
                words.boundary()
    except Exception:
        # A PDF pypdf cannot read may still open in a viewer; it is kept, just without a count.
        return None
    return words.total()


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
RTF_BREAKS = frozenset(b"par line tab sect page cell row lbr emspace enspace qmspace".split())
RTF_EMBEDDED = frozenset({b"object", b"objdata", b"objemb", b"objlink", b"objautlink", b"objupdate"})


def _rtf_words(path: Path) -> int:
    data = path.read_bytes()
    words = _Words()
    skip_depth: int | None = None
    depth = 0
    group_start = False
    pending_skip = 0
    for match in RTF_TOKEN.finditer(data):
        word, _param, hexchar, symbol, brace, text = match.groups()
        if word in RTF_EMBEDDED:
            # Embedded OLE objects are the usual carrier of RTF exploits.
            raise UploadRejected(_("RTF files with embedded objects are not accepted. Please upload a PDF."))
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
                words.boundary()
            elif word == b"u":
                words.feed("x")
                pending_skip = 1
            continue
        if hexchar is not None:
            if pending_skip:
                pending_skip -= 1
            else:
                words.feed("x")
            continue
        if symbol is not None:
            if symbol == b"~":
                words.boundary()
            elif symbol in (b"\n", b"\r"):
                words.boundary()
            elif symbol in (b"\\", b"{", b"}", b"_"):
                words.feed(symbol.decode("latin-1"))
            continue
        if text is not None:
            if pending_skip:
                text, pending_skip = text[1:], 0
            words.feed(text.decode("latin-1"))
    return words.total()


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


def _check_archive(zf: zipfile.ZipFile, settings: Settings) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > settings.archive_max_entries:
        raise _too_many_parts()
    if sum(info.file_size for info in infos) > settings.archive_max_uncompressed_bytes:
        raise _too_large_unpacked()
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.flag_bits & 0x1:
            raise UploadRejected(_("Password-protected documents are not accepted."))
        if _unsafe_entry_name(info.orig_filename) or _unsafe_entry_name(info.filename):
            raise UploadRejected(_("This document contains unsafe file paths and was not accepted."))
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
    return UploadRejected(_("This document contains too many parts to be checked safely."))


def _too_large_unpacked() -> UploadRejected:
    return UploadRejected(_("This document would be too large once unpacked."))


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    """An entry's bytes in chunks, refusing more than `cap` whatever the header declared."""
    read = 0
    with zf.open(info) as member:
        while chunk := member.read(CHUNK):
            read += len(chunk)
            if read > cap:
                raise _too_large_unpacked()
            yield chunk


def _inspect_zip(path: Path, ext: str, settings: Settings) -> tuple[str, int | None]:
    declared = _zip_declared_entries(path)
    if declared is None:
        raise _damaged()
    if declared > settings.archive_max_entries:
        raise _too_many_parts()
    try:
        with zipfile.ZipFile(path) as zf:
            entries = _check_archive(zf, settings)
            cap = settings.archive_max_uncompressed_bytes
            mimetype = entries.get("mimetype")
            if mimetype is not None and mimetype.file_size <= 200:
                if b"".join(_read_entry(zf, mimetype, 200)) == ODT_MIMETYPE:
                    if ext != "odt":
                        raise _mismatch(ext)
                    content = entries.get("content.xml")
                    if content is None:
                        raise _damaged()
                    return "odt", _xml_words(_read_entry(zf, content, cap), _odt_handlers)
            if "[Content_Types].xml" in entries and "word/document.xml" in entries:
                if ext != "docx":
                    raise _mismatch(ext)
                if any(name.lower().endswith("vbaproject.bin") for name in entries):
                    raise UploadRejected(_("Documents with macros are not accepted."))
                document = entries["word/document.xml"]
                return "docx", _xml_words(_read_entry(zf, document, cap), _docx_handlers)
            raise _mismatch(ext)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, ValueError):
        raise _damaged() from None


class _UnsafeXml(Exception):
    pass


def _refuse_xml(*_args: Any) -> None:
    raise _UnsafeXml


Handlers = tuple[Callable[[str], None], Callable[[str], None], Callable[[str], None]]


def _docx_handlers(words: _Words) -> Handlers:
    state = {"in_text": 0}

    def start(name: str) -> None:
        ns, _, local = name.rpartition("}")
        if ns != W_NS:
            return
        if local == "t":
            state["in_text"] += 1
        elif local in ("p", "tab", "br", "cr"):
            words.boundary()

    def end(name: str) -> None:
        ns, _, local = name.rpartition("}")
        if ns == W_NS and local == "t":
            state["in_text"] -= 1
        elif ns == W_NS and local == "p":
            words.boundary()

    def text(data: str) -> None:
        if state["in_text"] > 0:
            words.feed(data)

    return start, end, text


def _odt_handlers(words: _Words) -> Handlers:
    state = {"in_para": 0}

    def start(name: str) -> None:
        ns, _, local = name.rpartition("}")
        if ns != TEXT_NS:
            return
        if local in ("p", "h"):
            state["in_para"] += 1
            words.boundary()
        elif local in ("s", "tab", "line-break"):
            words.boundary()

    def end(name: str) -> None:
        ns, _, local = name.rpartition("}")
        if ns == TEXT_NS and local in ("p", "h"):
            state["in_para"] -= 1
            words.boundary()

    def text(data: str) -> None:
        if state["in_para"] > 0:
            words.feed(data)

    return start, end, text


def _xml_words(chunks: Iterator[bytes], handlers: Callable[[_Words], Handlers]) -> int:
    """Count words in streamed XML; a DOCTYPE or entity declaration refuses the file (no expansion)."""
    words = _Words()
    start, end, text = handlers(words)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_xml
    parser.EntityDeclHandler = _refuse_xml
    parser.UnparsedEntityDeclHandler = _refuse_xml
    parser.ExternalEntityRefHandler = _refuse_xml  # type: ignore[assignment]
    parser.StartElementHandler = lambda name, _attrs: start(name)
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _UnsafeXml:
        raise UploadRejected(
            _("This document contains unsafe XML declarations and was not accepted.")
        ) from None
    except expat.ExpatError:
        raise _damaged() from None
    return words.total()


# --- storage --------------------------------------------------------------------------------------------


def _discard(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _open_part(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    return os.fdopen(fd, "wb")


def _too_large(size: int, settings: Settings) -> UploadRejected:
    if size > settings.max_file_bytes:
        return UploadRejected(
            _("This file is larger than %(size)s.", size=_human_size(settings.max_file_bytes)),
            status_code=413,
        )
    return UploadRejected(
        _(
            "Your files together are larger than the %(size)s allowed per application.",
            size=_human_size(settings.max_application_bytes),
        ),
        status_code=413,
    )


def _copy(source: IO[bytes], part: Path, *, limit: int, settings: Settings) -> tuple[int, str]:
    """Copy an upload to `part` in chunks, hashing as it goes; refuse it past `limit` bytes. Blocking."""
    part.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with _open_part(part) as fh:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(size, settings)
            digest.update(chunk)
            fh.write(chunk)
    return size, digest.hexdigest()


def _inspect_and_keep(part: Path, final: Path, ext: str, settings: Settings) -> tuple[str, int | None]:
    found = _inspect(part, ext, settings)
    os.replace(part, final)
    return found


async def store_upload(
    source: UploadFile | IO[bytes], *, filename: str, settings: Settings, budget_bytes: int
) -> StoredFile:
    """Check and stream one upload into the upload folder under a random name; refusals leave no file.

    The copy and the checks each run in one worker thread, not one hop per chunk.
    """
    ext = check_filename(filename)
    display_name = clean_filename(filename)
    limit = min(settings.max_file_bytes, budget_bytes)
    key = secrets.token_hex(16)
    part = settings.uploads_path / f"{key}{PART_SUFFIX}"
    final = settings.uploads_path / key
    stream: IO[bytes] = source.file if isinstance(source, UploadFile) else source
    try:
        size, sha256 = await anyio.to_thread.run_sync(
            lambda: _copy(stream, part, limit=limit, settings=settings)
        )
        if size == 0:
            raise UploadRejected(_("This file is empty."))
        # Reading a document can take several times its size in memory; a few at a time keep a burst of
        # large uploads from adding up (PERFORMANCE.md B5).
        async with _inspection_slots():
            detected, word_count = await anyio.to_thread.run_sync(
                _inspect_and_keep, part, final, ext, settings
            )
    except BaseException:
        # Synchronous on purpose: this also runs on cancellation, when awaiting may not be possible.
        _discard(part, final)
        raise
    return StoredFile(
        storage_key=key,
        path=final,
        file_name=display_name,
        detected_type=detected,
        content_type=CONTENT_TYPES[detected],
        size_bytes=size,
        sha256=sha256,
        word_count=word_count,
    )


def remove_stored(settings: Settings, storage_key: str) -> None:
    """Delete a stored upload (and any leftover partial file); a missing file is not an error."""
    if not STORAGE_KEY.fullmatch(storage_key):
        raise ValueError(f"not a storage key: {storage_key!r}")
    folder = settings.uploads_path
    _discard(folder / storage_key, folder / f"{storage_key}{PART_SUFFIX}")


# --- rollback cleanup -----------------------------------------------------------------------------------

_TRACKED = "byline.uploads.tracked"


def track_for_rollback(session: AsyncSession, path: Path) -> None:
    """Delete `path` if the session's transaction is rolled back or ends without a commit."""
    session.sync_session.info.setdefault(_TRACKED, []).append(path)


def _discard_tracked(session: Session) -> None:
    paths: list[Path] = session.info.pop(_TRACKED, [])
    _discard(*paths)


@event.listens_for(Session, "after_rollback")
def _on_rollback(session: Session) -> None:
    # A savepoint rollback leaves the outer transaction, and the rows pointing at these files, alive.
    if not session.in_nested_transaction():
        _discard_tracked(session)


@event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_TRACKED, None)


@event.listens_for(Session, "after_transaction_end")
def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Closing a session with its transaction still open discards the rows, so their files go too.
    if transaction.parent is None:
        _discard_tracked(session)
