"""Loops that run beside the pages (the outbound senders, the job runner), started and stopped together.

A loop has `run()`, which returns once `stop()` was called and the work in hand is done. The web process
runs them for the app's lifetime (`running`); `byline worker` runs them until SIGTERM or SIGINT
(`until_signalled`).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol


class Loop(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...


@asynccontextmanager
async def running(loops: Sequence[Loop]) -> AsyncIterator[None]:
    """Run `loops` as tasks while the block runs; then stop them and wait until each has finished."""
    tasks = [asyncio.create_task(loop.run(), name=f"byline-{type(loop).__name__}") for loop in loops]
    try:
        yield
    finally:
        for loop in loops:
            loop.stop()
        await asyncio.gather(*tasks)


async def until_signalled(loops: Sequence[Loop]) -> None:
    """Run `loops` until SIGTERM or SIGINT asks them to stop, and return when each has finished."""

    def stop() -> None:
        for loop in loops:
            loop.stop()

    event_loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        event_loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(loop.run() for loop in loops))
