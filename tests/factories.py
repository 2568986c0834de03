"""Builders the tests share: applications, staff, API tokens, fact-check tasks and webhooks, made the way people
make them (through the app's forms and routes) or, where a test needs the state directly, through its services.

Trials are written straight into the database (`insert_trial`), for tests of what follows an offer.

tests/conftest.py offers the common cases as fixtures (`app_id`, `editor`, `admin`, `editor_token`,
`fact_check_desk`, `demo_desk`); tests call these builders for anything else. tests/queries.py reads back what
they stored.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlmodel import col

from app.accounts.passwords import hash_password
from app.applications.reading import read_due
from app.core.db import Database
from app.demo import DemoLogin, load_demo
from app.models import (
    Application,
    Department,
    SampleKind,
    State,
    Trial,
    TrialPiece,
    TrialState,
    User,
    UserDepartment,
)
from app.settings import Settings
from app.trials.checks import run_checks
from app.trials.fact_check import create_piece_task
from tests.environment import BASE_URL, SAMPLES
from tests.queries import application_id, samples_of, stored, tasks_of

Client = AsyncTestClient[Litestar]

# --- forms ------------------------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')
FORM_TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')


def make_client(app: Litestar) -> Client:
    """A test client on the configured host that shows redirects instead of following them."""
    test_client = AsyncTestClient(app=app, base_url=BASE_URL)
    test_client.follow_redirects = False
    return test_client


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def hidden_fields(html: str) -> dict[str, str]:
    """The CSRF and form tokens of a rendered form."""
    fields = {}
    if match := CSRF_RE.search(html):
        fields["_csrf_token"] = match.group(1)
    if match := FORM_TOKEN_RE.search(html):
        fields["form_token"] = match.group(1)
    return fields


# --- applications -----------------------------------------------------------------------------------------

# A short article for the work-sample files a test builds (app.demo's make_pdf and make_docx).
ARTICLE = (
    "The council approved the new harbour budget on Tuesday evening after a long debate. "
    "Opposition members said the port authority had not published its accounts."
)
# The smallest file the upload checks take for a PDF.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def valid_fields(**overrides: Any) -> dict[str, Any]:
    """Every text field of a valid application; `None` removes a field."""
    data: dict[str, Any] = {
        "name": "Leyla Mammadova",
        "email": f"leyla.{uuid.uuid4().hex[:8]}@applicant.example",
        "phone": "+994 12 555 0101",
        "city": "Baku",
        "country": "Azerbaijan",
        "profile_links": ["https://portfolio.example/leyla"],
        "departments": ["news", "analysis"],
        "topics": ["politics", "international"],
        "motivation": "I analyse regional politics quickly and check every claim against primary sources.",
        "experience": "Four years at a regional daily, two as its fact-checker.",
        "availability": "Two pieces a week",
        "consent": "yes",
        "sample-0-title": "On the Putin–Erdogan call",
        "sample-0-text": (SAMPLES / "work-sample-news.txt").read_text(encoding="utf-8"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


async def open_form(client: Client) -> dict[str, str]:
    response = await client.get("/apply")
    assert response.status_code == 200
    return hidden_fields(response.text)


async def post_application(
    client: Client,
    data: dict[str, Any] | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    *,
    tokens: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """GET the form, then POST it as multipart with its tokens."""
    tokens = tokens if tokens is not None else await open_form(client)
    body = {**tokens, **(data if data is not None else valid_fields())}
    return await client.post(
        "/apply",
        data=body,
        files=files or [("unused", ("", b"", "application/octet-stream"))],
        headers=headers,
    )


async def send_application(
    client: Client,
    data: dict[str, Any] | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
) -> str:
    """Apply through the public form with `data` (valid_fields() when None) and `files`; returns the
    application's public id (its status page is /status/<public id>)."""
    response = await post_application(client, data, files)
    assert response.status_code == 303, response.text
    return str(response.headers["location"].rsplit("/", 1)[-1])


async def submit(
    client: Client,
    db: Database,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    **overrides: Any,
) -> int:
    """Apply through the public form (`valid_fields(**overrides)` and `files`); returns the new application's id."""
    public_id = await send_application(client, valid_fields(**overrides), files)
    return await application_id(db, public_id)


