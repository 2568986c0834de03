"""Helpers for the review tests: a real submitted application and logged-in staff clients."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from app.core.db import Database
from app.core.text import normalize_email
from app.models import Applicant, Application, OutboxEmail
from tests.conftest import csrf_of, login, make_staff, post_application, valid_fields

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


async def submit(client: AsyncTestClient[Litestar], db: Database, **overrides: Any) -> int:
    """Apply through the public form; returns the new application's id."""
    data = valid_fields(**overrides)
    response = await post_application(client, data)
    assert response.status_code == 303, response.text
    async with db.sessionmaker() as session:
        app_id = await session.scalar(
            select(Application.id)
            .join(Applicant, Applicant.id == Application.applicant_id)  # type: ignore[arg-type]
            .where(Applicant.email_normalized == normalize_email(data["email"]))
            .order_by(Application.id.desc())  # type: ignore[union-attr]
        )
    assert app_id is not None
    return int(app_id)


async def staff_login(client: AsyncTestClient[Litestar], db: Database, email: str, **kwargs: Any) -> int:
    user_id = await make_staff(db, email=email, **kwargs)
    response = await login(client, email)
    assert response.status_code == 303
    return user_id


async def page_form(client: AsyncTestClient[Litestar], app_id: int) -> tuple[str, dict[str, str]]:
    """The application page's HTML and the hidden fields its forms carry."""
    page = await client.get(f"/applications/{app_id}")
    assert page.status_code == 200, page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    return page.text, {"_csrf_token": csrf_of(page.text), "version": version.group(1)}


async def stored(db: Database, app_id: int) -> Application:
    async with db.sessionmaker() as session:
        application = await session.get(Application, app_id)
        assert application is not None
        return application


async def outbox(db: Database, app_id: int) -> list[OutboxEmail]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxEmail).where(OutboxEmail.application_id == app_id).order_by(OutboxEmail.id)  # type: ignore[arg-type]
        )
        return list(rows.all())
