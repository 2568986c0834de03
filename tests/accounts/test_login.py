"""Logging in and out (docs/security.md A2, A3, B1, B2, B4)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts.sessions import COOKIE_NAME, hash_token
from app.models import StaffSession
from tests.factories import STAFF_PASSWORD, csrf_of, login, make_client, make_staff
from tests.queries import count_rows


async def test_login_sets_a_hardened_cookie_and_lands_on_the_queue(client, db):
    await make_staff(db, email="eda@desk.example")
    response = await login(client, "eda@desk.example")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and COOKIE_NAME in v)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert (
        "Secure" not in cookie
    )  # development settings; production sets it (test_production_cookie_is_secure)
    assert await count_rows(db, StaffSession) == 1


async def test_production_cookie_is_secure(app, db, settings):
    from app.accounts.sessions import session_cookie

    settings.env = "production"
    assert session_cookie("x", settings).secure is True


async def test_login_returns_to_the_page_asked_for_but_never_off_site(client, db):
    await make_staff(db, email="eda@desk.example")
    page = await client.get("/login?next=/dashboard%3Fstate%3Dscreening")
    assert 'value="/dashboard?state=screening"' in page.text
    for evil in ("//evil.example/x", "https://evil.example/", "/\\\\evil.example"):
        page = await client.get(f"/login?next={evil}")
        assert 'name="next" value=""' in page.text


async def test_wrong_password_unknown_user_and_deactivated_user_get_the_same_answer(client, db):
    await make_staff(db, email="eda@desk.example")
    await make_staff(db, email="gone@desk.example", active=False)
    answers = []
    for email, password in [
        ("eda@desk.example", "not the password at all"),
        ("nobody@desk.example", "correct horse battery staple"),
        ("gone@desk.example", "correct horse battery staple"),
    ]:
        response = await login(client, email, password)
        body = re.sub(r'value="[^"]*"', "", response.text)
        answers.append((response.status_code, body))
    assert answers[0][0] == 401
    assert answers[0] == answers[1] == answers[2]
    assert await count_rows(db, StaffSession) == 0


async def test_sixth_failure_is_429_and_the_right_password_works_after_the_window(app, db, settings):
    await make_staff(db, email="eda@desk.example")
    async with make_client(app) as client:
        statuses = [
            (await login(client, "eda@desk.example", f"wrong guess {i}")).status_code for i in range(5)
        ]
        assert statuses == [401] * 5
        locked = await login(client, "eda@desk.example")
        assert locked.status_code == 429
        assert "Too many failed logins" in locked.text
        app.state.clock.advance(__import__("datetime").timedelta(seconds=settings.login_window_seconds + 1))
        assert (await login(client, "eda@desk.example")).status_code == 303


async def login_from(app, address: str, email: str, password: str = STAFF_PASSWORD) -> int:
    """Log in from `address` (as the trusted proxy forwards it) in a fresh browser; returns the status."""
    async with make_client(app) as client:
        forwarded = {"x-forwarded-for": address}
        page = await client.get("/login", headers=forwarded)
        response = await client.post(
            "/login",
            data={"_csrf_token": csrf_of(page.text), "email": email, "password": password},
            headers=forwarded,
        )
        return response.status_code


async def test_failures_lock_the_account_from_that_address_but_not_colleagues_behind_it(app, db, settings):
    settings.trusted_proxies = ["testclient"]
    await make_staff(db, email="alice@desk.example")
    await make_staff(db, email="bob@desk.example")
    office, home = "203.0.113.7", "198.51.100.20"
    statuses = [await login_from(app, office, "alice@desk.example", f"wrong guess {i}") for i in range(5)]
    assert statuses == [401] * 5
    assert await login_from(app, office, "alice@desk.example") == 429
    assert await login_from(app, office, "bob@desk.example") == 303, "a colleague behind the same address"
    assert await login_from(app, home, "alice@desk.example") == 303, "the owner from elsewhere"


async def test_the_address_bucket_stops_spraying_many_accounts_from_one_address(app, db, settings):
    settings.trusted_proxies = ["testclient"]
    settings.login_max_failures_per_address = 8
    await make_staff(db, email="eda@desk.example")
    sprayer = "203.0.113.66"
    statuses = [await login_from(app, sprayer, f"guess{i}@desk.example", "whatever it is") for i in range(8)]
    assert statuses == [401] * 8
    assert await login_from(app, sprayer, "eda@desk.example") == 429
    assert await login_from(app, "198.51.100.20", "eda@desk.example") == 303


async def test_the_account_bucket_stops_guessing_spread_over_many_addresses(app, db, settings):
    settings.trusted_proxies = ["testclient"]
    settings.login_max_failures_per_account = 6
    await make_staff(db, email="eda@desk.example")
    await make_staff(db, email="bob@desk.example")
    for i in range(6):
        assert await login_from(app, f"203.0.113.{i + 1}", "eda@desk.example", "wrong guess") == 401
    assert await login_from(app, "198.51.100.20", "eda@desk.example") == 429
    assert await login_from(app, "198.51.100.20", "bob@desk.example") == 303


async def test_a_planted_session_id_is_ignored_and_login_issues_a_new_one(app, db):
    await make_staff(db, email="eda@desk.example")
    async with make_client(app) as client:
        client.cookies.set(COOKIE_NAME, "attacker-chosen-session-id")
        assert (await client.get("/dashboard")).status_code in (303, 404)
        response = await login(client, "eda@desk.example")
        token = response.cookies.get(COOKIE_NAME)
        assert token and token != "attacker-chosen-session-id"
    async with db.sessionmaker() as session:
        ids = (await session.scalars(select(StaffSession.id))).all()
    assert ids == [hash_token(token)]
    assert hash_token("attacker-chosen-session-id") not in ids


async def test_logout_deletes_the_server_side_session(client, db):
    await make_staff(db, email="eda@desk.example")
    await login(client, "eda@desk.example")
    page = await client.get("/login")  # logged in: redirected onwards, so take a token from the form page
    token = csrf_of((await client.get("/apply")).text)
    assert page.status_code == 303
    response = await client.post("/logout", data={"_csrf_token": token})
    assert response.status_code == 303
    assert await count_rows(db, StaffSession) == 0


async def test_logout_without_csrf_token_is_refused(client, db):
    await make_staff(db, email="eda@desk.example")
    await login(client, "eda@desk.example")
    assert (await client.post("/logout", data={})).status_code == 403
    assert await count_rows(db, StaffSession) == 1
