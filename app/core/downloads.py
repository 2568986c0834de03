"""Uploaded files handed to staff: who may fetch one, and the attachment response (docs/security.md E5)."""

from __future__ import annotations

from litestar.response import File
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import NotFound
from app.core.i18n import N_
from app.core.staff import StaffUser
from app.models import FactCheckTask
from app.settings import Settings


async def staff_attachment(
    session: AsyncSession,
    settings: Settings,
    staff: StaffUser,
    *,
    application_id: int,
    storage_key: str | None,
    file_name: str,
    content_type: str | None,
) -> File:
    """The stored file `storage_key` of an application as an attachment with its sniffed type: editors fetch
    any; a fact-checker only the files of applications they hold a task on (anyone else's is a 404)."""
    if storage_key is None:
        raise NotFound(N_("There is no such file."))
    if not staff.is_editor:
        task = await session.scalar(
            select(col(FactCheckTask.id)).where(
                col(FactCheckTask.application_id) == application_id,
                col(FactCheckTask.assignee_id) == staff.id,
            )
        )
        if task is None:
            raise NotFound(N_("There is no such file."))
    path = settings.uploads_path / storage_key
    if not path.is_file():
        raise NotFound(N_("The file is missing from storage."))
    return File(
        path=path,
        filename=file_name,
        media_type=content_type or "application/octet-stream",
        content_disposition_type="attachment",
    )
