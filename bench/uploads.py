"""Load for the public form (B3) and for large uploads (B5), from a client pinned to core 1.

The PDFs are real: a page of text and a photo-like image (noise does not compress), 1 MB for B3 and just under
the 20 MB limit for B5. They are made once and kept under var/bench/.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from app.demo import news_sample

VAR = Path(__file__).resolve().parent.parent / "var" / "bench"
CONCURRENCY = 8


def pdf_of_size(megabytes: float) -> bytes:
    """A real PDF of about `megabytes`: the news piece and an image of noise."""
    path = VAR / f"sample-{megabytes:g}mb.pdf"
    if path.exists():
        return path.read_bytes()
    from fpdf import FPDF
    from PIL import Image

    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    rng = random.Random(5)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, news_sample()[:1500].encode("latin-1", "replace").decode("latin-1"))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=0)
    pdf.add_page()
    pdf.image(io.BytesIO(buffer.getvalue()), w=180)
    data = bytes(pdf.output())
    VAR.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def fields(n: int) -> dict[str, str | list[str]]:
    return {
        "name": f"Bench Applicant {n}",
        "email": f"bench.{n}.{time.time_ns()}@applicant.example",
        "city": "Tbilisi",
        "country": "Georgia",
        "departments": ["news"],
        "topics": ["politics"],
        "motivation": "I check every claim against primary sources and write fast, clear copy.",
        "experience": "Five years at a regional daily.",
        "availability": "Weekly",
        "consent": "yes",
        "sample-0-title": "Clip with photo",
        "sample-1-title": "Portfolio",
        "sample-1-url": "https://portfolio.example/bench",
        "sample-2-title": "Pasted piece",
        "sample-2-text": news_sample()[:3000],
    }


@dataclass
class PostRun:
    rps: float
    redirects: int
    errors: int
    stored_rows: int


async def _tokens(client: httpx.AsyncClient, count: int) -> list[dict[str, str]]:
    tokens = []
    for _ in range(count):
        page = (await client.get("/apply")).text
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page)
        form = re.search(r'name="form_token" value="([^"]+)"', page)
        assert csrf and form, "the form has no tokens"
        tokens.append({"_csrf_token": csrf.group(1), "form_token": form.group(1)})
    return tokens


def _pin_client() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})


async def form_posts(base: str, count: int, *, baseline: bool, database_url: str = "") -> PostRun:
    """`count` form posts, CONCURRENCY at a time; the Byline run counts the applications it finds stored."""
    _pin_client()
    pdf = pdf_of_size(1)
    async with httpx.AsyncClient(base_url=base, timeout=120, follow_redirects=False) as client:
        tokens = [{} for _ in range(count)] if baseline else await _tokens(client, count)
        before = await _stored(database_url) if not baseline else 0
        target = "/upload" if baseline else "/apply"
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(count):
            queue.put_nowait(n)
        codes: list[int] = []

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                files = {"sample-0-file": ("clip.pdf", pdf, "application/pdf")}
                answer = await client.post(target, data={**fields(n), **tokens[n]}, files=files)
                codes.append(answer.status_code)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        took = time.monotonic() - started
        after = await _stored(database_url) if not baseline else 0
    redirects = sum(1 for code in codes if code == 303)
    return PostRun(count / took, redirects, len(codes) - redirects, after - before)


async def _stored(database_url: str) -> int:
    """Applications in the bench database (the queue's own count stops at 10,000)."""
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from app.models import Application

    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(Application))).scalar_one())
    finally:
        await engine.dispose()


@dataclass
class MemoryRun:
    idle_mb: float
    peak_growth_mb: float
    accepted: int


async def large_uploads(base: str, process: psutil.Process, *, count: int) -> MemoryRun:
    """`count` uploads of a 20 MB PDF at once, sampling the server's RSS every 5 ms."""
    _pin_client()
    pdf = pdf_of_size(19.5)
    idle = process.memory_info().rss
    peak = idle
    done = False

    async def sample() -> None:
        nonlocal peak
        while not done:
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.005)

    async with httpx.AsyncClient(base_url=base, timeout=300, follow_redirects=False) as client:
        tokens = await _tokens(client, count)
        sampler = asyncio.create_task(sample())

        async def post(n: int) -> int:
            files = {"sample-0-file": ("big.pdf", pdf, "application/pdf")}
            answer = await client.post("/apply", data={**fields(n), **tokens[n]}, files=files)
            return answer.status_code

        codes = await asyncio.gather(*(post(n) for n in range(count)))
        done = True
        await sampler
    return MemoryRun(idle / 2**20, (peak - idle) / 2**20, sum(1 for code in codes if code == 303))