async def read_samples(app: Litestar) -> int:
    """What a worker does after the form's answer (app/applications/reading.py): count the words of the PDFs
    sent with it, keep their text, and index every sample's text for the similarity checks. Returns how many
    samples it read."""
    return await read_due(app.state.db, app.state.settings, app.state.clock())


async def page_form(client: Client, app_id: int) -> tuple[str, dict[str, str]]:
    """The application page's HTML and the hidden fields its forms carry."""
    page = await client.get(f"/applications/{app_id}")
    assert page.status_code == 200, page.text
    version = VERSION_RE.search(page.text)
    assert version
    return page.text, {"_csrf_token": csrf_of(page.text), "version": version.group(1)}


async def move(client: Client, app_id: int, to: str, **fields: str) -> None:
    """Move the application to `to` from its page, as the logged-in editor."""
    _, hidden = await page_form(client, app_id)
    response = await client.post(f"/applications/{app_id}/move", data={**hidden, "to": to, **fields})
    assert response.status_code == 303, response.text


async def assign_to_me(client: Client, app_id: int) -> None:
    _, hidden = await page_form(client, app_id)
    response = await client.post(f"/applications/{app_id}/assign", data={**hidden, "assignee": "me"})
    assert response.status_code == 303, response.text


async def ask_applicant(
    app: Litestar, db: Database, question: str = "Which of your pieces were edited by others?"
) -> tuple[int, str]:
    """A submitted application, assigned to an editor who asks the applicant a question; returns id and status URL."""
    async with make_client(app) as editor:
        app_id = await submit(editor, db)
        await staff_login(editor, db, "eda@desk.example", name="Eda Editor")
        await assign_to_me(editor, app_id)
        await move(editor, app_id, "info_requested", message=question)
    return app_id, f"/status/{(await stored(db, app_id)).public_id}"


# --- staff ------------------------------------------------------------------------------------------------

STAFF_PASSWORD = "correct horse battery staple"


async def make_staff(
    db: Database,
    *,
    email: str,
    name: str = "Staff Member",
    roles: tuple[str, ...] = ("editor",),
    password: str = STAFF_PASSWORD,
    departments: tuple[str, ...] = (),
    active: bool = True,
) -> int:
    """A staff account with `roles` (admin, editor, fact_checker, finance); returns its id."""
    async with db.write_session() as session:
        user = User(
            email=email,
            name=name,
            password_hash=hash_password(password),
            is_admin="admin" in roles,
            is_editor="editor" in roles,
            is_fact_checker="fact_checker" in roles,
            is_finance="finance" in roles,
            is_active=active,
        )
        session.add(user)
        await session.flush()
        assert user.id is not None
        for slug in departments:
            department = (await session.scalars(select(Department).where(col(Department.slug) == slug))).one()
            session.add(UserDepartment(user_id=user.id, department_id=department.id))
        return user.id


async def update_staff(db: Database, user_id: int, **values: Any) -> None:
    """Change a staff account's stored columns directly (locale, time_zone, notify, must_change_password, ...)."""
    async with db.write_session() as session:
        await session.execute(update(User).where(col(User.id) == user_id).values(**values))


async def login(client: Client, email: str, password: str = STAFF_PASSWORD) -> Any:
    """Log in through the form; returns the POST's response."""
    page = await client.get("/login")
    return await client.post(
        "/login", data={"_csrf_token": csrf_of(page.text), "email": email, "password": password}
    )


async def staff_login(client: Client, db: Database, email: str, **kwargs: Any) -> int:
    """A new staff account (`make_staff`'s options), logged in on `client`; returns its id."""
    user_id = await make_staff(db, email=email, **kwargs)
    response = await login(client, email)
    assert response.status_code == 303
    return user_id


async def choose_language(client: Client, locale: str) -> None:
    """The logged-in staff member's language choice on /account."""
    account = await client.get("/account")
    saved = await client.post(
        "/account/language", data={"_csrf_token": csrf_of(account.text), "locale": locale, "time_zone": "UTC"}
    )
    assert saved.status_code == 303


