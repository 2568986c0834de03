"""The baselines the benchmarks compare Byline with, measured in the same run on the same machine and data.

- `GET /rows`: a minimal Litestar handler rendering 50 Core rows as wide as the queue's (B1).
- `GET /lookup?email=…`: one plain index lookup, the floor under a search (B2).
- `POST /upload`: parse a multipart body and write its files to disk, nothing else (B3).

    BYLINE_DATABASE_URL=… uvicorn --factory bench.baseline_app:create_app
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from jinja2 import Environment
from litestar import Litestar, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from app.models import Applicant, Application

PAGE = Environment(autoescape=True).from_string(
    "<!doctype html><title>rows</title><table>{% for r in rows %}<tr><td><a href='/a/{{ r[0] }}'>{{ r[1] }}</a>"
    "<br>{{ r[2] }}</td><td>{{ r[3] }}</td><td>{{ r[4] }}</td><td>{{ r[5] }}</td><td>{{ r[6] }}</td>"
    "<td>{{ r[7] }}</td></tr>{% endfor %}</table>"
)


def create_app() -> Litestar:
    engine = create_async_engine(os.environ["BYLINE_DATABASE_URL"], pool_size=10)
    upload_dir = Path(os.environ.get("BASELINE_UPLOAD_DIR", "var/bench/baseline-uploads"))
    upload_dir.mkdir(parents=True, exist_ok=True)

    @get("/rows")
    async def rows() -> Response[str]:
        async with engine.connect() as conn:
            found = (
                await conn.execute(
                    select(
                        col(Application.id),
                        col(Applicant.name),
                        col(Applicant.email),
                        col(Application.state),
                        col(Application.created_at),
                        col(Application.state_changed_at),
                        col(Application.due_at),
                        col(Application.is_repeat),
                    )
                    .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
                    .order_by(col(Application.id))
                    .limit(50)
                )
            ).all()
        return Response(PAGE.render(rows=found), media_type="text/html")

    @get("/lookup")
    async def lookup(email: str) -> Response[str]:
        async with engine.connect() as conn:
            found = (
                await conn.execute(
                    select(col(Applicant.id), col(Applicant.name)).where(
                        col(Applicant.email_normalized) == email
                    )
                )
            ).all()
        return Response(
            PAGE.render(rows=[(r[0], r[1], "", "", "", "", "", "") for r in found]), media_type="text/html"
        )

    @post("/upload", status_code=303)
    async def upload(
        request: Request[Any, Any, Any],
        data: dict[str, Any] = Body(media_type=RequestEncodingType.MULTI_PART),  # noqa: B008
    ) -> Response[str]:
        for value in data.values():
            if isinstance(value, UploadFile):
                target = upload_dir / secrets.token_hex(16)
                with target.open("wb") as out:
                    while chunk := await value.read(1 << 16):
                        out.write(chunk)
        return Response("", status_code=303, headers={"location": "/done"})

    async def close() -> None:
        await engine.dispose()

    return Litestar(
        route_handlers=[rows, lookup, upload],
        on_shutdown=[close],
        request_max_body_size=200 * 1024 * 1024,
        openapi_config=None,
    )
