"""The restore drill: data and uploads backed up, damaged, restored, and served again, on both databases."""

from __future__ import annotations

import json
import tarfile

from sqlalchemy import delete, select, text

from app.demo import make_pdf
from app.main import create_app
from app.models import Applicant, Application, User, WorkSample
from tests.environment import backend, postgres_url, settings_for
from tests.factories import login, make_client, make_staff, send_application, valid_fields
from tests.ops.support import own_database, run_command


async def _apply_with_a_file(client, title: str) -> str:
    pdf = make_pdf(title, "The council approved the harbour budget.")
    data = valid_fields(**{"sample-1-title": title})
    return await send_application(client, data, [("sample-1-file", (f"{title}.pdf", pdf, "application/pdf"))])


async def _snapshot(db) -> tuple[list[str], list[str], list[str], int]:
    """Applications, staff, stored file keys and the number of timeline events."""
    async with db.sessionmaker() as session:
        public_ids = sorted((await session.scalars(select(Application.public_id))).all())
        staff = sorted((await session.scalars(select(User.email))).all())
        keys = (
            await session.scalars(select(WorkSample.storage_key).where(WorkSample.storage_key.is_not(None)))
        ).all()  # type: ignore[union-attr]
        events = int(await session.scalar(text("SELECT count(*) FROM event")) or 0)
    return public_ids, staff, sorted(keys), events


async def test_restore_drill_brings_back_rows_and_files_and_the_app_serves_them(tmp_path):
    async with own_database(tmp_path) as url:
        settings = settings_for(url, tmp_path)
        app = create_app(settings)
        db = app.state.db
        async with make_client(app) as client:
            kept = [await _apply_with_a_file(client, "first"), await _apply_with_a_file(client, "second")]
        await make_staff(db, email="chief@desk.example", roles=("admin", "editor"))
        before = await _snapshot(db)
        uploads = settings.uploads_path
        files = {key: (uploads / key).read_bytes() for key in before[2]}
        assert len(files) == 2 and all(files.values())

        made = await run_command(settings, "backup", str(tmp_path))
        assert made.exit_code == 0, made.output
        archive = next(tmp_path.glob("byline-*.tar.gz"))
        with tarfile.open(archive) as tar:
            manifest = json.loads(tar.extractfile("manifest.json").read())
            names = tar.getnames()
        assert manifest["database"] == ("postgresql" if backend() == "postgres" else "sqlite")
        assert manifest["revision"] and manifest["files"] == 2 and manifest["byline_version"]
        assert {f"uploads/{key}" for key in files} <= set(names)

        # The damage: an application and the staff account gone, a file deleted, a stray one added.
        async with db.write_session() as session:
            await session.execute(
                delete(Applicant).where(
                    Applicant.id
                    == select(Application.applicant_id)
                    .where(Application.public_id == kept[0])
                    .scalar_subquery()
                )
            )  # type: ignore[arg-type]
            await session.execute(delete(User))
        (uploads / next(iter(files))).unlink()
        (uploads / "stray.bin").write_bytes(b"not from the backup")
        async with make_client(app) as client:
            await _apply_with_a_file(client, "after the backup")
        assert (await _snapshot(db))[:2] != before[:2]

        restored = await run_command(settings, "restore", "--yes", str(archive))
        assert restored.exit_code == 0, restored.output
        assert "2 uploaded files" in restored.output
        after = await _snapshot(db)
        assert after == before
        assert {p.name for p in uploads.iterdir()} == set(files)
        assert all((uploads / key).read_bytes() == data for key, data in files.items())
        await db.dispose()

        served = create_app(settings)
        async with make_client(served) as client:
            status = await client.get(f"/status/{kept[0]}")
            assert status.status_code == 200
            assert (await client.get("/readyz")).status_code == 200
            assert (await login(client, "chief@desk.example")).status_code == 303
            async with served.state.db.sessionmaker() as session:
                sample = (
                    await session.scalars(select(WorkSample).where(WorkSample.storage_key.is_not(None)))
                ).first()  # type: ignore[union-attr]
            download = await client.get(f"/applications/{sample.application_id}/samples/{sample.id}/file")
            assert download.status_code == 200
            assert download.content == files[sample.storage_key]
        await served.state.db.dispose()


async def test_restore_refuses_a_backup_of_the_other_database_kind(tmp_path):
    async with own_database(tmp_path) as url:
        settings = settings_for(url, tmp_path)
        made = await run_command(settings, "backup", str(tmp_path / "one.tar.gz"))
        assert made.exit_code == 0, made.output
        other = (
            f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
            if backend() == "postgres"
            else postgres_url("byline_never_touched")
        )
        refused = await run_command(
            settings, "restore", "--yes", str(tmp_path / "one.tar.gz"), database_url=other
        )
        assert refused.exit_code != 0
        kind, target = ("postgresql", "sqlite") if backend() == "postgres" else ("sqlite", "postgresql")
        assert (
            f"This backup holds a {kind} database but BYLINE_DATABASE_URL points to {target}"
            in refused.output
        )
        assert "nothing was changed" in refused.output
        assert not (tmp_path / "other.db").exists()
        garbage = tmp_path / "garbage.tar.gz"
        garbage.write_bytes(b"not a backup")
        bad = await run_command(settings, "restore", "--yes", str(garbage))
        assert bad.exit_code != 0 and "is not a Byline backup" in bad.output
