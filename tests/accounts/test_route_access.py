"""Every route of the app, for anonymous visitors and for each staff role (docs/security.md C2).

The tables below say who may use each route; a route missing from them fails the test, so a new page cannot
ship without deciding who may see it. A person the table lets in sends a real request (a filled form, the ids
of things that exist) and must get exactly the answer written next to the route, a page (200) or the redirect
after a change (303): a server error or a refusal fails the test as surely as a leak does.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from app.core.db import Database
from app.models import ApiToken, Invitation, WebhookDelivery
from tests.api.support import API_ACCESS, API_PUBLIC, STAFF, route_table
from tests.factories import (
    PDF,
    STAFF_PASSWORD,
    accept_fee,
    add_webhook,
    create_task,
    create_token,
    csrf_of,
    insert_submitted_trial,
    insert_trial,
    make_client,
    make_staff,
    move,
    offer_trial,
    page_form,
    staff_login,
    submit,
    trial_fields,
)
from tests.queries import outbox, samples_of, stored, trial_of

Client = AsyncTestClient[Litestar]

# Anyone may use these.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/apply"),
    ("POST", "/apply"),
    ("GET", "/apply/received/{public_id:str}"),
    ("GET", "/status/{public_id:str}"),
    ("POST", "/status/{public_id:str}/reply"),
    ("GET", "/status/{public_id:str}/withdraw"),
    ("POST", "/status/{public_id:str}/withdraw"),
    ("GET", "/status/{public_id:str}/data"),
    ("GET", "/status/{public_id:str}/erase"),
    ("POST", "/status/{public_id:str}/erase"),
    # The applicant's trial page and its forms, behind the same private status link.
    ("GET", "/status/{public_id:str}/trial"),
    ("GET", "/status/{public_id:str}/trial/confirm"),
    ("GET", "/status/{public_id:str}/trial/deadline.ics"),
    ("POST", "/status/{public_id:str}/trial/draft"),
    ("POST", "/status/{public_id:str}/trial/send"),
    ("POST", "/status/{public_id:str}/trial/more-time"),
    ("POST", "/status/{public_id:str}/trial/decline"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/invitations/{token:str}"),
    ("POST", "/invitations/{token:str}"),
    ("GET", "/password/forgot"),
    ("POST", "/password/forgot"),
    ("GET", "/password/reset/{token:str}"),
    ("POST", "/password/reset/{token:str}"),
    ("GET", "/unsubscribe/{token:str}"),
    # The local mail catcher: only when BYLINE_MAIL_CATCHER is on (never in production), a 404 otherwise.
    ("GET", "/mail-catcher"),
    ("GET", "/mail-catcher/{message_id:str}"),
    ("GET", "/mail-catcher/{message_id:str}/html"),
    ("POST", "/unsubscribe/{token:str}"),
    ("GET", "/static/{file_path:path}"),
    ("HEAD", "/static/{file_path:path}"),
    # Health checks, and the metrics scrape (its own rule: BYLINE_METRICS_NETWORKS or the metrics token).
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
}


@dataclass(frozen=True)
class Desk:
    """What the requests act on: things that exist, made through the app by a chief editor and admin."""

    application: int  # submitted, with a pasted sample and a PDF
    sample: int  # the PDF
    confirmation: int  # the mail that confirmed the application to its applicant, queued
    decided: int  # another application, accepted
    held: int  # its decision, held in the outbox until released
    checker: int  # the fact-checker of the tasks: the person logged in, when that is their role
    other_checker: int
    task: int  # on `application`, for `checker`
    spare_task: int  # another one, which the cancel route ends
    token: int  # an API token of the person logged in
    colleague: int  # an editor whom the admin's routes change
    invitation: int  # pending
    webhook: int
    delivery: int  # a delivery of the decided application's state changes
    trial_application: int  # in trial, its piece in
    scored_trial: int  # that application's trial
    desk_task: int  # the fact-check task on its piece, waiting at the desk
    trial: int  # on `application`, its piece in, no fee yet
    fee_trial: int  # on `application`, its fee agreed
    screened: int  # an application in screening, to offer a trial
    offered: int  # an application with a trial running
    offered_trial: int
    tried: int  # an application whose trial piece came in as a file, with a task for `checker`
    tried_trial: int


async def build_desk(app: Litestar, db: Database, client: Client, me: int | None, role: str | None) -> Desk:
    """The desk, for `client`, logged in as `me` with `role` (or anonymous: both None)."""
    async with make_client(app) as chief:
        await staff_login(chief, db, "chief@desk.example", name="Chief Editor", roles=("admin", "editor"))
        await add_webhook(chief, "https://hooks.newsroom.example/chief")
        pdf = [("sample-1-file", ("piece.pdf", PDF, "application/pdf"))]
        application = await submit(chief, db, files=pdf, **{"sample-1-title": "As PDF"})
        decided = await submit(chief, db, name="Dara Decided")
        await move(chief, decided, "screening")
        await move(chief, decided, "accepted", message="Welcome.")
        if role == "fact_checker" and me is not None:
            checker = me
        else:
            checker = await make_staff(
                db, email="fc@desk.example", name="Farid Checker", roles=("fact_checker",)
            )
        other = await make_staff(db, email="fc2@desk.example", name="Olga Checker", roles=("fact_checker",))
        task = await create_task(chief, db, application, checker)
        trial_application = await submit(chief, db, name="Tara Trial")
        submitted = await insert_submitted_trial(
            db, trial_application, "The quay cost 40 million manat.", settings=app.state.settings
        )
        assert submitted.task_id is not None
        spare_task = await create_task(chief, db, application, checker, claims="Another claim.")
        page = (await chief.get("/admin/users")).text
        invited = await chief.post(
            "/admin/invitations",
            data={"_csrf_token": csrf_of(page), "email": "invited@desk.example", "roles": ["editor"]},
        )
        assert invited.status_code == 303, invited.text
        await create_token(client if me is not None else chief)
        trial = await insert_trial(db, application)
        fee_trial = await insert_trial(db, application)
        assert (await accept_fee(chief, fee_trial)).status_code == 303
        screened = await submit(chief, db, name="Sam Screened")
        await move(chief, screened, "screening")
        offered = await submit(chief, db, name="Olive Offered")
        await offer_trial(chief, offered)
        tried = await submit(chief, db, name="Tom Tried")
        await create_task(chief, db, tried, checker, claims="A claim in the sample.")
        await offer_trial(chief, tried)
        await send_piece_file(app, db, tried)
    async with db.sessionmaker() as session:
        token = await session.scalar(select(ApiToken.id).order_by(col(ApiToken.id).desc()))
        invitation = await session.scalar(
            select(Invitation.id).where(col(Invitation.email) == "invited@desk.example")
        )
        delivery = await session.scalar(select(WebhookDelivery.id).order_by(col(WebhookDelivery.id)))
        webhook = await session.scalar(select(WebhookDelivery.webhook_id).order_by(col(WebhookDelivery.id)))
    assert token and invitation and delivery and webhook
    [sample] = [s.id for s in await samples_of(db, application) if s.kind == "file"]
    [confirmation] = await outbox(db, application, template="applicant_received")
    [held] = await outbox(db, decided, template="applicant_decision")
    assert sample and confirmation.id and held.id and held.status == "held"
    return Desk(
        application=application,
        sample=sample,
        confirmation=confirmation.id,
        decided=decided,
        held=held.id,
        checker=checker,
        other_checker=other,
        task=task,
        spare_task=spare_task,
        token=token,
        colleague=await make_staff(db, email="colleague@desk.example", name="Colleague"),
        invitation=invitation,
        webhook=webhook,
        delivery=delivery,
        trial_application=trial_application,
        scored_trial=submitted.trial_id,
        desk_task=submitted.task_id,
        trial=trial,
        fee_trial=fee_trial,
        screened=screened,
        offered=offered,
        offered_trial=int((await trial_of(db, offered)).id or 0),
        tried=tried,
        tried_trial=int((await trial_of(db, tried)).id or 0),
    )


async def send_piece_file(app: Litestar, db: Database, app_id: int) -> None:
    """As the applicant: the trial piece as a text file, saved and sent."""
    public_id = (await stored(db, app_id)).public_id
    async with make_client(app) as applicant:
        page = await applicant.get(f"/status/{public_id}/trial")
        saved = await applicant.post(
            f"/status/{public_id}/trial/draft",
            data={"_csrf_token": csrf_of(page.text)},
            files=[("file", ("piece.txt", b"The council approved the budget.", "text/plain"))],
        )
        assert saved.status_code == 303, saved.text
        confirm = await applicant.get(f"/status/{public_id}/trial/confirm")
        sent = await applicant.post(
            f"/status/{public_id}/trial/send", data={"_csrf_token": csrf_of(confirm.text)}
        )
        assert sent.status_code == 303, sent.text


Form = Callable[[Client, Desk], Awaitable[dict[str, Any]]]


def fields(**values: Any) -> Form:
    """A form of fixed fields; a value given as a Desk attribute name in braces ("{task}") takes its id."""

    async def form(client: Client, desk: Desk) -> dict[str, Any]:
        def fill(value: Any) -> Any:
            if isinstance(value, list):
                return [fill(v) for v in value]
            if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value):
                return str(getattr(desk, value[1:-1]))
            return value

        return {name: fill(value) for name, value in values.items()}

    return form


def application_form(**values: Any) -> Form:
    """A form of the application page, with the version the page shows now."""

    async def form(client: Client, desk: Desk) -> dict[str, Any]:
        _, hidden = await page_form(client, desk.application)
        return {"version": hidden["version"], **await fields(**values)(client, desk)}

    return form


def trial_score_form(**values: Any) -> Form:
    """The trial score form of the application in trial, with the version its page shows now."""

    async def form(client: Client, desk: Desk) -> dict[str, Any]:
        _, hidden = await page_form(client, desk.trial_application)
        return {"version": hidden["version"], **values}

    return form


async def offer_form(client: Client, desk: Desk) -> dict[str, Any]:
    """The trial offer (the brief) from the page of the application in screening."""
    _, hidden = await page_form(client, desk.screened)
    return {"version": hidden["version"], **trial_fields()}


async def message_form(client: Client, desk: Desk) -> dict[str, Any]:
    """The held message's new text, with the stamp of the text its page showed."""
    page = (await client.get(f"/outbox/{desk.held}")).text
    seen = re.search(r'name="seen" value="([^"]*)"', page)
    assert seen, page
    return {"message": "Welcome aboard, Dara.", "seen": seen.group(1)}


