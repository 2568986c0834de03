"""Links come from route names (app/core/links.py, `url_for` in templates, `redirect_to` in handlers).

No template or module writes out a path of the app: a route moved or renamed changes every link to it. The
static files keep their written `/static/` paths. The route decorators (and the API document's paths in
app/api/openapi.py) are where paths are declared, and none of the patterns below reads them.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from litestar import Litestar
from sqlalchemy import select, update

from app.core import links
from app.models import EmailStatus, FactCheckTask, OutboxEmail
from tests.environment import ROOT
from tests.factories import create_task, post_application
from tests.mail.support import stop_process, until, worker_process
from tests.queries import outbox

TEMPLATES = ROOT / "templates"
APP = ROOT / "app"

# An attribute holding a path of the app: a link, a form's target, an htmx request, a hidden `back` field, or a
# path handed to a `{% trans %}` block.
TEMPLATE_PATH = re.compile(
    r"""\b(?:href|src|action|formaction|value|hx-(?:get|post|put|patch|delete))\s*=\s*["'](/(?!static/)[^"']*)""",
    re.I,
)
PYTHON_PATHS = {
    "a redirect to a written path": re.compile(r"""Redirect\(\s*f?["']/"""),
    "a base URL followed by a written path": re.compile(
        r"""base_url[^\n]*?\}/|base_url(?:\.rstrip\([^)]*\))?\s*\+\s*f?["']/"""
    ),
    "a Location header with a written path": re.compile(
        r"""["'](?:location|hx-redirect|hx-location)["']\s*[:,\]]\s*=?\s*f?["']/""", re.I
    ),
}
# Modules allowed to keep a written link, each with why. The test fails when an entry is no longer needed.
EXEMPT: set[str] = set()


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_no_template_writes_out_a_path_of_the_app():
    found = [
        f"{_relative(template)}:{source.count(chr(10), 0, match.start()) + 1}: {match.group(1)}"
        for template in sorted(TEMPLATES.rglob("*.html")) + sorted(TEMPLATES.rglob("*.txt"))
        for source in [template.read_text()]
        for match in TEMPLATE_PATH.finditer(source)
    ]
    assert not found, "use url_for('route_name', ...):\n" + "\n".join(found)


def _python_links(module: Path) -> list[str]:
    source = module.read_text()
    return [
        f"{_relative(module)}:{source.count(chr(10), 0, match.start()) + 1}: {what}: {match.group(0)}"
        for what, pattern in PYTHON_PATHS.items()
        for match in pattern.finditer(source)
    ]


def test_no_module_writes_out_a_link_to_the_app():
    modules = sorted(APP.rglob("*.py"))
    found = [line for module in modules if _relative(module) not in EXEMPT for line in _python_links(module)]
    assert not found, "use redirect_to / links.absolute / links.status_url:\n" + "\n".join(found)
    stale = [name for name in sorted(EXEMPT) if not _python_links(ROOT / name)]
    assert not stale, f"no longer needs its exemption: {stale}"


def test_the_patterns_catch_what_they_are_for():
    assert TEMPLATE_PATH.search('<a href="/dashboard">') and TEMPLATE_PATH.search("<form action='/tasks/1'>")
    assert TEMPLATE_PATH.search('<div hx-get="/dashboard">') and TEMPLATE_PATH.search(
        '{% trans href="/x/%s" %}'
    )
    assert not TEMPLATE_PATH.search('<link href="/static/byline.css">')
    assert not TEMPLATE_PATH.search("<a href=\"{{ url_for('dashboard') }}\">")
    for written in (
        'Redirect("/login", status_code=303)',
        'Redirect(f"/tasks/{task_id}")',
        '"url": f"{settings.base_url}/tasks/{task.id}",',
        'settings.base_url.rstrip("/") + "/status/x"',
        'headers={"Location": "/login"}',
        'response.headers["HX-Redirect"] = "/dashboard"',
    ):
        assert any(p.search(written) for p in PYTHON_PATHS.values()), written
    assert not any(p.search('redirect_to(request, "login")') for p in PYTHON_PATHS.values())


def _handler_names(app: Litestar) -> dict[str, set[str]]:
    """Each named route and its path parameters."""
    names: dict[str, set[str]] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.name:
                names[handler.name] = set(route.path_parameters)
    return names


