"""The application page: details, samples, timeline, notes, scores, assignment and workflow moves."""

from __future__ import annotations

from litestar import Router


def create_router() -> Router:
    return Router(path="/", route_handlers=[])
