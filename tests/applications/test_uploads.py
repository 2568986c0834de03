"""Upload checks and storage (security spec E1 to E4) on real files built in each test."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from fpdf import FPDF
from litestar.datastructures import UploadFile
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.applications.uploads import (
    UploadRejected,
    check_filename,
    clean_filename,
    remove_stored,
    store_upload,
)
from app.core.db import delete_after_commit, delete_on_rollback, make_sessionmaker
from app.settings import MB, Settings
from tests.applications.support import files_in, store

SENTENCE = "The council approved the new harbour budget on Tuesday evening after a long debate."
SENTENCE_WORDS = 14


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(env="test", var_dir=tmp_path, upload_dir=tmp_path / "uploads", **overrides)


async def refused(data: bytes, name: str, settings: Settings, budget: int | None = None) -> UploadRejected:
    with pytest.raises(UploadRejected) as info:
        await store(data, name, settings, budget)
    assert files_in(settings.uploads_path) == []
    return info.value


def make_pdf(body: str = SENTENCE) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 10, body)
    return bytes(pdf.output())


def make_docx(body: str = SENTENCE) -> bytes:
    document = docx.Document()
    document.add_heading("Harbour budget", level=1)
    document.add_paragraph(body)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


ODT_CONTENT = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
  <office:body><office:text>
    <text:h text:outline-level="1">Harbour budget</text:h>
    <text:p>{SENTENCE}</text:p>
  </office:text></office:body>
</office:document-content>"""

ODT_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
  <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
  <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def make_odt(content: str = ODT_CONTENT) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", ODT_MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def make_rtf(body: str = SENTENCE) -> bytes:
    return (
        "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times New Roman;}}{\\colortbl;\\red0\\green0\\blue0;}"
        "{\\*\\generator Byline tests;}{\\info{\\title Harbour budget}}"
        f"\\f0\\fs24 Harbour budget\\par\n{body}\\par\n}}"
    ).encode("ascii")


def make_zip(entries: dict[str, bytes], compress_type: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compress_type) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compress_type)
    return buffer.getvalue()


