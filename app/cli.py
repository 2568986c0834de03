"""The `byline` command: run, serve, worker, migrate, create-admin, demo, purge, backup, restore."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy import select

from app.core.db import Database
from app.ops.logs import configure_logging
from app.settings import Settings

T = TypeVar("T")


def _with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database(settings, pool=False)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _build_links(settings: Settings) -> None:
    """Give a process that serves no HTTP the app's routes to build links from (app/core/links.py).

    Emails queued here (reminders, digests, demo moves, erasure confirmations) carry absolute links built from
    route names; building the app registers them, exactly as in the web processes.
    """
    from app.core import links
    from app.main import create_app

    if not links.registered():
        create_app(settings)


@click.group()
def main() -> None:
    """Byline, the contributor desk: run `byline COMMAND --help` for each command."""
    configure_logging(Settings())


def _migrate(settings: Settings) -> None:
    from app.core.migrate import upgrade_sync
    from app.core.site import ensure_reference_data

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade_sync(settings.db_url)

    async def seed(db: Database) -> None:
        async with db.write_session() as session:
            await ensure_reference_data(session)

    _with_db(settings, seed)
    click.echo(f"Database is up to date ({settings.db_url.split('@')[-1]}).")


@main.command()
def migrate() -> None:
    """Bring the database schema to the latest version and add missing reference data."""
    _migrate(Settings())


@main.command("create-admin")
@click.option("--email", required=True, help="The admin's email address (their login).")
@click.option("--name", default="Administrator", show_default=True, help="The admin's display name.")
def create_admin(email: str, name: str) -> None:
    """Create an admin with a one-time password, printed once; they choose their own at first login."""
    from sqlmodel import col

    from app.accounts.passwords import generate_password, hash_password
    from app.core.text import normalize_email
    from app.models import User

    settings = Settings()
    password = generate_password()
    address = normalize_email(email)

    async def create(db: Database) -> None:
        async with db.write_session() as session:
            if (await session.scalars(select(User).where(col(User.email) == address))).first() is not None:
                raise click.ClickException(f"A staff account for {address} exists already.")
            session.add(
                User(
                    email=address,
                    name=name,
                    password_hash=hash_password(password),
                    is_admin=True,
                    is_editor=True,
                    must_change_password=True,
                )
            )

    _with_db(settings, create)
    click.echo(
        f"Admin created: {address}\nOne-time password: {password}\n(Shown once; change it after logging in.)"
    )


def _demo(settings: Settings) -> None:
    from app.demo import DemoResult, load_demo

    _build_links(settings)

    async def load(db: Database) -> DemoResult:
        async with db.write_session() as session:
            return await load_demo(session, settings=settings)

    result = _with_db(settings, load)
    count = result.applications
    click.echo(f"Demo data: {count} new applications." if count else "Demo data: already loaded.")
    for login in result.logins:
        line = f"Demo {login.role} login: {login.email}  password: {login.password}"
        click.secho(line, fg="green", bold=True)


@main.command()
def demo() -> None:
    """Load demo applications (once) and print the demo staff logins (fresh passwords each run)."""
    _demo(Settings())


@main.command()
def purge() -> None:
    """Erase rejected and withdrawn applications past BYLINE_RETENTION_DAYS; clear expired access."""
    from app.models import utcnow
    from app.privacy.retention import (
        Cleared,
        clear_expired_access,
        compact_search_index,
        erase_expired,
        sweep_orphaned_uploads,
    )

    settings = Settings()
    _build_links(settings)

    async def run(db: Database) -> tuple[int, Cleared, int]:
        erased = 0
        while True:
            async with db.write_session() as session:
                done = await erase_expired(session, settings=settings, now=utcnow())
            erased += done
            if not done:
                break
        async with db.write_session() as session:
            cleared = await clear_expired_access(session, settings=settings, now=utcnow())
            if erased:
                await compact_search_index(session)
        return erased, cleared, await sweep_orphaned_uploads(db, settings)

    erased, cleared, swept = _with_db(settings, run)
    click.echo(
        f"Erased {erased} application(s) decided more than {settings.retention_days} days ago.\n"
        f"Deleted {cleared.sessions} expired staff session(s), {cleared.invitations} used or expired "
        f"invitation(s), {cleared.password_resets} password reset link(s) and "
        f"{cleared.rate_limit_windows} old rate-limit window(s).\n"
        f"Deleted {swept} uploaded file(s) no application refers to, older than "
        f"{settings.upload_orphan_grace_minutes} minutes."
    )


def _sweep_uploads_at_start(settings: Settings) -> None:
    """Delete the files a killed process left in the upload folder; a database not ready yet skips it."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.privacy.retention import sweep_orphaned_uploads

    log = logging.getLogger("byline")
    try:
        swept = _with_db(settings, lambda db: sweep_orphaned_uploads(db, settings))
    except (SQLAlchemyError, OSError) as error:
        log.warning("Could not check the upload folder for files no application refers to: %s", error)
        return
    if swept:
        log.info("Deleted %s uploaded file(s) no application refers to (left by a stopped process)", swept)


