"""Personal API tokens: made on /account/tokens and shown once, stored hashed, used as a bearer token, revoked,
dead with a deactivated owner; the API never takes the session cookie; rate limits answer 429 as JSON."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlmodel import SQLModel

from app.accounts.tokens import hash_token
from app.models import ApiToken
from tests.factories import (
    bearer,
    create_token,
    csrf_of,
    login,
    make_client,
    make_staff,
    staff_login,
    staff_token,
)


async def test_a_token_is_made_shown_once_used_and_revoked(app, client, db):
    await staff_login(client, db, "ed@desk.example", name="Edna Editor", roles=("editor",))
    account = await client.get("/account")
    assert 'href="/account/tokens"' in account.text

    made, token = await create_token(client, "dashboard sync")
    assert "shown only this once" in made.text
    listing = await client.get("/account/tokens")
    assert "dashboard sync" in listing.text and token not in listing.text
    assert "never" in listing.text  # not used yet

    async with make_client(app) as api:  # no cookie: the token alone
        me = await api.get("/api/v1/me", headers=bearer(token))
        assert me.status_code == 200, me.text
        assert me.json() == {
            "id": me.json()["id"],
            "name": "Edna Editor",
            "email": "ed@desk.example",
            "roles": ["editor"],
        }
        assert (await api.get("/api/v1/applications", headers=bearer(token))).status_code == 200

    listing = await client.get("/account/tokens")
    assert "never" not in listing.text  # last used is shown now

    async with db.sessionmaker() as session:
        row = (await session.scalars(select(ApiToken))).one()
    revoke = await client.post(
        f"/account/tokens/{row.id}/revoke", data={"_csrf_token": csrf_of(listing.text)}
    )
    assert revoke.status_code == 303
    assert "no longer works" in (await client.get(revoke.headers["location"])).text

    async with make_client(app) as api:
        refused = await api.get("/api/v1/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert refused.json()["status"] == 401


async def test_the_database_holds_only_the_tokens_hash(app, client, db):
    await staff_login(client, db, "ed@desk.example")
    _, token = await create_token(client)
    async with db.sessionmaker() as session:
        row = (await session.scalars(select(ApiToken))).one()
        assert row.token_hash == hash_token(token)
        # Not in any column of any table.
        for table in SQLModel.metadata.sorted_tables:
            for values in (await session.execute(text(f"SELECT * FROM {table.name}"))).all():
                assert not any(token in str(value) for value in values), table.name


async def test_a_person_revokes_only_their_own_tokens(app, client, db):
    _, other_token = await staff_token(app, db, "other@desk.example")
    async with db.sessionmaker() as session:
        other_id = (await session.scalars(select(ApiToken.id))).one()
    await staff_login(client, db, "ed@desk.example")
    page = await client.get("/account/tokens")
    response = await client.post(
        f"/account/tokens/{other_id}/revoke", data={"_csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 404
    async with make_client(app) as api:
        assert (await api.get("/api/v1/me", headers=bearer(other_token))).status_code == 200


async def test_a_token_needs_a_name(client, db):
    await staff_login(client, db, "ed@desk.example")
    page = await client.get("/account/tokens")
    response = await client.post("/account/tokens", data={"_csrf_token": csrf_of(page.text), "name": "  "})
    assert response.status_code == 422
    assert 'id="name-error"' in response.text and 'id="token-value"' not in response.text


async def test_a_deactivated_persons_tokens_stop_working(app, client, db):
    user_id, token = await staff_token(app, db, "leaving@desk.example")
    async with make_client(app) as api:
        assert (await api.get("/api/v1/me", headers=bearer(token))).status_code == 200
    await staff_login(client, db, "admin@desk.example", roles=("admin",))
    page = await client.get(f"/admin/users/{user_id}")
    deactivate = await client.post(
        f"/admin/users/{user_id}/deactivate", data={"_csrf_token": csrf_of(page.text)}
    )
    assert deactivate.status_code == 303
    async with make_client(app) as api:
        assert (await api.get("/api/v1/me", headers=bearer(token))).status_code == 401
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(ApiToken))).all() == []


async def test_an_inactive_owner_is_refused_even_with_a_token_row(app, db):
    """Defence in depth: a token row whose owner is inactive (however that came about) does not work."""
    user_id, token = await staff_token(app, db, "paused@desk.example")
    async with db.write_session() as session:
        await session.execute(text("UPDATE staff_user SET is_active = false WHERE id = :id"), {"id": user_id})
    async with make_client(app) as api:
        assert (await api.get("/api/v1/me", headers=bearer(token))).status_code == 401


async def test_the_api_refuses_a_missing_malformed_or_unknown_token_and_the_session_cookie(app, client, db):
    await staff_login(client, db, "ed@desk.example")
    # Logged in through the form: the cookie opens the HTML pages, never the API.
    assert (await client.get("/dashboard")).status_code == 200
    assert (await client.get("/api/v1/me")).status_code == 401
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic ZWQ6cGFzcw=="},
        {"Authorization": "Bearer not-a-token-that-exists-anywhere-at-all-xxxx"},
        {"Authorization": "Bearer " + "x" * 500},
    ):
        response = await client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["detail"].startswith("Send a valid API token")


async def test_the_api_needs_no_csrf_token_and_takes_no_cookie_posts(app, client, db):
    """A POST with only the session cookie (what a forged cross-site request carries) is refused."""
    await staff_login(client, db, "ed@desk.example")
    response = await client.post("/api/v1/applications/1/notes", json={"text": "hello"})
    assert response.status_code == 401


async def test_too_many_requests_answer_429_as_json(app, db, settings):
    settings.api_rate_per_minute = 3  # the app's own settings object, read on every request
    _, token = await staff_token(app, db, "busy@desk.example")
    async with make_client(app) as api:
        answers = [(await api.get("/api/v1/me", headers=bearer(token))) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].headers["content-type"].startswith("application/problem+json")
    assert int(answers[-1].headers["retry-after"]) <= 60
    assert answers[-1].json()["status"] == 429


async def test_a_one_time_password_holder_cannot_make_tokens(client, db):
    await make_staff(db, email="new@desk.example")
    async with db.write_session() as session:
        await session.execute(text("UPDATE staff_user SET must_change_password = true"))
    await login(client, "new@desk.example")
    response = await client.get("/account/tokens")
    assert response.status_code == 303 and response.headers["location"] == "/account/password"