def zeros_zip(members: dict[str, int]) -> bytes:
    """A zip whose members are `size` bytes of zeros, written in chunks so the test stays quick."""
    buffer = io.BytesIO()
    chunk = bytes(MB)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        for name, size in members.items():
            with zf.open(name, "w") as member:
                for _ in range(size // MB):
                    member.write(chunk)
    return buffer.getvalue()


# --- accepted files -------------------------------------------------------------------------------------

ACCEPTED = [
    ("pdf", make_pdf, "story.pdf", "application/pdf"),
    (
        "docx",
        make_docx,
        "story.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("odt", make_odt, "story.odt", "application/vnd.oasis.opendocument.text"),
    ("rtf", make_rtf, "story.rtf", "application/rtf"),
    ("txt", lambda: f"Harbour budget\n\n{SENTENCE}\n".encode(), "story.txt", "text/plain; charset=utf-8"),
    ("md", lambda: f"# Harbour budget\n\n{SENTENCE}\n".encode(), "story.md", "text/markdown; charset=utf-8"),
]


@pytest.mark.parametrize(("kind", "build", "name", "content_type"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
async def test_each_allowed_type_is_stored(
    tmp_path: Path, kind: str, build: Any, name: str, content_type: str
) -> None:
    settings = make_settings(tmp_path)
    data = build()
    item = await store(data, name, settings)
    assert item.detected_type == kind
    assert item.content_type == content_type
    assert item.size_bytes == len(data)
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.file_name == name
    assert item.word_count is not None
    assert SENTENCE_WORDS <= item.word_count <= SENTENCE_WORDS + 4
    assert len(item.storage_key) == 32 and int(item.storage_key, 16) >= 0
    assert item.path == settings.uploads_path / item.storage_key
    assert item.path.read_bytes() == data
    assert files_in(settings.uploads_path) == [item.path]


async def test_litestar_upload_file_is_streamed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    data = make_pdf(SENTENCE * 50)
    upload = UploadFile(
        content_type="application/pdf", filename="long.pdf", file_data=data, max_spool_size=1024
    )
    item = await store_upload(upload, filename="long.pdf", settings=settings, budget_bytes=10 * MB)
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.path.read_bytes() == data


async def test_text_with_bom_and_utf8_is_accepted(tmp_path: Path) -> None:
    item = await store("\ufeffŽurnalistika — ēnu ziņas.\n".encode(), "notes.txt", make_settings(tmp_path))
    assert item.detected_type == "txt"
    assert item.word_count == 3


async def test_txt_and_md_are_interchangeable(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert (await store(b"# Heading\n\nBody text.\n", "notes.txt", settings)).detected_type == "txt"
    assert (await store(b"Just plain text.\n", "notes.md", settings)).detected_type == "md"


async def test_pdf_header_after_leading_bytes_is_accepted(tmp_path: Path) -> None:
    item = await store(b"\x00" * 100 + make_pdf(), "story.pdf", make_settings(tmp_path))
    assert item.detected_type == "pdf"


async def test_pdf_header_beyond_first_kilobyte_is_refused(tmp_path: Path) -> None:
    await refused(b"\x00" * 2000 + make_pdf(), "story.pdf", make_settings(tmp_path))


async def test_pdf_pypdf_cannot_read_is_kept_without_count(tmp_path: Path) -> None:
    item = await store(b"%PDF-1.7\nnot really a pdf\n", "broken.pdf", make_settings(tmp_path))
    assert item.detected_type == "pdf"
    assert item.word_count is None


# --- content must agree with the extension --------------------------------------------------------------


async def test_windows_executable_renamed_pdf_is_refused(tmp_path: Path) -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"PE\x00\x00" + b"%PDF-1.4" + b"\x00" * 200
    error = await refused(exe, "invoice.pdf", make_settings(tmp_path))
    assert error.status_code == 422
    assert "program" in error.message


async def test_elf_renamed_docx_is_refused(tmp_path: Path) -> None:
    await refused(b"\x7fELF\x02\x01\x01" + b"\x00" * 500, "cv.docx", make_settings(tmp_path))


async def test_shebang_script_renamed_txt_is_refused(tmp_path: Path) -> None:
    await refused(b"#!/bin/sh\nrm -rf ~\n", "notes.txt", make_settings(tmp_path))


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (make_pdf, "story.docx"),
        (make_docx, "story.pdf"),
        (make_docx, "story.odt"),
        (make_odt, "story.docx"),
        (make_rtf, "story.txt"),
        (make_pdf, "story.txt"),
        (lambda: b"plain words", "story.pdf"),
    ],
)
async def test_content_extension_mismatch_is_refused(tmp_path: Path, build: Any, name: str) -> None:
    error = await refused(build(), name, make_settings(tmp_path))
    assert "do not match" in error.message


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"  \n<html>\n<p>hi</p>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<?xml version="1.0"?>\n<svg:svg xmlns:svg="http://www.w3.org/2000/svg"/>',
        b"A normal start to the article.\n\nThen <script src=//evil.example/x.js></script>",
        b"Intro\n" + b"word " * 20000 + b"<iframe src=x>",
    ],
)
async def test_markup_in_text_is_refused(tmp_path: Path, body: bytes) -> None:
    error = await refused(body, "article.txt", make_settings(tmp_path))
    assert "HTML" in error.message


async def test_text_that_merely_mentions_tags_is_accepted(tmp_path: Path) -> None:
    item = await store(b"Use <em> sparingly; a < b and x > y.\n", "style.md", make_settings(tmp_path))
    assert item.detected_type == "md"


@pytest.mark.parametrize(
    "body",
    [b"caf\xe9 latin-1 text", b"text with a \x00 byte", "text".encode("utf-16")],
    ids=["latin1", "nul", "utf16"],
)
async def test_text_must_be_utf8_without_nul(tmp_path: Path, body: bytes) -> None:
    await refused(body, "notes.txt", make_settings(tmp_path))


async def test_rtf_with_embedded_object_is_refused(tmp_path: Path) -> None:
    body = b"{\\rtf1\\ansi Hello {\\object\\objemb{\\*\\objdata 0105000002000000}}\\par}"
    await refused(body, "letter.rtf", make_settings(tmp_path))


# --- file names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "index.html",
        "page.htm",
        "logo.svg",
        "doc.xhtml",
        "evil.html.pdf",
        "x.exe.txt",
        "a.php.docx",
        "cv.HTML.pdf",
        "cv.html .pdf",
        "a\x00.pdf",
        "cv\r\n.pdf",
        "cv\n.pdf",
        "cv\r.pdf",
        "cv\t.pdf",
        "cv\u202efdp.txt",
        "noextension",
        "archive.zip",
        "cv.pdf.",
        "cv.pdf ",
        "../../etc/passwd",
    ],
)
def test_check_filename_refuses(name: str) -> None:
    with pytest.raises(UploadRejected):
        check_filename(name)


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("report.v2.pdf", "pdf"),
        ("CV.PDF", "pdf"),
        ("notes.MD", "md"),
        ("../../etc/passwd.txt", "txt"),
        ("C:\\Users\\me\\cv.docx", "docx"),
        ("story.final.odt", "odt"),
        ("letter.rtf", "rtf"),
    ],
)
def test_check_filename_accepts(name: str, ext: str) -> None:
    assert check_filename(name) == ext


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\My CV.pdf", "My CV.pdf"),
        ("a/b\\c.txt", "c.txt"),
        ("cv\r\n.pdf", "cv.pdf"),
        ("re\x00port\x1b.pdf", "report.pdf"),
        ("cv\u202efdp.txt", "cvfdp.txt"),
        ("Cafe\u0301.pdf", "Caf\u00e9.pdf"),
        ("  .pdf", "sample.pdf"),
        ("..", "sample"),
        ("", "sample"),
        ("CON", "CON"),
    ],
)
def test_clean_filename(name: str, cleaned: str) -> None:
    assert clean_filename(name) == cleaned


