"""Scheduled work: a registry of jobs, filled by the composition root, and the loop that runs them.

A job has a name, runs every so many seconds and is an async callable taking (session, settings, now); each
run gets its own write transaction, so a job that fails leaves nothing half done and the others still run.
Every worker runs every job (the first time when it starts), so a job must be safe to run anywhere at once:
what it queues carries a dedupe key, and what it changes is changed once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.models import utcnow
from app.settings import Settings

log = logging.getLogger("byline.jobs")

JobFunction = Callable[[AsyncSession, Settings, datetime], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # seconds between runs
    run: JobFunction


class Jobs:
    """The jobs a worker runs; the composition root adds them (app/main.py `scheduled_jobs`)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def add(self, name: str, *, every: float, run: JobFunction) -> None:
        if name in self._jobs:
            raise ValueError(f"a job named {name!r} is registered already")
        if every <= 0:
            raise ValueError(f"job {name!r} must run every so many seconds (more than 0)")
        self._jobs[name] = Job(name, every, run)

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)

    @property
    def names(self) -> list[str]:
        return list(self._jobs)


class JobRunner:
    """Runs each registered job when its time comes, until `stop()`."""

    def __init__(
        self, db: Database, settings: Settings, jobs: Jobs, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.settings = settings
        self.jobs = jobs
        self.clock = clock
        self._next: dict[str, float] = {job.name: float("-inf") for job in jobs}
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Let the job running now finish, then return from `run`."""
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            await self.run_due()
            wait = min(self._next.values(), default=float("inf")) - time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=max(min(wait, 3600.0), 0.0))

    async def run_due(self) -> list[str]:
        """Run every job whose time has come, one after the other; returns their names."""
        ran: list[str] = []
        for job in self.jobs:
            if self._stopping.is_set() or time.monotonic() < self._next[job.name]:
                continue
            try:
                async with self.db.write_session() as session:
                    await job.run(session, self.settings, self.clock())
            except Exception:
                # The database went away, or the job has a fault: the others still run, this one next time.
                log.exception("job %s failed; it runs again in %.0f s", job.name, job.every)
            self._next[job.name] = time.monotonic() + job.every
            ran.append(job.name)
        return ran