# --- API tokens -------------------------------------------------------------------------------------------

TOKEN_RE = re.compile(r'id="token-value">([^<]+)<')


async def create_token(client: Client, name: str = "newsroom script") -> tuple[Any, str]:
    """Make a token on /account/tokens as the logged-in person; returns the page's response and the token."""
    page = await client.get("/account/tokens")
    assert page.status_code == 200, page.text
    response = await client.post("/account/tokens", data={"_csrf_token": csrf_of(page.text), "name": name})
    match = TOKEN_RE.search(response.text)
    assert response.status_code == 200 and match, response.text
    return response, match.group(1)


async def staff_token(
    app: Litestar, db: Database, email: str, *, roles: tuple[str, ...] = ("editor",), **kwargs: Any
) -> tuple[int, str]:
    """A staff member who made a token through the page (in a client of their own); their id and the token."""
    async with make_client(app) as client:
        user_id = await staff_login(client, db, email, roles=roles, **kwargs)
        _, token = await create_token(client)
    return user_id, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- fact-check tasks -------------------------------------------------------------------------------------

# A sentence of the pasted sample valid_fields() sends (app/content/work-sample-news.txt).
NEWS_SENTENCE = (
    "On November 7, 2020, a telephone conversation took place between Turkish President Recep Tayyip Erdogan "
    "and Russian leader Vladimir Putin, writes the Turkish Anadolu agency."
)


async def new_task(
    client: Client, app_id: int, sample_id: int | None = None, **fields: Any
) -> tuple[str, Any]:
    """Open the new-task page, then post it with `fields`; returns (page, response)."""
    url = f"/applications/{app_id}/tasks/new" + (f"?sample={sample_id}" if sample_id else "")
    page = await client.get(url)
    assert page.status_code == 200, page.text
    version = VERSION_RE.search(page.text)
    assert version
    data = {
        "_csrf_token": csrf_of(page.text),
        "version": version.group(1),
        "task_sample": str(sample_id or ""),
        **fields,
    }
    return page.text, await client.post(f"/applications/{app_id}/tasks", data=data)


async def create_task(
    client: Client, db: Database, app_id: int, checker: int, claims: str = "The call was on 7 November 2020."
) -> int:
    """A task on the application's pasted sample for `checker`, made by the logged-in editor; its id."""
    sample = (await samples_of(db, app_id))[0]
    _, created = await new_task(
        client, app_id, sample.id, sentence=[NEWS_SENTENCE], task_claims=claims, task_assignee=str(checker)
    )
    assert created.status_code == 303, created.text
    task_id = (await tasks_of(db, app_id))[-1].id
    assert task_id is not None
    return task_id


class FactCheckDesk(NamedTuple):
    app_id: int
    editor: int
    checker: int
    other: int


async def fact_check_desk(client: Client, db: Database) -> FactCheckDesk:
    """An application, Eda the editor logged in on `client`, and two fact-checkers (Farid and Olga)."""
    app_id = await submit(client, db)
    editor = await staff_login(client, db, "eda@desk.example", name="Eda Editor")
    checker = await make_staff(db, email="fc@desk.example", name="Farid Checker", roles=("fact_checker",))
    other = await make_staff(db, email="fc2@desk.example", name="Olga Checker", roles=("fact_checker",))
    return FactCheckDesk(app_id, editor, checker, other)


# --- trials -----------------------------------------------------------------------------------------------


class SubmittedTrial(NamedTuple):
    trial_id: int
    piece_id: int
    task_id: int | None


