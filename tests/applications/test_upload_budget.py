"""Uploads are read in a child process within a budget of work, CPU time, memory and wall-clock time."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.applications.inspection import Limits
from app.applications.reading import read_due
from app.applications.uploads import MAX_TEXT_CHARS, UploadRejected
from app.demo import make_docx, make_pdf
from app.models import utcnow
from app.settings import MB, Settings
from tests.applications.support import store
from tests.factories import (
    ARTICLE,
    ask_applicant,
    csrf_of,
    make_client,
    post_application,
    read_samples,
    staff_login,
    valid_fields,
)
from tests.ops.support import apply_over_http, in_thread, serving
from tests.queries import samples_of


def hostile_pdf(pages: int, operations: int = 30_000) -> bytes:
    """A few kilobytes: `pages` pages that all show one FlateDecode stream of `operations` text operations."""
    stream = zlib.compress(b"BT /F1 12 Tf 72 700 Td " + b"(x) Tj " * operations + b"ET", 9)
    font = 4 + pages
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (4 + i) for i in range(pages)), pages),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
        *[
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % font
        ]
        * pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def budget(settings: Settings, **overrides: Any) -> Settings:
    return settings.model_copy(update=overrides)


# --- the budget ---------------------------------------------------------------------------------------


async def test_pdf_past_the_operations_budget_is_kept_without_a_count_or_text(tmp_path: Path) -> None:
    settings = Settings(env="test", var_dir=tmp_path, upload_inspect_max_pdf_operations=20_000)
    hostile = await store(hostile_pdf(pages=5), "story.pdf", settings)
    assert hostile.detected_type == "pdf" and hostile.path.is_file()
    assert hostile.word_count is None and hostile.extracted_text is None
    normal = await store(make_pdf("Harbour budget", ARTICLE), "normal.pdf", settings)
    assert normal.word_count == 27 and ARTICLE.split(". ")[0] in (normal.extracted_text or "")


async def test_pdf_past_the_cpu_budget_is_kept_without_a_count(tmp_path: Path) -> None:
    settings = Settings(
        env="test", var_dir=tmp_path, upload_inspect_cpu_seconds=1, upload_inspect_max_pdf_operations=10**9
    )
    hostile = await store(hostile_pdf(pages=200), "story.pdf", settings)
    assert hostile.path.is_file() and hostile.word_count is None and hostile.extracted_text is None


async def test_the_wall_clock_timeout_stops_the_inspection(tmp_path: Path) -> None:
    settings = Settings(
        env="test",
        var_dir=tmp_path,
        upload_inspect_cpu_seconds=300,
        upload_inspect_max_pdf_operations=10**9,
        upload_inspect_timeout_seconds=0.5,
    )
    hostile = await store(hostile_pdf(pages=200), "story.pdf", settings)
    assert hostile.path.is_file() and hostile.word_count is None and hostile.extracted_text is None


async def test_a_file_that_cannot_be_checked_within_the_budget_is_refused(tmp_path: Path) -> None:
    settings = Settings(env="test", var_dir=tmp_path, upload_inspect_timeout_seconds=0.001)
    with pytest.raises(UploadRejected) as refused:
        await store(("Harbour budget. " * 200_000).encode(), "long.txt", settings)
    assert "could not be checked" in refused.value.message
    assert not any(settings.uploads_path.iterdir())


@pytest.mark.parametrize("limit", ["memory", "cpu"])
def test_the_child_process_limits_are_enforced_by_the_kernel(limit: str) -> None:
    limits = Limits(
        cpu_seconds=1,
        memory_bytes=256 * MB,
        max_pdf_operations=1,
        max_text_chars=1,
        archive_max_entries=1,
        archive_max_uncompressed_bytes=1,
    )
    work = "b = bytearray(512 * 1024 * 1024)" if limit == "memory" else "while True: pass"
    code = textwrap.dedent(
        f"""
        from app.applications.inspection import Limits, _limit
        _limit({limits!r})
        try:
            {work}
        except MemoryError:
            raise SystemExit(3)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=60, check=False)
    assert done.returncode == (3 if limit == "memory" else -24)  # MemoryError, or SIGXCPU


async def test_text_is_kept_up_to_its_cap_and_every_word_counts(tmp_path: Path) -> None:
    settings = Settings(env="test", var_dir=tmp_path)
    stored = await store(b"harbour budget " * 20_000 + b"\n", "long.txt", settings)
    assert stored.word_count == 40_000
    assert stored.extracted_text is not None and len(stored.extracted_text) <= MAX_TEXT_CHARS
    assert stored.extracted_text.startswith("harbour budget harbour")


# --- through the form ---------------------------------------------------------------------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A small operations budget, and a CPU budget of one second (the least the kernel limit can express)."""
    return budget(settings, upload_inspect_cpu_seconds=1, upload_inspect_max_pdf_operations=20_000)


async def apply_with(client: Any, name: str, data: bytes) -> Any:
    fields = valid_fields(**{"sample-0-title": "My piece", "sample-0-text": None})
    return await post_application(client, fields, [("sample-0-file", (name, data, "application/pdf"))])


