"""`byline backup` and `byline restore`: the database and the uploads folder in one .tar.gz with a manifest.

SQLite is copied with its online backup API (consistent while the app writes); PostgreSQL with `pg_dump -Fc`
and put back with `pg_restore --clean --if-exists`, both reached through the configured URL.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.core.db import Database
from app.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
UPLOADS = "uploads"


class BackupError(Exception):
    """A backup or restore that cannot go ahead, with the reason for the operator."""


@dataclass(frozen=True)
class Manifest:
    format: int
    byline_version: str
    database: str  # "sqlite" or "postgresql"
    revision: str | None
    created_at: str
    files: int


def database_kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.db_url).database
    if not database or database == ":memory:":
        raise BackupError("BYLINE_DATABASE_URL names no SQLite file to back up.")
    return Path(database)


def _pg_command(settings: Settings, program: str) -> tuple[list[str], dict[str, str]]:
    """A pg_dump / pg_restore command line for the configured URL; the password goes in the environment."""
    url = make_url(settings.db_url)
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed (Debian: apt-get install postgresql-client).")
    args = [program, "--no-owner", "--no-privileges", f"--dbname={url.database}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[-2000:]}")


async def current_revision(db: Database) -> str | None:
    """The migration the database is at (None before the first `byline migrate`)."""
    async with db.engine.connect() as conn:
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()


def _sqlite_revision(path: Path) -> str | None:
    with sqlite3.connect(path) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return str(row[0]) if row else None


def _copy_sqlite(source: Path, target: Path) -> None:
    """Page by page through SQLite's backup API: consistent even while other connections write."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def create_backup(settings: Settings, destination: Path, *, revision: str | None, now: datetime) -> Path:
    """Write the backup; `destination` is a file name or an existing folder (a dated name is made there)."""
    if destination.is_dir():
        destination = destination / f"byline-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    kind = database_kind(settings)
    with tempfile.TemporaryDirectory(prefix="byline-backup-") as tmp:
        work = Path(tmp)
        if kind == "sqlite":
            member = work / SQLITE_MEMBER
            _copy_sqlite(_sqlite_path(settings), member)
            revision = _sqlite_revision(member)
        else:
            member = work / PG_MEMBER
            args, env = _pg_command(settings, "pg_dump")
            _run([*args, "--format=custom", f"--file={member}"], env)
        uploads = settings.uploads_path
        files = sorted(p for p in uploads.rglob("*") if p.is_file()) if uploads.is_dir() else []
        manifest = Manifest(
            format=FORMAT,
            byline_version=version("byline"),
            database=kind,
            revision=revision,
            created_at=now.astimezone(UTC).isoformat(),
            files=len(files),
        )
        (work / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")
        partial = destination.with_name(destination.name + ".part")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(work / MANIFEST, arcname=MANIFEST)
            archive.add(member, arcname=member.name)
            archive.add(work, arcname=UPLOADS, recursive=False)  # the folder itself, even when empty
            for path in files:
                archive.add(path, arcname=f"{UPLOADS}/{path.relative_to(uploads).as_posix()}")
        partial.replace(destination)
    return destination


def read_manifest(source: Path) -> Manifest:
    """The manifest of a backup file, checked for a format this code reads."""
    try:
        with tarfile.open(source, "r:gz") as archive:
            member = archive.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            data = json.loads(member.read())
    except (OSError, KeyError, tarfile.TarError, ValueError) as error:
        raise BackupError(f"{source} is not a Byline backup ({error}).") from error
    if data.get("format") != FORMAT:
        raise BackupError(f"{source} has backup format {data.get('format')!r}; this Byline reads {FORMAT}.")
    return Manifest(**{field: data.get(field) for field in Manifest.__dataclass_fields__})


def restore_backup(settings: Settings, source: Path) -> Manifest:
    """Replace the database and the uploads folder with the backup's; refuses another database kind."""
    manifest = read_manifest(source)
    kind = database_kind(settings)
    if manifest.database != kind:
        raise BackupError(
            f"This backup holds a {manifest.database} database but BYLINE_DATABASE_URL points to {kind}: "
            f"restore it into a {manifest.database} database (nothing was changed)."
        )
    with tempfile.TemporaryDirectory(prefix="byline-restore-") as tmp:
        work = Path(tmp)
        with tarfile.open(source, "r:gz") as archive:
            archive.extractall(work, filter="data")
        if kind == "sqlite":
            target = _sqlite_path(settings)
            target.parent.mkdir(parents=True, exist_ok=True)
            # Through the backup API again, so that the live file (and its WAL) is rewritten in place.
            _copy_sqlite(work / SQLITE_MEMBER, target)
        else:
            args, env = _pg_command(settings, "pg_restore")
            _run([*args, "--clean", "--if-exists", "--single-transaction", str(work / PG_MEMBER)], env)
        _replace_uploads(work / UPLOADS, settings.uploads_path)
    return manifest


def _replace_uploads(restored: Path, uploads: Path) -> None:
    """Make `uploads` hold exactly the backup's files; the folder stays (it may be a mounted share)."""
    uploads.mkdir(parents=True, exist_ok=True)
    for entry in uploads.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if restored.is_dir():
        for path in restored.rglob("*"):
            target = uploads / path.relative_to(restored)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