async def insert_submitted_trial(
    db: Database,
    app_id: int,
    text: str,
    *,
    fact_checker_id: int | None = None,
    settings: Settings,
    now: datetime | None = None,
    **fields: Any,
) -> SubmittedTrial:
    """A trial whose final piece (pasted `text`) has arrived, INSERTED DIRECTLY through the session rather than
    offered and sent through the pages: the application is put in state trial, the trial and its piece are
    stored as the final send leaves them, and the piece's fact-check task is made by the real hook
    (`app.trials.fact_check.create_piece_task`, for `fact_checker_id` or the desk). `fields` set the trial's
    columns (offered_by_id, deadline_at, late, created_at, ...)."""
    now = now or datetime.now(UTC)
    async with db.write_session() as session:
        application = await session.get(Application, app_id)
        assert application is not None
        application.state = State.trial
        application.state_changed_at = now
        values: dict[str, Any] = {
            "state": TrialState.submitted,
            "topic": "The harbour budget: who pays for the new port",
            "min_words": 10,
            "max_words": 2000,
            "deadline_at": now + timedelta(days=7),
            "created_at": now - timedelta(days=2),
            "submitted_at": now,
            **fields,
        }
        trial = Trial(application_id=app_id, fact_checker_id=fact_checker_id, **values)
        session.add(trial)
        await session.flush()
        assert trial.id is not None
        piece = TrialPiece(
            trial_id=trial.id,
            application_id=app_id,
            kind=SampleKind.text,
            text=text,
            word_count=len(text.split()),
            is_final=True,
            created_at=now,
            submitted_at=values["submitted_at"],
        )
        session.add(piece)
        await session.flush()
        assert piece.id is not None
        task = await create_piece_task(session, settings, trial=trial, piece=piece, now=now)
        return SubmittedTrial(trial.id, piece.id, task.id if task else None)


# --- webhooks ---------------------------------------------------------------------------------------------

SECRET_RE = re.compile(r'id="webhook-secret">([^<]+)<')


async def add_webhook(client: Client, url: str) -> str:
    """Add a webhook on /admin/webhooks as the logged-in admin; returns its secret, shown that once."""
    page = await client.get("/admin/webhooks")
    assert page.status_code == 200
    response = await client.post("/admin/webhooks", data={"_csrf_token": csrf_of(page.text), "url": url})
    assert response.status_code == 200, response.text
    match = SECRET_RE.search(response.text)
    assert match, "the secret is shown once, on creation"
    assert match.group(1) not in (await client.get("/admin/webhooks")).text, "and never again"
    return match.group(1)


# --- the demo data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoDesk:
    logins: dict[str, DemoLogin]  # by role: "admin", "editor", "fact-checker", "finance"
    application: Application  # the first application still submitted


async def demo_desk(db: Database, settings: Settings) -> DemoDesk:
    """The demo data `byline demo` loads (app/demo.py)."""
    async with db.write_session() as session:
        result = await load_demo(session, settings=settings)
    async with db.sessionmaker() as session:
        application = await session.scalar(
            select(Application).where(col(Application.state) == State.submitted).order_by(col(Application.id))
        )
    assert application is not None
    return DemoDesk({login.role: login for login in result.logins}, application)


# --- trials -------------------------------------------------------------------------------------------------


async def insert_trial_piece(
    db: Database,
    app_id: int,
    text: str,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
    check: bool = True,
    **trial_fields: Any,
) -> int:
    """A trial with the applicant's final piece `text`, inserted directly through the session (not through the
    offer and submission pages), then checked by `run_checks` as the final send does; returns the piece's id.

    `trial_fields` override the trial's columns (min_words, max_words, deadline_at, deadline_firm, ...).
    """
    now = now or datetime.now(UTC)
    async with db.write_session() as session:
        trial = Trial(
            application_id=app_id,
            topic="The regional budget in three numbers",
            deadline_at=now + timedelta(days=3),
            created_at=now,
            updated_at=now,
        )
        for name, value in trial_fields.items():
            setattr(trial, name, value)
        session.add(trial)
        await session.flush()
        assert trial.id is not None
        piece = TrialPiece(
            trial_id=trial.id,
            application_id=app_id,
            kind=SampleKind.text,
            text=text,
            word_count=len(text.split()),
            is_final=True,
            created_at=now,
            updated_at=now,
            submitted_at=now,
        )
        session.add(piece)
        await session.flush()
        assert piece.id is not None
        if check:
            await run_checks(
                session, settings or Settings.model_construct(), trial=trial, piece=piece, now=now
            )
        return piece.id


