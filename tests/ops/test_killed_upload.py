"""A web process killed in the middle of storing an upload leaves files that the sweep removes.

Litestar reads the whole form (spooled to anonymous temporary files) before the handler runs, so a kill while
the body is still arriving leaves nothing in the upload folder; what a kill leaves behind are the files of a
form being stored: `<key>.part` while a file is checked, `<key>` once checked but before the row is committed.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
from click.testing import CliRunner
from sqlalchemy import select
from sqlmodel import col

from app.cli import main
from app.models import WorkSample
from tests.factories import hidden_fields, valid_fields
from tests.ops.support import apply_over_http, byline_env, start_serving

# Three text samples of about 2 MB: counting their words keeps each `.part` file on disk for a good while.
PIECE = b"The council approved the harbour budget on Tuesday after a long night. " * 28_000


def _upload_and_kill(settings, log: Path, *, apply_first: bool = False, **env: str) -> set[str]:
    """Start `byline serve`, send a large form, SIGKILL the server once a file of it is on disk.

    With `apply_first` a small application with a file is sent in full first. Returns the new files' names.
    """
    folder = settings.uploads_path
    process, base_url = start_serving(settings, log, **env)
    try:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            if apply_first:
                sent = [("sample-1-file", ("kept.txt", b"A piece sent in full.\n" * 50, "text/plain"))]
                applied = apply_over_http(client, sent, **{"sample-1-title": "Kept"})
                assert applied.status_code == 303, applied.text
            before = set(folder.iterdir())
            hidden = hidden_fields(client.get("/apply").text)
            cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        titles = {f"sample-{n}-title": f"Piece {n}" for n in (1, 2, 3)}
        files = [(f"sample-{n}-file", (f"piece-{n}.txt", PIECE, "text/plain")) for n in (1, 2, 3)]
        request = httpx.Request(
            "POST",
            base_url + "/apply",
            data={**hidden, **valid_fields(**titles)},
            files=files,
            headers={"cookie": cookie},
        )
        body = request.read()
        head = "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
        address = base_url.removeprefix("http://")
        host, port = address.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as raw:
            raw.sendall(f"POST /apply HTTP/1.1\r\n{head}\r\n".encode())
            for start in range(0, len(body), 256 * 1024):
                raw.sendall(body[start : start + 256 * 1024])
            deadline = time.monotonic() + 30
            while not (set(folder.iterdir()) - before):
                assert time.monotonic() < deadline, "no upload file appeared"
                time.sleep(0.002)
            process.kill()
    finally:
        process.kill()
        process.wait(timeout=20)
    return {path.name for path in set(folder.iterdir()) - before}


def _purge(settings, **env: str):
    environment = {
        key: value for key, value in byline_env(settings, **env).items() if key.startswith("BYLINE_")
    }
    return CliRunner().invoke(main, ["purge"], env=environment, catch_exceptions=False)


async def _referenced(db) -> set[str]:
    async with db.sessionmaker() as session:
        keys = await session.scalars(
            select(col(WorkSample.storage_key)).where(col(WorkSample.storage_key).is_not(None))
        )
        return set(keys.all())


async def test_files_left_by_a_killed_web_process_are_swept_at_start_and_by_purge(
    clean_db, settings, tmp_path
):
    folder = settings.uploads_path
    first = tmp_path / "first.log"
    left = await asyncio.to_thread(_upload_and_kill, settings, first, apply_first=True)
    kept = await _referenced(clean_db)
    assert len(kept) == 1 and left and not left & kept
    assert {path.name for path in folder.iterdir()} == kept | left

    # Started with no grace period, the next server sweeps them before it answers; the application's file stays.
    second = tmp_path / "second.log"
    again = await asyncio.to_thread(
        _upload_and_kill, settings, second, BYLINE_UPLOAD_ORPHAN_GRACE_MINUTES="0"
    )
    assert f"Deleted {len(left)} uploaded file(s) no application refers to" in second.read_text()
    assert "Deleted" not in first.read_text()
    assert again and not again & (kept | left)
    assert {path.name for path in folder.iterdir()} == kept | again

    # `byline purge` leaves them within the grace period (60 minutes by default: an upload may be under way)
    # and sweeps them past it.
    young = await asyncio.to_thread(_purge, settings)
    assert young.exit_code == 0, young.output
    assert "Deleted 0 uploaded file(s)" in young.output
    assert {path.name for path in folder.iterdir()} == kept | again
    swept = await asyncio.to_thread(_purge, settings, BYLINE_UPLOAD_ORPHAN_GRACE_MINUTES="0")
    assert swept.exit_code == 0, swept.output
    assert (
        f"Deleted {len(again)} uploaded file(s) no application refers to, older than 0 minutes."
        in swept.output
    )
    assert {path.name for path in folder.iterdir()} == kept
    assert await _referenced(clean_db) == kept