URL_FOR = re.compile(r"url_for\(\s*'(\w+)'")
PYTHON_NAMES = re.compile(
    r"""(?:redirect_to\(\s*request,|links\.absolute\(\s*settings,|links\.path\(|route_reverse\()\s*"(\w+)\""""
)
NOT_PATH_PARAMETERS = {"query", "fragment", "cookies"}


def _keywords(source: str, start: int) -> set[str]:
    """The keyword arguments of the call whose arguments go on at `start`, up to its closing bracket."""
    depth = 0
    for end in range(start, len(source)):
        depth += source[end] in "([{"
        depth -= source[end] in ")]}"
        if depth < 0:
            break
    return set(re.findall(r"\b(\w+)=(?!=)", source[start:end])) - NOT_PATH_PARAMETERS


def test_every_route_name_used_in_a_link_exists_with_its_parameters(app):
    routes = _handler_names(app)
    used = [
        (
            f"{_relative(path)}:{source.count(chr(10), 0, match.start()) + 1}",
            match.group(1),
            _keywords(source, match.end()),
        )
        for path in [*TEMPLATES.rglob("*.html"), *APP.rglob("*.py")]
        for source in [path.read_text()]
        for match in (URL_FOR if path.suffix == ".html" else PYTHON_NAMES).finditer(source)
    ]
    assert len(used) > 100
    wrong = [
        f"{where}: {name}({', '.join(sorted(params))})"
        for where, name, params in used
        if routes.get(name) != params
    ]
    assert not wrong, "no such route, or not with these path parameters:\n" + "\n".join(wrong)


async def test_the_status_link_is_the_status_route_on_the_public_address(app, client, db, settings):
    response = await post_application(client)
    assert response.status_code == 303
    received = await client.get(response.headers["location"])
    shown = re.search(r'id="status-link">([^<]+)<', received.text)
    assert shown
    public_id = shown.group(1).rstrip("/").rpartition("/")[2]
    expected = settings.base_url + app.route_reverse("status", public_id=public_id)
    assert links.status_url(settings, public_id) == shown.group(1) == expected
    [confirmation] = await outbox(db, template="applicant_received")
    assert confirmation.context["status_url"] == expected
    assert (await client.get(expected.removeprefix(settings.base_url))).status_code == 200


def test_absolute_links_keep_the_path_and_add_the_query(app, settings):
    assert links.path("task_page", task_id=7) == app.route_reverse("task_page", task_id=7)
    assert links.absolute(settings, "login", {"next": "/tasks?x=1", "unused": None}) == (
        f"{settings.base_url}/login?next=%2Ftasks%3Fx%3D1"
    )
    assert links.with_query("/outbox", {}) == "/outbox"


async def test_a_worker_started_on_its_own_queues_reminders_with_links_to_the_app(
    app, client, db, settings, relay, fact_check_desk
):
    """`byline worker` serves no HTTP: it still builds the links of the reminders it queues and sends."""
    app_id, _, checker, _ = fact_check_desk
    task_id = await create_task(client, db, app_id, checker)
    async with db.write_session() as session:
        await session.execute(
            update(FactCheckTask)
            .where(FactCheckTask.id == task_id)  # type: ignore[arg-type]
            .values(due_at=datetime.now(UTC) - timedelta(hours=1))
        )
    public = "http://desk.example:8123"

    async def reminder() -> OutboxEmail | None:
        async with db.sessionmaker() as session:
            return await session.scalar(
                select(OutboxEmail).where(
                    OutboxEmail.template == "staff_task_reminder", OutboxEmail.status == EmailStatus.sent
                )
            )

    async def sent() -> bool:
        return await reminder() is not None

    process = worker_process(settings, relay, BYLINE_BASE_URL=public)
    try:
        await until(sent, within=30)
    finally:
        assert stop_process(process) == 0, process.stderr.read() if process.stderr else ""
    row = await reminder()
    assert row is not None
    task_url = public + app.route_reverse("task_page", task_id=task_id)
    assert row.context["task_url"] == task_url
    [message] = [m for m in relay.received if m.message_id == row.message_id]
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    text = parsed.get_body(("plain",))
    assert text is not None and task_url in text.get_content()
