"""Staff accounts: invitations, roles, deactivation, password reset and change, session limits
(docs/security.md A1, A4, A5, A6, B3, B4), through the real routes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event, select

from app.mail.render import render
from app.main import create_app
from app.models import Invitation, PasswordReset, StaffSession, User
from app.settings import Settings
from tests.environment import BASE_URL, settings_for
from tests.factories import STAFF_PASSWORD, csrf_of, login, make_client, make_staff, update_staff
from tests.queries import outbox

LONG_PASSWORD = "Ünïcode ☂ and a very long pass phrase that keeps going past sixty-four characters ok"


async def user_by_email(db, email: str) -> User | None:
    async with db.sessionmaker() as session:
        return (await session.scalars(select(User).where(User.email == email))).first()


async def admin_client(app, db):
    client = make_client(app)
    await client.__aenter__()
    await make_staff(db, email="admin@desk.example", name="Ada Admin", roles=("admin",))
    assert (await login(client, "admin@desk.example")).status_code == 303
    return client


async def invite(client, **fields):
    page = await client.get("/admin/users")
    assert page.status_code == 200
    data = {"_csrf_token": csrf_of(page.text), "roles": ["editor"], **fields}
    return await client.post("/admin/invitations", data=data)


def link_path(url: str, settings) -> str:
    assert url.startswith(settings.base_url)  # built from the configured base URL, never the request (F4)
    return url.removeprefix(settings.base_url)


async def test_an_admin_invites_an_editor_who_joins_through_the_emailed_link(app, db, settings):
    admin = await admin_client(app, db)
    answer = await invite(
        admin,
        email="Nina@Desk.example",
        name="Nina Editor",
        roles=["editor", "fact_checker"],
        departments=["1"],
    )
    assert answer.status_code == 303
    [mail] = await outbox(db, template="staff_invitation")
    assert mail.recipient == "nina@desk.example"
    text = render(mail, settings).get_body(("plain",)).get_content()
    assert "editor, fact-checker" in text and "Ada Admin" in text
    path = link_path(mail.context["accept_url"], settings)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, URL-safe
    async with db.sessionmaker() as session:
        stored = (await session.scalars(select(Invitation))).one()
    assert token not in stored.token_hash  # only a hash is kept
    listing = (await admin.get("/admin/users")).text
    assert "nina@desk.example" in listing and "Pending invitations" in listing

    async with make_client(app) as nina:
        page = await nina.get(path)
        assert page.status_code == 200 and 'value="Nina Editor"' in page.text
        short = await nina.post(
            path,
            data={"_csrf_token": csrf_of(page.text), "name": "Nina", "password": "short", "confirm": "short"},
        )
        assert (
            short.status_code == 422 and 'id="password-error"' in short.text and 'value="Nina"' in short.text
        )
        common = await nina.post(
            path,
            data={
                "_csrf_token": csrf_of(page.text),
                "name": "Nina",
                "password": "password1234",
                "confirm": "password1234",
            },
        )
        assert common.status_code == 422 and "most common" in common.text
        joined = await nina.post(
            path,
            data={
                "_csrf_token": csrf_of(page.text),
                "name": "Nina Editor",
                "password": LONG_PASSWORD,
                "confirm": LONG_PASSWORD,
            },
        )
        assert joined.status_code == 303 and joined.headers["location"] == "/dashboard"
        assert (await nina.get("/dashboard")).status_code == 200  # logged in at once
        again = await nina.get(path)
        assert again.status_code == 410  # single use
    user = await user_by_email(db, "nina@desk.example")
    assert user is not None and user.is_editor and user.is_fact_checker and not user.is_admin
    async with make_client(app) as fresh:
        assert (
            await login(fresh, "nina@desk.example", LONG_PASSWORD)
        ).status_code == 303  # A4: kept unchanged
    await admin.__aexit__(None, None, None)


async def test_invitations_refuse_taken_addresses_and_can_be_resent_or_withdrawn(app, db, settings):
    admin = await admin_client(app, db)
    await make_staff(db, email="taken@desk.example")
    taken = await invite(admin, email="taken@desk.example")
    assert taken.status_code == 422 and 'id="email-error"' in taken.text
    no_role = await invite(admin, email="new@desk.example", roles=[])
    assert (
        no_role.status_code == 422
        and 'id="roles-error"' in no_role.text
        and 'value="new@desk.example"' in no_role.text
    )
    assert (await invite(admin, email="new@desk.example")).status_code == 303
    twice = await invite(admin, email="new@desk.example")
    assert twice.status_code == 422 and "pending invitation" in twice.text

    async with db.sessionmaker() as session:
        invitation = (await session.scalars(select(Invitation))).one()
    token = csrf_of((await admin.get("/admin/users")).text)
    assert (
        await admin.post(f"/admin/invitations/{invitation.id}/resend", data={"_csrf_token": token})
    ).status_code == 303
    first, second = await outbox(db, template="staff_invitation")
    async with make_client(app) as anyone:
        assert (
            await anyone.get(link_path(first.context["accept_url"], settings))
        ).status_code == 404  # replaced
        assert (await anyone.get(link_path(second.context["accept_url"], settings))).status_code == 200
        assert (
            await admin.post(f"/admin/invitations/{invitation.id}/revoke", data={"_csrf_token": token})
        ).status_code == 303
        assert (await anyone.get(link_path(second.context["accept_url"], settings))).status_code == 410
        app.state.clock.advance(timedelta(days=1))
        assert (await anyone.get("/invitations/" + "x" * 43)).status_code == 404
    await admin.__aexit__(None, None, None)


async def test_an_invitation_expires(app, db, settings):
    admin = await admin_client(app, db)
    await invite(admin, email="late@desk.example")
    [mail] = await outbox(db, template="staff_invitation")
    app.state.clock.advance(timedelta(days=settings.invitation_valid_days, minutes=1))
    async with make_client(app) as late:
        assert (await late.get(link_path(mail.context["accept_url"], settings))).status_code == 410
    await admin.__aexit__(None, None, None)


async def test_roles_and_departments_are_edited_and_the_last_admin_stays(app, db):
    admin = await admin_client(app, db)
    eda = await make_staff(db, email="eda@desk.example", name="Eda Editor")
    me = (await user_by_email(db, "admin@desk.example")).id
    page = (await admin.get(f"/admin/users/{eda}")).text
    token = csrf_of(page)
    saved = await admin.post(
        f"/admin/users/{eda}", data={"_csrf_token": token, "roles": ["editor", "admin"], "departments": ["2"]}
    )
    assert saved.status_code == 303
    user = await user_by_email(db, "eda@desk.example")
    assert user.is_admin and user.is_editor
    # Removing one's own admin role is fine while another admin remains; the last one cannot go.
    assert (
        await admin.post(f"/admin/users/{me}", data={"_csrf_token": token, "roles": ["editor"]})
    ).status_code == 303
    async with make_client(app) as eda_client:
        await login(eda_client, "eda@desk.example")
        eda_token = csrf_of((await eda_client.get("/admin/users")).text)
        last = await eda_client.post(
            f"/admin/users/{eda}", data={"_csrf_token": eda_token, "roles": ["editor"]}
        )
        assert last.status_code == 409 and "at least one active admin" in last.text
        off = await eda_client.post(f"/admin/users/{eda}/deactivate", data={"_csrf_token": eda_token})
        assert off.status_code == 409
    assert (await user_by_email(db, "eda@desk.example")).is_admin
    await admin.__aexit__(None, None, None)


async def test_deactivation_ends_every_session_of_the_person_at_once(app, db):
    admin = await admin_client(app, db)
    eda = await make_staff(db, email="eda@desk.example")
    async with make_client(app) as one, make_client(app) as two:
        await login(one, "eda@desk.example")
        await login(two, "eda@desk.example")
        assert (await one.get("/dashboard")).status_code == 200
        token = csrf_of((await admin.get(f"/admin/users/{eda}")).text)
        assert (
            await admin.post(f"/admin/users/{eda}/deactivate", data={"_csrf_token": token})
        ).status_code == 303
        for client in (one, two):
            answer = await client.get("/dashboard")
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        async with db.sessionmaker() as session:
            assert (
                await session.scalars(select(StaffSession).where(StaffSession.user_id == eda))
            ).first() is None
        assert (await login(one, "eda@desk.example")).status_code == 401
        assert (
            await admin.post(f"/admin/users/{eda}/reactivate", data={"_csrf_token": token})
        ).status_code == 303
        assert (await login(one, "eda@desk.example")).status_code == 303
    await admin.__aexit__(None, None, None)


@pytest.mark.parametrize("role", ["editor", "fact_checker"])
async def test_only_admins_administer_users(app, db, role):
    async with make_client(app) as client:
        await make_staff(db, email="someone@desk.example", roles=(role,))
        await login(client, "someone@desk.example")
        assert (await client.get("/admin/users")).status_code == 403
        token = csrf_of((await client.get("/account")).text)
        refused = await client.post(
            "/admin/invitations", data={"_csrf_token": token, "email": "x@y.example", "roles": ["admin"]}
        )
        assert refused.status_code == 403
    assert not await outbox(db, template="staff_invitation")


async def test_admin_posts_without_a_csrf_token_are_refused(app, db):
    admin = await admin_client(app, db)
    eda = await make_staff(db, email="eda@desk.example")
    assert (
        await admin.post("/admin/invitations", data={"email": "x@y.example", "roles": ["editor"]})
    ).status_code == 403
    assert (await admin.post(f"/admin/users/{eda}/deactivate")).status_code == 403
    assert (await user_by_email(db, "eda@desk.example")).is_active
    await admin.__aexit__(None, None, None)


async def test_password_reset_answers_the_same_and_its_link_works_once(app, client, db, settings):
    await make_staff(db, email="eda@desk.example", name="Eda Editor")
    page = await client.get("/password/forgot")
    token = csrf_of(page.text)
    known = await client.post("/password/forgot", data={"_csrf_token": token, "email": "eda@desk.example"})
    unknown = await client.post(
        "/password/forgot", data={"_csrf_token": token, "email": "nobody@desk.example"}
    )
    assert known.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r"<strong>[^<]*</strong>|value=\"[^\"]*\"", "", html)  # noqa: E731
    assert strip(known.text) == strip(unknown.text)
    [mail] = await outbox(db, template="staff_password_reset")
    path = link_path(mail.context["reset_url"], settings)
    assert len(path.rsplit("/", 1)[1]) >= 43
    async with db.sessionmaker() as session:
        reset = (await session.scalars(select(PasswordReset))).one()
    assert reset.expires_at - reset.created_at <= timedelta(hours=1)

    async with make_client(app) as other:
        await login(other, "eda@desk.example")
        form = await client.get(path)
        assert form.status_code == 200
        mismatch = await client.post(
            path, data={"_csrf_token": token, "password": LONG_PASSWORD, "confirm": "other"}
        )
        assert mismatch.status_code == 422 and 'id="confirm-error"' in mismatch.text
        done = await client.post(
            path, data={"_csrf_token": token, "password": LONG_PASSWORD, "confirm": LONG_PASSWORD}
        )
        assert done.status_code == 303 and done.headers["location"] == "/login?reset=1"
        assert (await other.get("/dashboard")).status_code == 303  # every session ended
    assert (await client.get(path)).status_code == 404  # used
    assert (await login(client, "eda@desk.example", STAFF_PASSWORD)).status_code == 401
    assert (await login(client, "eda@desk.example", LONG_PASSWORD)).status_code == 303


async def test_a_reset_request_does_the_same_work_before_answering_for_known_and_unknown_addresses(app, db):
    await make_staff(db, email="eda@desk.example", name="Eda Editor")
    statements: list[str] = []
    before_answer: list[list[str]] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    async def watched(scope, receive, send):
        async def send_watched(message):
            if message["type"] == "http.response.start":
                before_answer.append(list(statements))
            await send(message)

        await app(scope, receive, send_watched)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with AsyncTestClient(app=watched, base_url=BASE_URL) as client:
            token = csrf_of((await client.get("/password/forgot")).text)
            answers = {}
            for email in ("eda@desk.example", "nobody@desk.example"):
                statements.clear()
                before_answer.clear()
                response = await client.post("/password/forgot", data={"_csrf_token": token, "email": email})
                headers = {
                    k: v
                    for k, v in response.headers.items()
                    if k not in ("date", "x-request-id", "content-length")
                }
                body = response.text.replace(email, "ADDRESS")
                answers[email] = (response.status_code, headers, body, before_answer[0])
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    known, unknown = answers["eda@desk.example"], answers["nobody@desk.example"]
    assert known[0] == unknown[0] == 200
    assert known[1] == unknown[1] and known[2] == unknown[2]
    assert known[3] == unknown[3], "the same SQL before the answer, whether or not the account exists"
    [mail] = await outbox(db, template="staff_password_reset")
    assert mail.recipient == "eda@desk.example", "the link is still sent, after the answer"


async def test_a_reset_link_expires_and_requests_are_rate_limited(app, client, db, settings):
    await make_staff(db, email="eda@desk.example")
    token = csrf_of((await client.get("/password/forgot")).text)
    await client.post("/password/forgot", data={"_csrf_token": token, "email": "eda@desk.example"})
    [mail] = await outbox(db, template="staff_password_reset")
    app.state.clock.advance(timedelta(minutes=settings.password_reset_valid_minutes + 1))
    assert (await client.get(link_path(mail.context["reset_url"], settings))).status_code == 404
    answers = [
        (
            await client.post("/password/forgot", data={"_csrf_token": token, "email": "eda@desk.example"})
        ).status_code
        for _ in range(4)
    ]
    assert answers[-1] == 429 and 200 in answers


async def test_people_change_their_password_and_notification_choices(app, client, db):
    user_id = await make_staff(db, email="eda@desk.example")
    await login(client, "eda@desk.example")
    page = await client.get("/account")
    token = csrf_of(page.text)
    wrong = await client.post(
        "/account/password",
        data={"_csrf_token": token, "current": "nope", "password": LONG_PASSWORD, "confirm": LONG_PASSWORD},
    )
    assert wrong.status_code == 422 and 'id="current-error"' in wrong.text
    async with make_client(app) as elsewhere:
        await login(elsewhere, "eda@desk.example")
        changed = await client.post(
            "/account/password",
            data={
                "_csrf_token": token,
                "current": STAFF_PASSWORD,
                "password": LONG_PASSWORD,
                "confirm": LONG_PASSWORD,
            },
        )
        assert changed.status_code == 303
        assert (await client.get("/account")).status_code == 200  # this browser keeps a fresh session
        assert (await elsewhere.get("/account")).status_code == 303  # the others end
    saved = await client.post(
        "/account/notifications",
        data={"_csrf_token": token, "notify": "digest", "kinds": ["staff_assigned", "staff_digest"]},
    )
    assert saved.status_code == 303
    async with db.sessionmaker() as session:
        user = await session.get(User, user_id)
    assert user.notify == "digest"
    assert "staff_new_application" in user.muted and "staff_assigned" not in user.muted


async def test_a_first_login_with_a_one_time_password_asks_for_a_new_one(app, client, db):
    user_id = await make_staff(db, email="first@desk.example", roles=("admin",))
    await update_staff(db, user_id, must_change_password=True)
    answer = await login(client, "first@desk.example")
    assert answer.headers["location"] == "/account/password"
    held = await client.get("/admin/users")
    assert held.status_code == 303 and held.headers["location"] == "/account/password"  # nothing else first
    page = await client.get("/account/password")
    refused = await client.post(
        "/admin/invitations", data={"_csrf_token": csrf_of(page.text), "email": "x@y.example"}
    )
    assert refused.status_code == 403
    assert "Choose your own password first" in page.text and 'name="current"' not in page.text
    done = await client.post(
        "/account/password",
        data={"_csrf_token": csrf_of(page.text), "password": LONG_PASSWORD, "confirm": LONG_PASSWORD},
    )
    assert done.status_code == 303
    async with db.sessionmaker() as session:
        assert (await session.get(User, user_id)).must_change_password is False
    assert (await client.get("/admin/users")).status_code == 200


async def test_passwords_are_argon2id_and_rehashed_when_the_cost_changes(app, client, db, settings, tmp_path):
    # Production hashes at the OWASP minimum for argon2id: 19 MiB and 2 passes.
    assert Settings.model_fields["password_memory_kib"].default == 19 * 1024
    assert Settings.model_fields["password_time_cost"].default == 2
    user_id = await make_staff(db, email="eda@desk.example")
    async with db.sessionmaker() as session:
        stored = (await session.get(User, user_id)).password_hash
    assert stored.startswith("$argon2id$")
    # The hash names its own parameters (the suite's cheap ones here).
    assert f"m={settings.password_memory_kib}" in stored and f"t={settings.password_time_cost}" in stored
    # A hash from another configuration is upgraded at the next login, here to the production cost.
    production = settings_for(settings.db_url, tmp_path, password_time_cost=2, password_memory_kib=19 * 1024)
    async with make_client(create_app(production)) as production_client:
        assert (await login(production_client, "eda@desk.example")).status_code == 303
    async with db.sessionmaker() as session:
        upgraded = (await session.get(User, user_id)).password_hash
    assert "m=19456" in upgraded and "t=2" in upgraded


async def test_sessions_end_after_the_idle_time_and_the_absolute_lifetime(app, client, db, settings):
    await make_staff(db, email="eda@desk.example")
    await login(client, "eda@desk.example")
    clock = app.state.clock
    clock.advance(timedelta(minutes=settings.session_idle_minutes - 5))
    assert (await client.get("/dashboard")).status_code == 200  # used in time: the idle clock restarts
    clock.advance(timedelta(minutes=settings.session_idle_minutes - 5))
    assert (await client.get("/dashboard")).status_code == 200
    clock.advance(timedelta(minutes=settings.session_idle_minutes + 1))
    assert (await client.get("/dashboard")).status_code == 303  # idle too long

    await login(client, "eda@desk.example")
    for _ in range(settings.session_max_hours * 2):  # busy all day, never idle
        clock.advance(timedelta(minutes=30))
        answer = await client.get("/dashboard")
    assert answer.status_code == 303  # the absolute lifetime ended it


async def test_the_outbox_never_shows_a_sign_in_link(app, client, db, settings):
    await make_staff(db, email="eda@desk.example", roles=("editor",))
    token = csrf_of((await client.get("/password/forgot")).text)
    await client.post("/password/forgot", data={"_csrf_token": token, "email": "eda@desk.example"})
    [mail] = await outbox(db, template="staff_password_reset")
    await login(client, "eda@desk.example")
    page = await client.get(f"/outbox/{mail.id}")
    assert page.status_code == 200 and 'id="sealed"' in page.text
    assert mail.context["reset_url"] not in page.text


async def test_staff_names_lose_their_bidi_controls(app, db, settings):
    admin = await admin_client(app, db)
    answer = await invite(admin, email="omar@desk.example", name="Omar \u202eFarouk\u202c")
    assert answer.status_code == 303
    [mail] = await outbox(db, template="staff_invitation")
    assert mail.recipient_name == "Omar Farouk"
    path = link_path(mail.context["accept_url"], settings)
    async with make_client(app) as omar:
        page = await omar.get(path)
        joined = await omar.post(
            path,
            data={
                "_csrf_token": csrf_of(page.text),
                "name": "\u2067Omar\u2069 \u200fFarouk",
                "password": LONG_PASSWORD,
                "confirm": LONG_PASSWORD,
            },
        )
        assert joined.status_code == 303
    user = await user_by_email(db, "omar@desk.example")
    assert user is not None and user.name == "Omar Farouk"
    assert "<bdi>Omar Farouk</bdi>" in (await admin.get("/admin/users")).text
    await admin.__aexit__(None, None, None)
