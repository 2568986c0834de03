"""Links built from route names: a path, or an absolute URL on `settings.base_url` for emails and the API.

Paths come from the routes themselves (Litestar's route reversal), never from strings written out here. The
composition root registers its app's `route_reverse` when it builds the app (`create_app` in app/main.py); a
process that queues or sends mail without serving HTTP (`byline worker`, `byline demo`, `byline purge`) builds
the app once for the same purpose before it starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from app.settings import Settings

Reverse = Callable[..., str]
Query = Mapping[str, Any] | None

_reverse: Reverse | None = None


class NoRoutes(RuntimeError):
    """A link was asked for before any app registered its routes."""


def register(reverse: Reverse) -> None:
    """Use `reverse` (an app's `route_reverse`) for every link built from now on in this process."""
    global _reverse
    _reverse = reverse


def registered() -> bool:
    """Whether an app in this process has registered its routes already."""
    return _reverse is not None


def with_query(path: str, query: Query = None) -> str:
    """`path` with `query` appended (values of None are left out; lists repeat their key)."""
    pairs = {key: value for key, value in (query or {}).items() if value is not None}
    return f"{path}?{urlencode(pairs, doseq=True)}" if pairs else path


def path(route: str, /, query: Query = None, **params: Any) -> str:
    """The path of the route named `route` with its path parameters, and `query` if given."""
    if _reverse is None:
        raise NoRoutes("No routes to build links from: build the app (app.main.create_app) first.")
    return with_query(_reverse(route, **params), query)


def absolute(settings: Settings, route: str, /, query: Query = None, **params: Any) -> str:
    """The absolute URL of the route named `route`, on the site's public address (`settings.base_url`)."""
    return settings.base_url.rstrip("/") + path(route, query, **params)


def status_url(settings: Settings, public_id: str) -> str:
    """The applicant's status link, in every email and page that gives it (built here and nowhere else)."""
    return absolute(settings, "status", public_id=public_id)