HOST_OPTION = click.option(
    "--host", default=None, help="Address to listen on [default: BYLINE_HOST, 127.0.0.1]."
)
PORT_OPTION = click.option("--port", default=None, type=int, help="Port [default: BYLINE_PORT, 8000].")


@main.command()
@HOST_OPTION
@PORT_OPTION
@click.option(
    "--workers",
    default=None,
    type=int,
    help="Web processes, PostgreSQL only [default: BYLINE_WEB_WORKERS, 1].",
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web app with uvicorn."""
    _serve(host, port, workers)


@main.command()
@HOST_OPTION
@PORT_OPTION
def run(host: str | None, port: int | None) -> None:
    """Migrate, load the demo data and serve with the mail catcher, in one process (`make run`)."""
    os.environ.setdefault("BYLINE_MAIL_CATCHER", "true")
    settings = Settings()
    _migrate(settings)
    _demo(settings)
    _serve(host, port, None)


def _serve(host: str | None, port: int | None, workers: int | None) -> None:
    import uvicorn

    # The app is built from the environment in each web process: the options are passed on there, so that a
    # base URL left unset is derived from the address actually served.
    if host:
        os.environ["BYLINE_HOST"] = host
    if port:
        os.environ["BYLINE_PORT"] = str(port)
    settings = Settings()
    host, port = settings.host, settings.port
    workers = workers or settings.web_workers
    if workers > 1 and settings.is_sqlite:
        raise click.ClickException("Several web processes need PostgreSQL (BYLINE_DATABASE_URL).")
    if workers > 1 and settings.mail_catcher:
        raise click.ClickException("The mail catcher runs in one web process: turn it off or use one worker.")
    _sweep_uploads_at_start(settings)
    # Logged rather than printed, so that with BYLINE_LOG_FORMAT=json every line of the process is JSON.
    log = logging.getLogger("byline")
    log.info("Byline is serving %s (listening on %s:%s)", settings.base_url, host, port)
    if settings.mail_catcher:
        from app.core import links

        _build_links(settings)
        log.info("Every email lands in the mail catcher: %s", links.absolute(settings, "mail_catcher"))
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
        # Logging is configure_logging's (create_app calls it in every worker process).
        log_config=None,
        access_log=False,
    )


@main.command()
def worker() -> None:
    """Send mail and webhook deliveries and run the scheduled jobs until SIGTERM (any number: PostgreSQL)."""
    from app.core.background import until_signalled
    from app.main import background_work

    settings = Settings()
    if settings.smtp_target is None:
        raise click.ClickException("Set BYLINE_SMTP_HOST (or BYLINE_MAIL_CATCHER) so the worker can send.")
    _build_links(settings)
    _sweep_uploads_at_start(settings)

    async def run() -> None:
        db = Database(settings)
        try:
            await until_signalled(background_work(db, settings))
        finally:
            await db.dispose()

    asyncio.run(run())


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
def backup(path: Path) -> None:
    """Back up the database and the uploads to PATH (a .tar.gz; in a folder, a dated file)."""
    from app.core.web import Clock
    from app.ops.backup import BackupError, create_backup, current_revision

    settings = Settings()
    try:
        revision = None if settings.is_sqlite else _with_db(settings, current_revision)
        written = create_backup(settings, path, revision=revision, now=Clock()())
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written: {written}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(path: Path, yes: bool) -> None:
    """Replace the database and the uploads with the backup at PATH (stop web and workers first)."""
    from app.ops.backup import BackupError, restore_backup
    from app.ops.routes import expected_revisions

    settings = Settings()
    if not yes:
        click.confirm(f"Replace every row and upload of {settings.db_url.split('@')[-1]}?", abort=True)
    try:
        manifest = restore_backup(settings, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored the backup of {manifest.created_at} ({manifest.files} uploaded files).")
    if manifest.revision not in expected_revisions(settings):
        click.echo(f"The backup is at migration {manifest.revision}: run `byline migrate` before serving.")


if __name__ == "__main__":
    main()