class _Fields(HTMLParser):
    """The named text inputs and textareas of a page, with the values it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name") and named.get("type") in (None, "text", "hidden"):
            self.fields[str(named["name"])] = named.get("value") or ""
        elif tag == "textarea" and named.get("name"):
            self._textarea = str(named["name"])
            self.fields[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


async def content_form(client: Client, desk: Desk) -> dict[str, Any]:
    """The content page's form, sent back as the page shows it."""
    parser = _Fields()
    parser.feed((await client.get("/admin/content")).text)
    return parser.fields


@dataclass(frozen=True)
class Rule:
    """Who may use a route, and what their request sends and gets."""

    roles: frozenset[str]
    answer: int | dict[str, int]  # the status for every role in `roles`, or each role's
    form: Form = field(default=fields())  # what a POST sends besides the CSRF token
    ids: dict[str, str] = field(default_factory=dict)  # path parameters naming another part of the desk

    def status_for(self, role: str) -> int:
        return self.answer if isinstance(self.answer, int) else self.answer[role]


EDITOR = frozenset({"editor"})
ADMIN = frozenset({"admin"})
EDITOR_OR_ADMIN = frozenset({"editor", "admin"})
EDITOR_OR_CHECKER = frozenset({"editor", "fact_checker"})
FINANCE_OR_ADMIN = frozenset({"finance", "admin"})
NEW_PASSWORD = "a brand new and rather long pass phrase"
MARKS = dict.fromkeys(("analysis", "fact_accuracy", "concision", "interest_style", "topic_knowledge"), "4")