async def insert_trial(
    db: Database, app_id: int, *, state: str = "submitted", words: int | None = 850, **fields: Any
) -> int:
    """A trial on the application, written straight through a session (not through the offer form): a brief
    with a flat fee of 15,000.00 RUB by default (`fields` set any Trial column), and, unless it is still
    offered, the applicant's final piece of `words` words. Returns the trial's id."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "application_id": app_id,
        "state": state,
        "locale": "en",
        "topic": "The new harbour budget: who pays for the dredging",
        "sources": "The council's minutes and the port authority's accounts.",
        "min_words": 600,
        "max_words": 1200,
        "deadline_at": now + timedelta(days=7),
        "fee_kind": "flat",
        "fee_amount_minor": 1_500_000,
        "currency": "RUB",
        "submitted_at": now if state == "submitted" else None,
        **fields,
    }
    async with db.write_session() as session:
        trial = Trial(**values)
        session.add(trial)
        await session.flush()
        assert trial.id is not None
        if state != "offered":
            session.add(
                TrialPiece(
                    trial_id=trial.id,
                    application_id=app_id,
                    kind="text",
                    text=ARTICLE,
                    word_count=words,
                    is_final=True,
                    submitted_at=now,
                )
            )
        return trial.id


async def accept_fee(client: Client, trial_id: int, note: str = "") -> Any:
    """Press "Accept for payment" on the trial panel as the logged-in person; returns the response."""
    token = csrf_of((await client.get("/account")).text)
    return await client.post(f"/trials/{trial_id}/fee", data={"_csrf_token": token, "note": note})


async def step_fee(client: Client, trial_id: int, seen: str, to: str, **fields: str) -> Any:
    """Move the trial's fee from `seen` to `to` as the logged-in person; returns the response."""
    token = csrf_of((await client.get("/account")).text)
    data = {"_csrf_token": token, "seen": seen, "to": to, **fields}
    return await client.post(f"/trials/{trial_id}/fee/status", data=data)


TRIAL_TOPIC = (
    "Why the harbour budget passed: who gained, who lost, and what the port authority did not publish."
)


def trial_fields(**overrides: Any) -> dict[str, str]:
    """Every field of a valid trial offer (the brief); `None` removes a field. The deadline is a week ahead,
    as a local "YYYY-MM-DDTHH:MM" in the editor's time zone."""
    deadline = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    data: dict[str, Any] = {
        "topic": TRIAL_TOPIC,
        "sources": "The council's minutes and the port authority's annual reports.",
        "style_notes": "Short paragraphs; no adjectives in the first paragraph.",
        "min_words": "5",
        "max_words": "900",
        "deadline": deadline,
        "deadline_firm": "1",
        "fee_kind": "flat",
        "fee_amount": "5000",
        "fee_cap": "",
        "currency": "RUB",
        "fact_checker_id": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


async def post_offer(client: Client, app_id: int, **fields: Any) -> Any:
    """Post the trial offer (the brief) from the application page as the logged-in editor; the response."""
    _, hidden = await page_form(client, app_id)
    return await client.post(f"/applications/{app_id}/trial", data={**hidden, **trial_fields(**fields)})


async def offer_trial(client: Client, app_id: int, **fields: Any) -> None:
    """Offer a trial with `trial_fields(**fields)` as the logged-in editor; a submitted application is taken
    into screening first (the offer is a move from screening or fact check)."""
    page, _ = await page_form(client, app_id)
    if 'name="to" value="screening"' in page:
        await move(client, app_id, "screening")
    response = await post_offer(client, app_id, **fields)
    assert response.status_code == 303, response.text


async def submit_piece(client: Client, public_id: str, text: str) -> None:
    """As the applicant: paste `text` as the trial piece, save it, then make the final send."""
    page = await client.get(f"/status/{public_id}/trial")
    assert page.status_code == 200, page.text
    saved = await client.post(
        f"/status/{public_id}/trial/draft", data={"_csrf_token": csrf_of(page.text), "text": text}
    )
    assert saved.status_code == 303, saved.text
    confirm = await client.get(f"/status/{public_id}/trial/confirm")
    assert confirm.status_code == 200, confirm.text
    sent = await client.post(f"/status/{public_id}/trial/send", data={"_csrf_token": csrf_of(confirm.text)})
    assert sent.status_code == 303, sent.text
