"""Helpers of the API tests: the app's routes and who may use each API route, and a webhook receiver on
loopback."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from litestar import Litestar
from litestar.routes import HTTPRoute

STAFF = frozenset({"admin", "editor", "fact_checker", "finance"})
EDITORS = frozenset({"editor"})

# The API's routes and the roles that may use them, as on their HTML pages (tests/accounts/test_route_access.py
# holds the rest of the app's routes).
API_ACCESS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/me"): STAFF,
    ("GET", "/api/v1/workflow"): STAFF,
    ("GET", "/api/v1/applications"): EDITORS,
    ("GET", "/api/v1/applications/{application_id:int}"): EDITORS,
    ("POST", "/api/v1/applications/{application_id:int}/moves"): EDITORS,
    ("POST", "/api/v1/applications/{application_id:int}/notes"): EDITORS,
    ("POST", "/api/v1/applications/{application_id:int}/tasks"): EDITORS,
    ("GET", "/api/v1/tasks"): frozenset({"editor", "fact_checker"}),
    ("GET", "/api/v1/tasks/{task_id:int}"): frozenset({"editor", "fact_checker"}),
    ("PUT", "/api/v1/tasks/{task_id:int}/work"): frozenset({"editor", "fact_checker"}),
    ("GET", "/api/v1/outbox"): frozenset({"editor", "admin"}),
    ("GET", "/api/v1/applications/{application_id:int}/trials"): frozenset({"editor", "finance", "admin"}),
    ("POST", "/api/v1/trials/{trial_id:int}/fee/status"): frozenset({"finance", "admin"}),
}
# The OpenAPI document and its reference page: public.
API_PUBLIC = {
    ("GET", "/api/v1"),
    ("GET", "/api/v1/docs"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/{path:str}"),
}


def route_table(app: Litestar) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, OPTIONS aside."""
    routes = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method in route.methods:
                if method != "OPTIONS":
                    routes.add((method, route.path))
    return routes


@dataclass
class Receiver:
    """A webhook receiver on loopback: answers with the scripted statuses, then 200, and keeps every request."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """A Receiver listening on a free loopback port until the block ends (the `receiver` fixture)."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/byline-hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def signed_correctly(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (written here independently of app/api/webhooks.py)."""
    timestamp = headers["x-byline-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", headers["x-byline-signature"])
