"""`byline purge`: applications past retention are erased like an applicant's own erasure; the rest stays."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from app.models import (
    Erasure,
    Invitation,
    OutboxEmail,
    PasswordReset,
    RateLimitCounter,
    StaffSession,
    State,
    WorkSample,
)
from app.privacy.retention import sweep_orphaned_uploads
from tests.factories import (
    csrf_of,
    make_client,
    move,
    send_application,
    staff_login,
    valid_fields,
)
from tests.ops.support import run_command
from tests.privacy.support import assert_forgotten, traces_in_database
from tests.queries import application_id, count_rows, stored


def someone(tag: str) -> tuple[str, str]:
    return f"Ottoline {tag} Brackenbury", f"ottoline.{tag.lower()}.{uuid.uuid4().hex[:6]}@applicant.example"


async def apply(app, name: str, email: str) -> tuple[int, str]:
    async with make_client(app) as applicant:
        data = valid_fields(
            name=name,
            email=email,
            motivation=f"{name} writes on budgets, prices and the public debt, quickly.",
        )
        files = [("sample-1-file", ("cv.txt", f"{name} {email}\n".encode() * 20, "text/plain"))]
        public_id = await send_application(applicant, {**data, "sample-1-title": "Notes"}, files)
    return await application_id(app.state.db, public_id), f"/status/{public_id}"


async def withdraw(app, status_url: str) -> None:
    async with make_client(app) as applicant:
        page = await applicant.get(f"{status_url}/withdraw")
        response = await applicant.post(f"{status_url}/withdraw", data={"_csrf_token": csrf_of(page.text)})
        assert response.status_code == 303


async def oldest_window(db) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.min(RateLimitCounter.window_start))) or 0)


async def test_purge_erases_old_rejections_and_withdrawals_only_and_clears_expired_access(app, db, settings):
    rejected, withdrawn, reviewing, accepted, recent = (
        someone(tag) for tag in ("Rejected", "Withdrawn", "Open", "Hired", "Recent")
    )
    ids = {person: await apply(app, *person) for person in (rejected, withdrawn, reviewing, accepted, recent)}
    # The decisions are taken more than BYLINE_RETENTION_DAYS (365) ago, with the app's clock moved back.
    clock = app.state.clock
    today = clock()
    clock.freeze(today - timedelta(days=400))
    async with make_client(app) as editor:
        await staff_login(editor, db, "admin@desk.example", roles=("admin", "editor"))
        for person in (rejected, reviewing, accepted):
            await move(editor, ids[person][0], "screening")
        await move(editor, ids[rejected][0], "rejected", reason="Not our topics.", message="Sorry.")
        await move(editor, ids[accepted][0], "accepted", message="Welcome.")
        page = (await editor.get("/admin/users")).text
        invited = await editor.post(
            "/admin/invitations",
            data={
                "_csrf_token": csrf_of(page),
                "email": "new@desk.example",
                "name": "New",
                "roles": "editor",
            },
        )
        assert invited.status_code == 303
        forgot = await editor.get("/password/forgot")
        await editor.post(
            "/password/forgot", data={"_csrf_token": csrf_of(forgot.text), "email": "admin@desk.example"}
        )
    await withdraw(app, ids[withdrawn][1])
    clock.freeze(today)
    async with make_client(app) as editor:
        await staff_login(editor, db, "eda@desk.example", name="Eda Editor")
        await move(editor, ids[recent][0], "screening")
        await move(editor, ids[recent][0], "rejected", reason="Not now.", message="Sorry.")
    for table in (StaffSession, Invitation, PasswordReset, RateLimitCounter):
        assert await count_rows(db, table) > 0, table
    assert await oldest_window(db) < int((today - timedelta(days=365)).timestamp())

    result = await run_command(settings, "purge")
    assert result.exit_code == 0, result.output
    assert "Erased 2 application(s) decided more than 365 days ago." in result.output

    for person in (rejected, withdrawn):
        application = await stored(db, ids[person][0])
        assert application.erased_at is not None
    await assert_forgotten(db, settings, *rejected, *withdrawn)
    assert (await stored(db, ids[rejected][0])).state == State.rejected
    for person in (reviewing, accepted, recent):
        assert (await stored(db, ids[person][0])).erased_at is None
        assert await traces_in_database(db, list(person)), person
    async with db.sessionmaker() as session:
        log = (await session.scalars(select(Erasure).order_by(Erasure.public_id))).all()
        confirmations = await session.scalar(
            select(func.count()).where(OutboxEmail.template == "applicant_erased")
        )
    expected = sorted(ids[p][1].rsplit("/", 1)[-1] for p in (rejected, withdrawn))
    assert [e.public_id for e in log] == expected
    assert {e.requested_by for e in log} == {"retention"} and confirmations == 0

    # The old login, invitation, reset link and rate-limit windows are gone; today's session stays.
    assert await count_rows(db, Invitation) == 0 and await count_rows(db, PasswordReset) == 0
    assert await count_rows(db, StaffSession) == 1
    assert await oldest_window(db) > int((today - timedelta(days=2)).timestamp())

    again = await run_command(settings, "purge")
    assert "Erased 0 application(s)" in again.output
    assert await count_rows(db, Erasure) == 2

    async with make_client(app) as admin:
        await staff_login(admin, db, "chief@desk.example", roles=("admin",))
        page = await admin.get("/admin/erasures")
        assert page.status_code == 200 and "Retention purge" in page.text
        assert all(public_id in page.text for public_id in expected)
        assert rejected[0] not in page.text and "/admin/erasures" in (await admin.get("/admin/users")).text
    # Two erased applications are not taken for one person's.
    async with make_client(app) as editor:
        await staff_login(editor, db, "ed@desk.example", roles=("editor",))
        detail = await editor.get(f"/applications/{ids[rejected][0]}")
        assert detail.status_code == 200 and 'id="earlier"' not in detail.text


async def test_purge_deletes_old_upload_files_no_sample_refers_to_and_nothing_else(app, db, settings):
    await apply(app, *someone("Kept"))
    async with db.sessionmaker() as session:
        kept = await session.scalar(select(WorkSample.storage_key).where(WorkSample.storage_key.is_not(None)))
    folder = settings.uploads_path
    orphans = [folder / uuid.uuid4().hex for _ in range(4)] + [folder / f"{uuid.uuid4().hex}.part"]
    recent = [folder / uuid.uuid4().hex, folder / f"{uuid.uuid4().hex}.part"]
    foreign = [folder / "README.txt", folder / f"{uuid.uuid4().hex}.bak"]
    for path in (*orphans, *recent, *foreign):
        path.write_bytes(b"left behind")
    two_hours_ago = time.time() - 2 * 3600
    for path in (*orphans, *foreign, folder / kept):
        os.utime(path, (two_hours_ago, two_hours_ago))
    stays = sorted(path.name for path in (*recent, *foreign, folder / kept))

    # In batches smaller than the folder, so that several reference checks are made.
    assert await sweep_orphaned_uploads(db, settings, batch=2) == len(orphans)
    assert sorted(path.name for path in folder.iterdir()) == stays

    orphans[0].write_bytes(b"left behind again")
    os.utime(orphans[0], (two_hours_ago, two_hours_ago))
    result = await run_command(settings, "purge")
    assert result.exit_code == 0, result.output
    assert "Deleted 1 uploaded file(s) no application refers to, older than 60 minutes." in result.output
    assert sorted(path.name for path in folder.iterdir()) == stays