def apply_over_http_with(base_url: str, name: str, data: bytes) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=120) as client:
        files = [("sample-0-file", (name, data, "application/pdf"))]
        return apply_over_http(client, files, **{"sample-0-title": "My piece", "sample-0-text": None})


async def test_a_hostile_pdf_does_not_hold_up_a_normal_upload_and_is_kept_without_a_count(
    clean_db, settings, tmp_path
) -> None:
    limits = {
        "BYLINE_UPLOAD_INSPECT_CPU_SECONDS": "1",
        "BYLINE_UPLOAD_INSPECT_MAX_PDF_OPERATIONS": "1000000000",
    }
    with serving(settings, tmp_path / "server.log", **limits) as base_url:
        warm = await in_thread(apply_over_http_with, base_url, "warm.pdf", make_pdf("Harbour", ARTICLE))
        assert warm.status_code == 303
        hostile = asyncio.ensure_future(
            in_thread(apply_over_http_with, base_url, "hostile.pdf", hostile_pdf(30))
        )
        normal = asyncio.ensure_future(
            in_thread(apply_over_http_with, base_url, "normal.pdf", make_pdf("Harbour", ARTICLE))
        )
        # Neither form waits for its PDF to be read: both are answered, and both PDFs wait for the reader.
        assert (await normal).status_code == 303
        assert (await hostile).status_code == 303
    waiting = {sample.file_name: sample for sample in await samples_of(clean_db)}
    assert all(sample.text_pending and sample.word_count is None for sample in waiting.values())
    # The reader, as a worker runs it, with the server's budget: the hostile PDF costs it one CPU second in a
    # child process, read beside the normal one, and is kept without a count.
    reader = budget(settings, upload_inspect_cpu_seconds=1, upload_inspect_max_pdf_operations=1_000_000_000)
    assert await read_due(clean_db, reader, utcnow()) == 3
    by_name = {sample.file_name: sample for sample in await samples_of(clean_db)}
    assert by_name["normal.pdf"].word_count == 26 and by_name["normal.pdf"].extracted_text
    assert by_name["hostile.pdf"].word_count is None and by_name["hostile.pdf"].extracted_text is None
    assert not any(sample.text_pending for sample in by_name.values())


async def test_the_new_task_page_says_when_a_file_text_could_not_be_extracted(app, client, db) -> None:
    assert (await apply_with(client, "hostile.pdf", hostile_pdf(pages=5))).status_code == 303
    [sample] = await samples_of(db)
    await staff_login(client, db, "eda@desk.example")
    # Until the reader has been at it, the page says the text is still being read, not that it cannot be.
    page = await client.get(f"/applications/{sample.application_id}/tasks/new")
    assert page.status_code == 200
    assert "The text of this file is still being read: reload this page in a moment" in page.text
    assert "could not be extracted" not in page.text
    application = await client.get(f"/applications/{sample.application_id}")
    assert "counting words…" in application.text
    await read_samples(app)
    page = await client.get(f"/applications/{sample.application_id}/tasks/new")
    assert page.status_code == 200
    assert "The text of this file could not be extracted; " in page.text
    assert 'name="sentence"' not in page.text
    assert "counting words…" not in (await client.get(f"/applications/{sample.application_id}")).text


async def test_a_docx_text_is_read_at_upload_and_the_page_does_not_open_the_file(app, client, db, settings):
    fields = valid_fields(**{"sample-0-title": "My piece", "sample-0-text": None})
    files = [("sample-0-file", ("piece.docx", make_docx("Harbour", ARTICLE), "application/octet-stream"))]
    assert (await post_application(client, fields, files)).status_code == 303
    [sample] = await samples_of(db)
    assert sample.word_count == 26 and ARTICLE.split(". ")[1] in (sample.extracted_text or "")
    assert sample.storage_key
    (settings.uploads_path / sample.storage_key).write_bytes(b"")  # the page must not need the file
    await staff_login(client, db, "eda@desk.example")
    page = await client.get(f"/applications/{sample.application_id}/tasks/new")
    assert 'value="Opposition members said the port authority had not published its accounts."' in page.text


async def test_a_pdf_sent_with_a_reply_gets_its_count_and_text_from_the_reader(app, db) -> None:
    app_id, status_url = await ask_applicant(app, db)
    async with make_client(app) as applicant:
        token = csrf_of((await applicant.get(status_url)).text)
        answer = await applicant.post(
            f"{status_url}/reply",
            data={"_csrf_token": token, "reply": "Here is another piece.", "sample_title": "Piece"},
            files=[("sample_file", ("piece.pdf", make_pdf("Harbour", ARTICLE), "application/pdf"))],
        )
        assert answer.status_code == 303
    [sample] = [s for s in await samples_of(db, app_id) if s.kind == "file"]
    assert sample.text_pending and sample.word_count is None
    await read_samples(app)
    [sample] = [s for s in await samples_of(db, app_id) if s.kind == "file"]
    assert sample.word_count == 26 and ARTICLE.split(". ")[1] in (sample.extracted_text or "")
