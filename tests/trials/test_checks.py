"""The checks on a trial piece's arrival (app/trials/checks.py) and how the editors' panel shows them
(templates/trials/_checks.html): words against the brief's limits, on time or late, links, similar texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from litestar import Litestar

from app.core.db import Database
from app.core.i18n import use_locale
from app.models import Trial, TrialPiece
from tests.factories import insert_trial_piece, read_samples, submit

SHARED = (
    "The harbour authority paid a dredging company for two seasons of work in advance, and the regional "
    "auditors found that the channel was deepened only once; the company's owner sits on the authority's "
    "supervisory board, which approved the second payment without a tender or a vote."
)


async def _stored(db: Database, piece_id: int) -> tuple[Trial, TrialPiece]:
    async with db.sessionmaker() as session:
        piece = await session.get(TrialPiece, piece_id)
        assert piece is not None
        trial = await session.get(Trial, piece.trial_id)
        assert trial is not None
        return trial, piece


def _render(app: Litestar, trial: Trial, piece: TrialPiece, locale: str) -> str:
    """The partial as the panel includes it, in the reader's language."""
    engine: Any = app.template_engine
    template = engine.get_template("trials/_checks.html")
    with use_locale(locale):
        return str(template.render(trial=trial, piece=piece, request=SimpleNamespace(app=app)))


async def test_the_word_count_is_held_against_the_briefs_limits(client, db):
    app_id = await submit(client, db)
    short = await insert_trial_piece(db, app_id, "word " * 90, min_words=100, max_words=300)
    within = await insert_trial_piece(db, app_id, "word " * 200, min_words=100, max_words=300)
    long = await insert_trial_piece(db, app_id, "word " * 301, min_words=100, max_words=300)
    unlimited = await insert_trial_piece(db, app_id, "word " * 5)
    verdicts = [(await _stored(db, p))[1].checks["words"] for p in (short, within, long, unlimited)]
    assert [v["verdict"] for v in verdicts] == ["too_short", "within", "too_long", "within"]
    assert [v["count"] for v in verdicts] == [90, 200, 301, 5]
    assert verdicts[0]["min"] == 100 and verdicts[0]["max"] == 300


async def test_a_piece_after_the_deadline_is_late_by_how_long(client, db):
    app_id = await submit(client, db)
    now = datetime.now(UTC)
    late = await insert_trial_piece(
        db, app_id, SHARED, now=now, deadline_at=now - timedelta(hours=3, minutes=5), deadline_firm=False
    )
    on_time = await insert_trial_piece(db, app_id, SHARED, now=now, deadline_at=now + timedelta(minutes=1))
    late_check = (await _stored(db, late))[1].checks["timing"]
    assert late_check["late"] and late_check["late_minutes"] == 185 and not late_check["firm"]
    on_time_check = (await _stored(db, on_time))[1].checks["timing"]
    assert not on_time_check["late"] and on_time_check["late_minutes"] == 0 and on_time_check["firm"]


async def test_every_link_is_listed_and_the_ones_not_http_are_flagged(client, db):
    app_id = await submit(client, db)
    body = (
        "Sources: https://budget.example.org/2027/roads.pdf, the ministry (http://minfin.example/report), "
        "ftp://files.example/table.xls and javascript:alert(1); see also www.example.com/page. "
        "Write to mailto:desk@example.org."
    )
    piece = await insert_trial_piece(db, app_id, body)
    links = (await _stored(db, piece))[1].checks["links"]
    assert [(link["url"], link["web"]) for link in links["items"]] == [
        ("https://budget.example.org/2027/roads.pdf", True),
        ("http://minfin.example/report", True),
        ("ftp://files.example/table.xls", False),
        ("javascript:alert(1)", False),
        ("www.example.com/page", False),
        ("mailto:desk@example.org", False),
    ]
    many = await insert_trial_piece(db, app_id, " ".join(f"https://e.example/{n}" for n in range(70)))
    bounded = (await _stored(db, many))[1].checks["links"]
    assert bounded["count"] == 70 and len(bounded["items"]) == 50


async def test_the_panel_shows_the_checks_in_both_languages(app, client, db, editor):
    other = await submit(client, db, **{"sample-0-text": f"An opening of the other applicant.\n\n{SHARED}"})
    app_id = await submit(client, db, **{"sample-0-text": "A sample about something else entirely, short."})
    await read_samples(app)  # the samples' prints, made after the form's answer
    now = datetime.now(UTC)
    piece_id = await insert_trial_piece(
        db,
        app_id,
        f"My piece starts here. {SHARED} Sources: javascript:alert(1) and https://harbour.example/audit",
        now=now,
        deadline_at=now - timedelta(hours=2),
        deadline_firm=False,
        min_words=100,
        max_words=900,
    )
    trial, piece = await _stored(db, piece_id)
    english = _render(app, trial, piece, "en")
    assert 'aria-labelledby="trial-checks-title"' in english and "Checks on arrival" in english
    assert "too short" in english and "Late by 2 hours" in english and "soft deadline" in english
    assert "not an http(s) link" in english and 'href="javascript:' not in english
    assert '<a href="https://harbour.example/audit"' in english
    assert f'href="/applications/{other}"' in english and "A work sample of application #" in english
    assert "Shared passage: </span>The harbour authority paid" in english
    assert "without a tender or a vote</mark>" in english
    russian = _render(app, trial, piece, "ru")
    assert "Проверки при поступлении" in russian and "Опоздание" in russian and "<mark>" in russian

    alone = await submit(client, db, **{"sample-0-text": "Nothing in common with anything stored here."})
    nothing = await insert_trial_piece(
        db, alone, "A completely fresh text on a subject of its own, written today."
    )
    assert "No similar texts found." in _render(app, *await _stored(db, nothing), "en")

    # The application page renders with a checked trial piece (the trial panel shows the partial).
    page = await client.get(f"/applications/{app_id}")
    assert page.status_code == 200
