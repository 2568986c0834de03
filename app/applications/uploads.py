"""Work-sample uploads: name and size checks, content sniffing, safe storage and cleanup (spec E1 to E4)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import re
import secrets
import selectors
import subprocess
import sys
import threading
import time
import unicodedata
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

import anyio.to_thread
from litestar.datastructures import UploadFile

from app.applications import inspection
from app.applications.inspection import Inspection, UploadRejected
from app.core.i18n import N_, format_size
from app.core.i18n import gettext as _
from app.settings import Settings

__all__ = ["StoredFile", "UploadRejected", "check_filename", "clean_filename", "store_upload"]

KB = 1024
MB = 1024 * KB
CHUNK = 64 * KB
# Uploaded documents read (type checks, word counts, text) at the same time, per event loop; each reading
# runs in a child process limited to BYLINE_UPLOAD_INSPECT_MEMORY_MB and _CPU_SECONDS.
INSPECTIONS_AT_ONCE = 2
_inspections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def inspection_slots() -> anyio.Semaphore:
    """The slots for reading documents at once in this event loop (INSPECTIONS_AT_ONCE)."""
    loop = asyncio.get_running_loop()
    slots = _inspections.get(loop)
    if slots is None:
        slots = _inspections[loop] = anyio.Semaphore(INSPECTIONS_AT_ONCE)
    return slots


MAX_DISPLAY_NAME = 255
# The text kept for picking fact-check claims: a long article is some 50,000 characters.
MAX_TEXT_CHARS = 400_000
STORAGE_KEY = re.compile(r"[0-9a-f]{32}")
# An upload is written to `<key>.part` and renamed to `<key>` once its checks pass.
PART_SUFFIX = ".part"
NOT_CHECKED_MESSAGE = N_(
    "This file could not be checked within our limits. Please upload a shorter or simpler file, "
    "or the same text as a PDF."
)

ALLOWED_EXTENSIONS = ("pdf", "docx", "odt", "rtf", "txt", "md")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "rtf": "application/rtf",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
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

BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


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
    # The plain text for picking fact-check claims; None when it could not be read within the budget.
    extracted_text: str | None
    # A PDF kept before its words were counted and its text read (`reading.read_due` does both).
    text_pending: bool = False


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
            _("This file is larger than %(size)s.", size=format_size(settings.max_file_bytes)),
            status_code=413,
        )
    return UploadRejected(
        _(
            "Your files together are larger than the %(size)s allowed per application.",
            size=format_size(settings.max_application_bytes),
        ),
        status_code=413,
    )


def _copy(source: IO[bytes], part: Path, *, limit: int, settings: Settings) -> tuple[int, str, bytes]:
    """Copy an upload to `part` in chunks, hashing as it goes; refuse it past `limit` bytes. Blocking.

    Returns the size, the SHA-256 and the first bytes (inspection.HEAD_BYTES), which tell a PDF."""
    part.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    with _open_part(part) as fh:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(size, settings)
            if len(head) < inspection.HEAD_BYTES:
                head += chunk[: inspection.HEAD_BYTES - len(head)]
            digest.update(chunk)
            fh.write(chunk)
    return size, digest.hexdigest(), head


class _Spares:
    """Inspection processes started ahead, each waiting (imports done) for the one file it will read."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ready: list[subprocess.Popen[bytes]] = []
        self.owner = os.getpid()

    def start(self) -> subprocess.Popen[bytes]:
        """A new inspection process; it imports its readers, then waits for its job on stdin."""
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [APP_ROOT, os.environ.get("PYTHONPATH")])),
        }
        return subprocess.Popen(
            [sys.executable, "-m", "app.applications.inspection"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )

    def take(self) -> subprocess.Popen[bytes]:
        """A waiting process, or a new one."""
        with self.lock:
            if self.owner != os.getpid():  # a forked web process does not share its parent's children
                self.ready, self.owner = [], os.getpid()
            self.ready = [child for child in self.ready if child.poll() is None]
            return self.ready.pop(0) if self.ready else self.start()

    def refill(self) -> None:
        """Start the spares that were used; after an inspection, so their start-up does not slow it."""
        with self.lock:
            while len(self.ready) < INSPECTIONS_AT_ONCE:
                self.ready.append(self.start())


log = logging.getLogger("byline.uploads")
APP_ROOT = str(Path(__file__).resolve().parents[2])
_spares = _Spares()


def limits_of(settings: Settings) -> inspection.Limits:
    """What one inspection may spend, from the settings."""
    return inspection.Limits(
        cpu_seconds=settings.upload_inspect_cpu_seconds,
        memory_bytes=settings.upload_inspect_memory_mb * MB,
        max_pdf_operations=settings.upload_inspect_max_pdf_operations,
        max_text_chars=MAX_TEXT_CHARS,
        archive_max_entries=settings.archive_max_entries,
        archive_max_uncompressed_bytes=settings.archive_max_uncompressed_bytes,
    )


def _answers(child: subprocess.Popen[bytes], deadline: float) -> Iterator[dict[str, Any]]:
    """The child's JSON lines until it closes its output or the deadline passes."""
    assert child.stdout is not None
    fd = child.stdout.fileno()
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0:
            if not selector.select(remaining):
                continue
            chunk = os.read(fd, CHUNK)
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                yield json.loads(line)


def _end(child: subprocess.Popen[bytes]) -> None:
    child.kill()
    child.wait()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            try:
                pipe.close()
            except BrokenPipeError:  # unsent bytes of a job the child never read
                pass


def _hand_over(child: subprocess.Popen[bytes], line: bytes) -> None:
    assert child.stdin is not None
    child.stdin.write(line)
    child.stdin.close()


def inspect_limited(path: Path, ext: str, settings: Settings) -> Inspection:
    """Read the file in a child process with CPU-time, memory and wall-clock limits. Blocking.

    A file found safe to keep before the budget ran out is kept without a word count and text; one that
    could not even be checked is refused.
    """
    job = {"path": str(path.resolve()), "ext": ext, "limits": dataclasses.asdict(limits_of(settings))}
    line = json.dumps(job).encode() + b"\n"
    child = _spares.take()
    checked: str | None = None
    try:
        try:
            _hand_over(child, line)
        except BrokenPipeError:  # that spare had died meanwhile: a new process takes the job
            _end(child)
            child = _spares.start()
            _hand_over(child, line)
        for answer in _answers(child, time.monotonic() + settings.upload_inspect_timeout_seconds):
            if "checked" in answer:
                checked = answer["checked"]
            elif "done" in answer:
                detected, count, text = answer["done"]
                return Inspection(detected, count, text)
            elif "rejected" in answer:
                message, status, params = answer["rejected"]
                raise UploadRejected(_(message, **params), status_code=status)
            else:
                break
    except (BrokenPipeError, ValueError):  # the child died (a limit) or said something unreadable
        pass
    finally:
        _end(child)
        _spares.refill()
    if checked is None:
        log.warning("A .%s upload could not be checked within the inspection budget; refused", ext)
        raise UploadRejected(_(NOT_CHECKED_MESSAGE))
    log.info("A .%s upload went past the inspection budget; kept without a word count and text", ext)
    return Inspection(checked, None, None)


def _inspect_and_keep(part: Path, final: Path, ext: str, settings: Settings) -> Inspection:
    found = inspect_limited(part, ext, settings)
    os.replace(part, final)
    return found


def _type_by_head(head: bytes, ext: str) -> str | None:
    try:
        return inspection.type_by_head(head, ext)
    except UploadRejected as exc:  # the catalog's English text: shown in the applicant's language
        raise UploadRejected(_(exc.message, **exc.params), status_code=exc.status_code) from None


async def store_upload(
    source: UploadFile | IO[bytes],
    *,
    filename: str,
    settings: Settings,
    budget_bytes: int,
    read_pdf_later: bool = False,
) -> StoredFile:
    """Check and stream one upload into the upload folder under a random name; refusals leave no file.

    The copy runs in one worker thread, not one hop per chunk; the checks run in a child process within the
    inspection budget (BYLINE_UPLOAD_INSPECT_*). With `read_pdf_later`, a PDF is kept on its first bytes
    alone (a PDF is safe to keep whatever it holds): its words are counted and its text read afterwards, by
    `reading.read_due` within the same budget, and the stored file says so (`text_pending`).
    """
    ext = check_filename(filename)
    display_name = clean_filename(filename)
    limit = min(settings.max_file_bytes, budget_bytes)
    key = secrets.token_hex(16)
    part = settings.uploads_path / f"{key}{PART_SUFFIX}"
    final = settings.uploads_path / key
    stream: IO[bytes] = source.file if isinstance(source, UploadFile) else source
    pending = False
    try:
        size, sha256, head = await anyio.to_thread.run_sync(
            lambda: _copy(stream, part, limit=limit, settings=settings)
        )
        if size == 0:
            raise UploadRejected(_("This file is empty."))
        if read_pdf_later and _type_by_head(head, ext) == "pdf":
            os.replace(part, final)
            found = Inspection("pdf", None, None)
            pending = True
        else:
            # Reading a document can take several times its size in memory; a few at a time keep a burst of
            # large uploads from adding up (benchmark B5), each within its own budget.
            async with inspection_slots():
                found = await anyio.to_thread.run_sync(_inspect_and_keep, part, final, ext, settings)
    except BaseException:
        # Synchronous on purpose: this also runs on cancellation, when awaiting may not be possible.
        _discard(part, final)
        raise
    return StoredFile(
        storage_key=key,
        path=final,
        file_name=display_name,
        detected_type=found.detected_type,
        content_type=CONTENT_TYPES[found.detected_type],
        size_bytes=size,
        sha256=sha256,
        word_count=found.word_count,
        extracted_text=found.text,
        text_pending=pending,
    )


def stored_paths(settings: Settings, storage_key: str) -> tuple[Path, Path]:
    """Where a stored upload and its partial file (left by an interrupted upload) are."""
    if not STORAGE_KEY.fullmatch(storage_key):
        raise ValueError(f"not a storage key: {storage_key!r}")
    folder = settings.uploads_path
    return folder / storage_key, folder / f"{storage_key}{PART_SUFFIX}"


def remove_stored(settings: Settings, storage_key: str) -> None:
    """Delete a stored upload (and any leftover partial file); a missing file is not an error."""
    _discard(*stored_paths(settings, storage_key))
