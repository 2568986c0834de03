"""Path and query parameters the API's routes share: ids in range, flags, short plain texts."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from app.api import schemas

PathId = Annotated[int, PathParameter(ge=1, le=schemas.MAX_ID)]
QueryId = Annotated[int | None, QueryParameter(ge=1, le=schemas.MAX_ID)]
Flag = Annotated[bool, QueryParameter(description="Only applications with this property.")]
ShortText = Annotated[str, QueryParameter(max_length=40, pattern=schemas.PLAIN)]