def test_clean_filename_caps_length_and_keeps_extension() -> None:
    cleaned = clean_filename("x" * 400 + ".pdf")
    assert len(cleaned) == 255
    assert cleaned.endswith("x.pdf")


@pytest.mark.parametrize("name", ["cv\r\n.pdf", "cv\n.txt", "a\x00.pdf", "evil.html.pdf", "page.html"])
async def test_store_upload_refuses_bad_names(tmp_path: Path, name: str) -> None:
    await refused(make_pdf(), name, make_settings(tmp_path))


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.txt", "..\\..\\windows\\win.ini.txt", "/etc/passwd.txt", "CON.txt"]
)
async def test_traversal_names_are_stored_under_a_generated_key(tmp_path: Path, name: str) -> None:
    settings = make_settings(tmp_path)
    item = await store(b"Just a few words.\n", name, settings)
    assert item.path.parent == settings.uploads_path
    assert item.path.name == item.storage_key
    assert "/" not in item.file_name and "\\" not in item.file_name
    assert item.file_name == clean_filename(name)
    assert item.file_name.endswith(".txt")
    assert files_in(settings.uploads_path) == [item.path]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uploads"]


# --- zip archives ---------------------------------------------------------------------------------------


async def test_zip_bomb_over_declared_total_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, archive_max_uncompressed_bytes=1 * MB)
    error = await refused(zeros_zip({"word/document.xml": 2 * MB}), "bomb.docx", settings)
    assert "unpacked" in error.message


async def test_zip_bomb_by_compression_ratio_is_refused(tmp_path: Path) -> None:
    error = await refused(zeros_zip({"word/document.xml": 3 * MB}), "bomb.docx", make_settings(tmp_path))
    assert "unpacked" in error.message


async def test_too_many_entries_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, archive_max_entries=3)
    error = await refused(make_docx(), "story.docx", settings)
    assert "too many parts" in error.message


async def test_encrypted_entry_is_refused(tmp_path: Path) -> None:
    data = bytearray(make_docx())
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    error = await refused(bytes(data), "story.docx", make_settings(tmp_path))
    assert "Password" in error.message


@pytest.mark.parametrize("bad_name", ["../evil.xml", "word/../../evil.xml", "/etc/evil.xml", "C:/evil.xml"])
async def test_unsafe_entry_names_are_refused(tmp_path: Path, bad_name: str) -> None:
    data = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>", bad_name: b"x"})
    error = await refused(data, "story.docx", make_settings(tmp_path))
    assert "unsafe file paths" in error.message


async def test_docx_with_doctype_is_refused(tmp_path: Path) -> None:
    document = (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>"
    )
    data = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": document})
    error = await refused(data, "story.docx", make_settings(tmp_path))
    assert "unsafe XML" in error.message


async def test_odt_with_doctype_is_refused(tmp_path: Path) -> None:
    content = ODT_CONTENT.replace("?>", '?><!DOCTYPE x SYSTEM "file:///etc/passwd">', 1)
    await refused(make_odt(content), "story.odt", make_settings(tmp_path))


async def test_zip_that_is_not_a_document_is_refused(tmp_path: Path) -> None:
    await refused(make_zip({"readme.txt": b"hello"}), "story.docx", make_settings(tmp_path))


async def test_odt_with_wrong_mimetype_is_refused(tmp_path: Path) -> None:
    data = make_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})
    await refused(data, "story.odt", make_settings(tmp_path))


async def test_docx_with_macros_is_refused(tmp_path: Path) -> None:
    data = make_zip(
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>", "word/vbaProject.bin": b"x"}
    )
    await refused(data, "story.docx", make_settings(tmp_path))


# --- sizes ----------------------------------------------------------------------------------------------


async def test_file_over_the_size_limit_is_refused_with_413_and_nothing_left(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_file_bytes=100 * 1024)
    error = await refused(b"word " * 50_000, "long.txt", settings)
    assert error.status_code == 413
    assert error.message == "This file is larger than 100 kB."
    assert settings.uploads_path.is_dir()
    assert list(settings.uploads_path.iterdir()) == []