# Staff routes, who may use them, and what a request of theirs gets. They are requested in this order (sorted,
# the logout last), so a later request meets what an earlier one changed.
ACCESS: dict[tuple[str, str], Rule] = {
    ("POST", "/logout"): Rule(STAFF, 303),
    ("GET", "/account"): Rule(STAFF, 200),
    ("GET", "/account/password"): Rule(STAFF, 200),
    ("POST", "/account/password"): Rule(
        STAFF, 303, fields(current=STAFF_PASSWORD, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    ),
    ("POST", "/account/notifications"): Rule(STAFF, 303, fields(notify="digest")),
    ("POST", "/account/language"): Rule(STAFF, 303, fields(locale="en", time_zone="UTC")),
    ("GET", "/account/tokens"): Rule(STAFF, 200),
    ("POST", "/account/tokens"): Rule(STAFF, 200, fields(name="nightly export")),
    ("POST", "/account/tokens/{token_id:int}/revoke"): Rule(STAFF, 303),
    ("GET", "/admin/users"): Rule(ADMIN, 200),
    ("POST", "/admin/invitations"): Rule(
        ADMIN, 303, fields(email="newcomer@desk.example", name="New Comer", roles=["editor"])
    ),
    ("POST", "/admin/invitations/{invitation_id:int}/resend"): Rule(ADMIN, 303),
    ("POST", "/admin/invitations/{invitation_id:int}/revoke"): Rule(ADMIN, 303),
    ("GET", "/admin/users/{user_id:int}"): Rule(ADMIN, 200),
    ("POST", "/admin/users/{user_id:int}"): Rule(ADMIN, 303, fields(roles=["editor", "fact_checker"])),
    ("POST", "/admin/users/{user_id:int}/deactivate"): Rule(ADMIN, 303),
    ("POST", "/admin/users/{user_id:int}/reactivate"): Rule(ADMIN, 303),
    ("GET", "/admin/content"): Rule(ADMIN, 200),
    ("POST", "/admin/content"): Rule(ADMIN, 303, content_form),
    ("GET", "/admin/webhooks"): Rule(ADMIN, 200),
    ("GET", "/admin/erasures"): Rule(ADMIN, 200),
    ("POST", "/admin/webhooks"): Rule(ADMIN, 200, fields(url="https://hooks.newsroom.example/byline")),
    ("POST", "/admin/webhooks/{webhook_id:int}/active"): Rule(ADMIN, 303, fields(active="off")),
    ("POST", "/admin/webhooks/{webhook_id:int}/chosen-events"): Rule(
        ADMIN, 303, fields(events=["trial.submitted"])
    ),
    ("POST", "/admin/webhooks/{webhook_id:int}/delete"): Rule(ADMIN, 303),
    ("POST", "/admin/webhooks/deliveries/{delivery_id:int}/retry"): Rule(ADMIN, 303),
    ("GET", "/dashboard"): Rule(EDITOR, 200),
    ("GET", "/applications/{application_id:int}"): Rule(EDITOR, 200),
    ("POST", "/applications/{application_id:int}/move"): Rule(
        EDITOR, 303, application_form(to="info_requested", message="Which of your pieces were edited?")
    ),
    ("POST", "/applications/{application_id:int}/assign"): Rule(EDITOR, 303, application_form(assignee="me")),
    ("POST", "/applications/{application_id:int}/notes"): Rule(
        EDITOR, 303, application_form(note="Sound sources.")
    ),
    ("POST", "/applications/{application_id:int}/labels"): Rule(
        EDITOR, 303, application_form(labels="shortlist")
    ),
    ("POST", "/applications/{application_id:int}/score"): Rule(
        EDITOR, 303, application_form(**MARKS, recommendation="accept")
    ),
    ("POST", "/dashboard/bulk"): Rule(
        EDITOR, 200, fields(action="label", ids=["{application}"], label="bulk")
    ),
    ("POST", "/dashboard/bulk/apply"): Rule(
        EDITOR, 200, fields(action="label", ids=["{application}"], label="bulk")
    ),
    ("GET", "/dashboard/export"): Rule(EDITOR, 200),
    ("GET", "/reports"): Rule(EDITOR_OR_ADMIN, 200),
    ("GET", "/reports/export/{report:str}"): Rule(EDITOR_OR_ADMIN, 200),
    ("GET", "/outbox"): Rule(EDITOR_OR_ADMIN, 200),
    ("GET", "/outbox/{message_id:int}"): Rule(EDITOR_OR_ADMIN, 200),
    ("POST", "/outbox/{message_id:int}/edit"): Rule(EDITOR_OR_ADMIN, 303, message_form),
    ("POST", "/outbox/actions"): Rule(EDITOR_OR_ADMIN, 303, fields(action="cancel", ids=["{confirmation}"])),
    # A fact-checker downloads the samples of applications they have a task on.
    ("GET", "/applications/{application_id:int}/samples/{sample_id:int}/file"): Rule(EDITOR_OR_CHECKER, 200),
    ("GET", "/applications/{application_id:int}/tasks/new"): Rule(EDITOR, 200),
    ("POST", "/applications/{application_id:int}/tasks"): Rule(
        EDITOR, 303, application_form(task_claims="The call took place on Monday.", task_assignee="{checker}")
    ),
    ("GET", "/tasks"): Rule(EDITOR_OR_CHECKER, 200),
    ("GET", "/tasks/{task_id:int}"): Rule(EDITOR_OR_CHECKER, 200),
    # Editors open every task, but only the task's own fact-checker records verdicts.
    ("POST", "/tasks/{task_id:int}"): Rule(
        EDITOR_OR_CHECKER, {"fact_checker": 303, "editor": 403}, fields(action="save")
    ),
    # Editors accept a trial piece for payment; finance people and admins move its fee on.
    ("POST", "/trials/{trial_id:int}/fee"): Rule(EDITOR_OR_ADMIN, 303),
    ("POST", "/trials/{trial_id:int}/fee/status"): Rule(
        FINANCE_OR_ADMIN, 303, fields(seen="agreed", to="invoiced"), ids={"trial_id": "fee_trial"}
    ),
    ("GET", "/fees"): Rule(FINANCE_OR_ADMIN, 200),
    ("GET", "/fees/export"): Rule(FINANCE_OR_ADMIN, 200),
    ("POST", "/tasks/{task_id:int}/reassign"): Rule(EDITOR, 303, fields(assignee="{other_checker}")),
    ("POST", "/tasks/{task_id:int}/cancel"): Rule(
        EDITOR, 303, fields(reason="Not needed after all."), ids={"task_id": "spare_task"}
    ),
    # Claims picked from a trial piece's sentences: the task's fact-checker or an editor.
    ("POST", "/tasks/{task_id:int}/claims"): Rule(
        EDITOR_OR_CHECKER, 303, fields(task_claims="The quay opened in May.")
    ),
    # Any fact-checker takes a task waiting at the desk; editors hand tasks out with "reassign" instead.
    ("POST", "/tasks/{task_id:int}/take"): Rule(
        EDITOR_OR_CHECKER, {"fact_checker": 303, "editor": 403}, ids={"task_id": "desk_task"}
    ),
    ("POST", "/applications/{application_id:int}/trials/{trial_id:int}/score"): Rule(
        EDITOR,
        303,
        trial_score_form(
            **dict.fromkeys(("fact_accuracy", "analysis", "concision", "interest", "brief_fit"), "4")
        ),
        ids={"application_id": "trial_application", "trial_id": "scored_trial"},
    ),
    ("GET", "/applications/{application_id:int}/trial/new"): Rule(
        EDITOR, 200, ids={"application_id": "screened"}
    ),
    ("POST", "/applications/{application_id:int}/trial"): Rule(
        EDITOR, 303, offer_form, ids={"application_id": "screened"}
    ),
    ("POST", "/applications/{application_id:int}/trial/{trial_id:int}/extend"): Rule(
        EDITOR,
        303,
        fields(deadline="2031-01-01T10:00"),
        ids={"application_id": "offered", "trial_id": "offered_trial"},
    ),
    ("POST", "/applications/{application_id:int}/trial/{trial_id:int}/revoke"): Rule(
        EDITOR, 303, ids={"application_id": "offered", "trial_id": "offered_trial"}
    ),
    # A fact-checker downloads the piece of a trial whose application they have a task on.
    ("GET", "/applications/{application_id:int}/trial/{trial_id:int}/piece"): Rule(
        EDITOR_OR_CHECKER, 200, ids={"application_id": "tried", "trial_id": "tried_trial"}
    ),
}

# The part of the desk each path parameter names, unless a rule says otherwise.
PARAMETERS = {
    "application_id": "application",
    "sample_id": "sample",
    "message_id": "held",
    "task_id": "task",
    "token_id": "token",
    "user_id": "colleague",
    "invitation_id": "invitation",
    "webhook_id": "webhook",
    "delivery_id": "delivery",
    "trial_id": "trial",
}


def concrete(method: str, path: str, desk: Desk) -> str:
    """The route's path with the ids of the desk (and the funnel report for /reports/export/{report})."""
    names = {**PARAMETERS, **ACCESS[(method, path)].ids}

    def fill(match: re.Match[str]) -> str:
        return "funnel" if match.group(1) == "report" else str(getattr(desk, names[match.group(1)]))

    return re.sub(r"\{(\w+):\w+\}", fill, path)


def in_order() -> list[tuple[str, str]]:
    """The staff routes sorted, the logout last (it ends the session the others run in)."""
    return sorted(ACCESS, key=lambda route: (route == ("POST", "/logout"), route))


async def request(client: Client, method: str, path: str, data: dict[str, Any]) -> Any:
    if method == "GET":
        return await client.get(path)
    return await client.post(path, data=data)


async def test_every_route_is_either_public_or_has_an_access_rule(app):
    """The JSON API's routes have their own table (tests/api/support.py), checked with tokens in tests/api."""
    routes = route_table(app)
    api = set(API_ACCESS) | API_PUBLIC
    unknown = routes - PUBLIC - set(ACCESS) - api
    assert not unknown, f"routes with no access rule: {sorted(unknown)}"
    assert not (set(ACCESS) | PUBLIC | api) - routes, "rules for routes that no longer exist"


async def test_anonymous_requests_to_staff_routes_are_refused(app, db):
    async with make_client(app) as client:
        desk = await build_desk(app, db, client, None, None)
        token = csrf_of((await client.get("/login")).text)
        for method, path in in_order():
            response = await request(client, method, concrete(method, path, desk), {"_csrf_token": token})
            if method == "GET":
                assert response.status_code == 303, path
                assert response.headers["location"].startswith("/login?next="), path
            else:
                assert response.status_code == 401, (method, path)


@pytest.mark.parametrize("role", sorted(STAFF))
async def test_each_role_gets_its_answer_on_its_routes_and_403_on_the_others(app, db, role):
    async with make_client(app) as client:
        me = await staff_login(client, db, f"{role}@desk.example", roles=(role,))
        desk = await build_desk(app, db, client, me, role)
        token = csrf_of((await client.get("/apply")).text)
        for method, path in in_order():
            rule = ACCESS[(method, path)]
            url = concrete(method, path, desk)
            if role in rule.roles:
                data = {"_csrf_token": token, **await rule.form(client, desk)}
                response = await request(client, method, url, data)
                expected = rule.status_for(role)
            else:
                response = await request(client, method, url, {"_csrf_token": token})
                expected = 403
            assert response.status_code == expected, (
                role,
                method,
                path,
                response.status_code,
                response.text[:500],
            )
