"""The `byline` command against this run's database."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts.passwords import verify_password
from app.models import Applicant, Application, State, User, WorkSample
from tests.ops.support import run_command


async def test_create_admin_prints_a_one_time_password_that_works(app, db, settings):
    result = await run_command(
        settings, "create-admin", "--email", "Chief@Desk.example", "--name", "Chief Editor"
    )
    assert result.exit_code == 0, result.output
    password = re.search(r"One-time password: (\S+)", result.output).group(1)
    async with db.sessionmaker() as session:
        user = (await session.scalars(select(User))).one()
    assert user.email == "chief@desk.example" and user.is_admin and user.must_change_password
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, password)
    again = await run_command(settings, "create-admin", "--email", "chief@desk.example")
    assert again.exit_code != 0 and "exists already" in again.output


async def test_demo_loads_applications_in_every_state_once_and_renews_the_passwords(app, db, settings):
    first = await run_command(settings, "demo")
    assert first.exit_code == 0, first.output
    assert "10 new applications" in first.output
    logins = dict(re.findall(r"Demo (\w[\w-]*) login: \S+  password: (\S+)", first.output))
    assert set(logins) == {"admin", "editor", "fact-checker", "finance"}
    second = await run_command(settings, "demo")
    assert "already loaded" in second.output
    renewed = dict(re.findall(r"Demo (\w[\w-]*) login: \S+  password: (\S+)", second.output))
    assert renewed["editor"] != logins["editor"]
    async with db.sessionmaker() as session:
        applications = (await session.scalars(select(Application))).all()
        samples = (await session.scalars(select(WorkSample))).all()
        staff = {u.email: u for u in (await session.scalars(select(User))).all()}
    assert len(applications) == 10
    assert {a.state for a in applications} == set(State)
    assert {s.detected_type for s in samples if s.kind == "file"} == {"pdf", "docx"}
    assert all((settings.uploads_path / s.storage_key).is_file() for s in samples if s.kind == "file")
    assert all(s.extracted_text and s.word_count for s in samples if s.kind == "file")  # read at upload
    assert verify_password(staff["editor@byline.example"].password_hash, renewed["editor"])
    assert staff["checker@byline.example"].is_fact_checker and not staff["checker@byline.example"].is_editor


async def test_demo_has_russian_applicants_who_applied_in_russian(app, db, settings):
    assert (await run_command(settings, "demo")).exit_code == 0
    async with db.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Applicant.name, Applicant.city, Application.locale, Application.motivation).join(
                    Application, Application.applicant_id == Applicant.id
                )
            )
        ).all()
        texts = [s.extracted_text or s.text or "" for s in (await session.scalars(select(WorkSample))).all()]
    russian = [row for row in rows if row.locale == "ru"]
    assert len(russian) >= 3 and {row.locale for row in rows} == {"en", "ru"}
    assert all(re.search("[А-Яа-я]", row.name + row.city + row.motivation) for row in russian)
    assert any("Пермский край" in text for text in texts)  # the Russian news sample
