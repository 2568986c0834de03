"""Helpers of the upload tests: a file put through the upload checks and storage directly, and the files the
upload folder holds."""

from __future__ import annotations

import io
from pathlib import Path

from app.applications.uploads import StoredFile, store_upload
from app.settings import Settings


async def store(data: bytes, name: str, settings: Settings, budget: int | None = None) -> StoredFile:
    """`data` checked and stored as an upload named `name`, within `budget` bytes (the form's whole allowance)."""
    budget = settings.max_application_bytes if budget is None else budget
    return await store_upload(io.BytesIO(data), filename=name, settings=settings, budget_bytes=budget)


def files_in(folder: Path) -> list[Path]:
    """Every file under `folder` (none when it does not exist yet)."""
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