async def test_default_limit_is_named_in_megabytes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    error = await refused(b"a " * (settings.max_file_bytes // 2 + 1), "huge.txt", settings)
    assert error.status_code == 413
    assert error.message == "This file is larger than 20 MB."


async def test_application_budget_exceeded_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    error = await refused(make_pdf(), "story.pdf", settings, budget=100)
    assert error.status_code == 413
    assert "50 MB allowed per application" in error.message


async def test_file_exactly_at_the_limit_is_accepted(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_file_bytes=1000)
    item = await store(b"x" * 1000, "exact.txt", settings)
    assert item.size_bytes == 1000


async def test_empty_file_is_refused(tmp_path: Path) -> None:
    error = await refused(b"", "empty.pdf", make_settings(tmp_path))
    assert error.status_code == 422
    assert "empty" in error.message


# --- removal and rollback -------------------------------------------------------------------------------


async def test_remove_stored(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    item = await store(b"Some words.\n", "a.txt", settings)
    remove_stored(settings, item.storage_key)
    assert files_in(settings.uploads_path) == []
    remove_stored(settings, item.storage_key)
    with pytest.raises(ValueError):
        remove_stored(settings, "../byline.db")


async def test_new_files_follow_the_transaction(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'rollback.db'}")
    sessions = make_sessionmaker(engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE sample (id INTEGER PRIMARY KEY, key TEXT)"))
        paths = {name: tmp_path / name for name in ("rolled", "committed", "savepoint", "inner", "closed")}
        for path in paths.values():
            path.write_bytes(b"x")

        async with sessions() as session:
            await session.execute(text("INSERT INTO sample (key) VALUES ('rolled')"))
            delete_on_rollback(session, paths["rolled"])
            await session.rollback()
            assert not paths["rolled"].exists()

            delete_on_rollback(session, paths["committed"])
            await session.execute(text("INSERT INTO sample (key) VALUES ('committed')"))
            await session.commit()
            assert paths["committed"].exists()
            await session.rollback()
            assert paths["committed"].exists()

            # A savepoint rolled back leaves the outer transaction, and the rows pointing at these files,
            # alive; a file registered inside it is settled by the outer transaction too.
            await session.execute(text("INSERT INTO sample (key) VALUES ('savepoint')"))
            delete_on_rollback(session, paths["savepoint"])
            savepoint = await session.begin_nested()
            await session.execute(text("INSERT INTO sample (key) VALUES ('inner')"))
            delete_on_rollback(session, paths["inner"])
            await savepoint.rollback()
            assert paths["savepoint"].exists() and paths["inner"].exists()
            await session.execute(text("INSERT INTO sample (key) VALUES ('inner')"))
            await session.commit()
            assert paths["savepoint"].exists() and paths["inner"].exists()

        async with sessions() as session:
            await session.execute(text("INSERT INTO sample (key) VALUES ('closed')"))
            delete_on_rollback(session, paths["closed"])
        assert not paths["closed"].exists()

        async with sessions() as session:
            keys = (await session.execute(text("SELECT key FROM sample ORDER BY id"))).scalars().all()
        assert keys == ["committed", "savepoint", "inner"]
    finally:
        await engine.dispose()


async def test_erased_files_go_only_when_their_deletion_commits(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'erase.db'}")
    sessions = make_sessionmaker(engine)
    try:
        paths = {name: tmp_path / name for name in ("rolled", "released", "undone", "committed")}
        for path in paths.values():
            path.write_bytes(b"x")

        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            delete_after_commit(session, paths["rolled"])
            await session.rollback()
            assert paths["rolled"].exists()
            await session.commit()
            assert paths["rolled"].exists()

            async with session.begin_nested():
                delete_after_commit(session, paths["released"])
            savepoint = await session.begin_nested()
            delete_after_commit(session, paths["undone"])
            await savepoint.rollback()
            delete_after_commit(session, paths["committed"])
            assert all(path.exists() for path in paths.values())
            await session.commit()
        assert [name for name, path in paths.items() if path.exists()] == ["rolled", "undone"]

        # A session from anywhere else would keep no books: it is refused rather than ignored.
        async with AsyncSession(engine) as plain:
            with pytest.raises(TypeError):
                delete_after_commit(plain, paths["rolled"])
    finally:
        await engine.dispose()


async def test_rollback_removes_a_stored_upload(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    try:
        async with make_sessionmaker(engine)() as session:
            await session.execute(text("SELECT 1"))
            item = await store(make_pdf(), "story.pdf", settings)
            delete_on_rollback(session, item.path)
            await session.rollback()
        assert files_in(settings.uploads_path) == []
    finally:
        await engine.dispose()
