"""Similar texts among the checks on a trial piece's arrival: a piece against the applicant's own samples and
every other application's samples and trial pieces (app/core/similarity.py, app/trials/checks.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import col

from app.core import similarity
from app.core.db import Database
from app.demo import make_pdf
from app.main import scheduled_jobs
from app.models import TextPrint, TrialPiece, WorkSample
from tests.environment import SAMPLES
from tests.factories import (
    ask_applicant,
    csrf_of,
    demo_desk,
    insert_trial_piece,
    make_client,
    read_samples,
    submit,
)
from tests.queries import samples_of, stored

SHARED = (
    "The water utility raised its tariff by eleven percent in March, although the regional audit chamber had "
    "found that a third of the money collected for pipe repairs in the previous two years was never spent on "
    "pipes. The chamber's report names three contractors that were paid in advance for work nobody can find, "
    "and the utility's director declined to say whether the advances would ever be returned."
)
OPENING_A = (
    "Residents of the northern districts have complained about brown tap water since the summer floods, and "
    "the city council promised an inquiry that has not yet met once."
)
CLOSING_A = "The council will discuss the tariff again in October, after the heating season starts."
OPENING_B = (
    "Farmers in the valley say the new irrigation rules favour large holdings, while smallholders wait months "
    "for permits that used to take a week."
)
CLOSING_B = "Whether the ministry will answer the farmers' letter before the harvest is anyone's guess."
UNRELATED = (
    "The national football league approved a new schedule on Friday: the season will open a fortnight later "
    "than usual so that stadiums in the south can finish replacing their floodlights and seating. Clubs in "
    "the second division objected that the change squeezes their cup fixtures into a crowded December, and "
    "two of them said they would ask the federation's arbitration board to review the decision."
)
RUSSIAN = (
    "Правительство Пермского края направит на ремонт и содержание региональных дорог в 2027 году 18,4 млрд "
    "рублей — на 87% больше, чем в 2026-м, когда на эти цели выделили 9,8 млрд. Такие цифры содержатся в "
    "проекте краевого бюджета, который во вторник внесли в Законодательное собрание. Больше половины прибавки "
    "обеспечит федеральный трансфер по национальному проекту, остальное регион рассчитывает покрыть за счёт "
    "роста налоговых поступлений."
)
# The same paragraph with other endings of its words: a third of them differ as written, few as stemmed.
RUSSIAN_RETOLD = (
    "Правительством Пермского края направит на ремонты и содержание региональной дороги в 2027 году 18,4 млрд "
    "рубля — на 87% больше, чем в 2026-м, когда на эту цель выделили 9,8 млрд. Такая цифра содержится в "
    "проектах краевых бюджетов, которые во вторник внесли в Законодательное собрание. Больше половин прибавки "
    "обеспечит федеральные трансферы по национальным проектам, остальное регионы рассчитывают покрыть за "
    "счёт роста налогового поступления."
)


async def _apply_with(client: Any, db: Database, text: str) -> int:
    app_id = await submit(client, db, **{"sample-0-text": text})
    await read_samples(client.app)  # the sample's prints, made by the reader after the form's answer
    return app_id


async def _checks(db: Database, piece_id: int) -> dict[str, Any]:
    async with db.sessionmaker() as session:
        piece = await session.get(TrialPiece, piece_id)
        assert piece is not None
        return piece.checks


async def _prints_of(db: Database, app_id: int) -> int:
    async with db.sessionmaker() as session:
        query = select(func.count()).select_from(TextPrint).where(col(TextPrint.application_id) == app_id)
        return int(await session.scalar(query) or 0)


def _marked(match: dict[str, Any]) -> str:
    return " ".join(p["piece"]["match"] for p in match["passages"])


async def test_two_applications_sharing_a_paragraph_are_found_similar_both_ways(client, db):
    first = await _apply_with(client, db, f"{OPENING_A}\n\n{SHARED}\n\n{CLOSING_A}")
    second = await _apply_with(client, db, UNRELATED)
    [first_sample] = await samples_of(db, first)

    # The second applicant's trial piece quotes the first applicant's sample.
    piece = await insert_trial_piece(db, second, f"{OPENING_B}\n\n{SHARED}\n\n{CLOSING_B}")
    found = (await _checks(db, piece))["similarity"]
    assert found["own"] == []
    [match] = found["others"]
    assert match["application_id"] == first and match["sample_id"] == first_sample.id
    assert match["piece_id"] is None and match["share"] >= 40
    marked = _marked(match)
    assert "regional audit chamber" in marked and "irrigation" not in marked and "brown tap" not in marked
    # The whole shared paragraph is marked, word by word to where the texts part, in both texts.
    assert [p["piece"]["match"] for p in match["passages"]] == [SHARED.removesuffix(".")]
    other = match["passages"][0]["other"]
    assert other["match"] == SHARED.removesuffix(".")
    assert "pipe repairs" in other["match"] and "three contractors" in other["match"]
    assert other["lead"], "the first applicant's opening is context, not part of the match"

    # A third applicant's piece quoting the second applicant's trial piece finds that piece (pieces are indexed).
    third = await _apply_with(client, db, UNRELATED + " And one more sentence of the third applicant's own.")
    borrowed = await insert_trial_piece(db, third, f"{OPENING_B} {CLOSING_B}\n\n{UNRELATED}")
    by_piece = (await _checks(db, borrowed))["similarity"]
    assert {(m["application_id"], m["piece_id"]) for m in by_piece["others"]} >= {(second, piece)}
    # The third applicant's own sample (UNRELATED) counts as their own, never as another application.
    assert [m["application_id"] for m in by_piece["own"]] == [third]
    assert second not in [m["application_id"] for m in by_piece["own"]]


async def test_unrelated_texts_are_not_similar(client, db):
    await _apply_with(client, db, f"{OPENING_A}\n\n{SHARED}\n\n{CLOSING_A}")
    other = await _apply_with(client, db, OPENING_B)
    piece = await insert_trial_piece(db, other, f"{UNRELATED}\n\n{CLOSING_B}")
    found = (await _checks(db, piece))["similarity"]
    assert found["own"] == [] and found["others"] == [] and found["prints"] > 0 and found["has_text"]


async def test_a_russian_paragraph_with_other_word_endings_still_matches(client, db):
    first = await _apply_with(client, db, RUSSIAN)
    second = await _apply_with(client, db, UNRELATED)
    piece = await insert_trial_piece(db, second, f"Вступление от автора.\n\n{RUSSIAN_RETOLD}\n\nКонец.")
    [match] = (await _checks(db, piece))["similarity"]["others"]
    assert match["application_id"] == first and match["share"] >= 25
    assert "Пермского края" in _marked(match)
    assert "Законодательное собрание" in match["passages"][0]["other"]["match"]


async def test_the_applicants_own_sample_is_flagged_as_their_own(client, db):
    mine = await _apply_with(client, db, f"{OPENING_A}\n\n{SHARED}")
    piece = await insert_trial_piece(db, mine, f"{SHARED}\n\n{CLOSING_B}")
    found = (await _checks(db, piece))["similarity"]
    assert found["others"] == []
    [own] = found["own"]
    assert own["application_id"] == mine and own["sample_id"] == (await samples_of(db, mine))[0].id


async def test_a_phrase_in_more_applications_than_the_cap_is_boilerplate(client, db):
    ids = [
        await _apply_with(client, db, f"{opening}\n\n{SHARED}")
        for opening in (OPENING_A, OPENING_B, UNRELATED)
    ]
    body = f"{SHARED}\n\n{CLOSING_A}"
    prints = similarity.fingerprints(body)
    async with db.sessionmaker() as session:
        found = await similarity.similar_texts(session, application_id=0, body=body, prints=prints)
        assert {m["application_id"] for m in found["others"]} == set(ids) and found["common"] == 0
        # Found in three applications, over a cap of two: a stock phrase, left out.
        capped = await similarity.similar_texts(
            session, application_id=0, body=body, prints=prints, boilerplate=2
        )
    assert capped["others"] == [] and capped["common"] > 0


async def test_samples_are_indexed_once_sent_and_with_a_reply(app, client, db):
    sent = await submit(client, db, **{"sample-0-text": UNRELATED})
    assert await _prints_of(db, sent) == 0  # not in the form's answer: the reader makes them
    assert await read_samples(app) == 1
    assert await _prints_of(db, sent) == len(similarity.fingerprints(UNRELATED))
    app_id = sent

    asked, status_url = await ask_applicant(app, db)
    before = await _prints_of(db, asked)
    async with make_client(app) as applicant:
        token = csrf_of((await applicant.get(status_url)).text)
        answer = await applicant.post(
            f"{status_url}/reply",
            data={"_csrf_token": token, "reply": "Here is another piece.", "sample_title": "Water"},
            files=[("sample_file", ("water.pdf", make_pdf("Water", SHARED), "application/pdf"))],
        )
        assert answer.status_code == 303
    await read_samples(app)  # the PDF's text and prints
    assert await _prints_of(db, asked) > before
    piece = await insert_trial_piece(db, app_id, SHARED)
    [match] = (await _checks(db, piece))["similarity"]["others"]
    assert match["application_id"] == asked


async def test_prints_go_with_their_sample_and_with_an_erasure(app, client, db):
    erased = await _apply_with(client, db, f"{OPENING_A}\n\n{SHARED}")
    keeper = await _apply_with(client, db, UNRELATED)
    piece = await insert_trial_piece(db, keeper, f"{SHARED}\n\n{CLOSING_B}")
    assert [m["application_id"] for m in (await _checks(db, piece))["similarity"]["others"]] == [erased]

    # The foreign key cascades (SQLite too: foreign keys are on for every connection).
    async with db.write_session() as session:
        [sample] = (
            await session.scalars(select(WorkSample).where(col(WorkSample.application_id) == keeper))
        ).all()
        assert await session.scalar(select(func.count()).where(col(TextPrint.sample_id) == sample.id))
        await session.execute(delete(WorkSample).where(col(WorkSample.id) == sample.id))
    async with db.sessionmaker() as session:
        assert not await session.scalar(select(func.count()).where(col(TextPrint.sample_id) == sample.id))

    # Erasure from the status page: the prints go, and the other piece's checks no longer quote the text.
    status_url = f"/status/{(await stored(db, erased)).public_id}"
    confirm = await client.get(f"{status_url}/erase")
    done = await client.post(f"{status_url}/erase", data={"_csrf_token": csrf_of(confirm.text)})
    assert done.status_code == 303
    assert await _prints_of(db, erased) == 0
    checks = await _checks(db, piece)
    assert checks["similarity"]["others"] == [] and "audit chamber" not in str(checks)
    again = await insert_trial_piece(db, keeper, SHARED)
    assert (await _checks(db, again))["similarity"]["others"] == []


async def test_a_pdf_samples_text_is_compared_too(client, db):
    pdf = make_pdf("Water", f"{OPENING_A}\n{SHARED}")
    first = await submit(
        client,
        db,
        files=[("sample-0-file", ("water.pdf", pdf, "application/pdf"))],
        **{"sample-0-text": None},
    )
    await read_samples(client.app)
    second = await _apply_with(client, db, UNRELATED)
    piece = await insert_trial_piece(db, second, SHARED)
    [match] = (await _checks(db, piece))["similarity"]["others"]
    assert match["application_id"] == first


async def test_the_demo_samples_are_indexed(app, client, db, settings):
    desk = await demo_desk(db, settings)
    await read_samples(app)
    article = (SAMPLES / "work-sample-news.ru.txt").read_text(encoding="utf-8")
    piece = await insert_trial_piece(db, desk.application.id, "Мой текст.\n\n" + article[:1500])
    found = (await _checks(db, piece))["similarity"]
    russian = {m["application_id"] for m in found["others"] + found["own"]}
    assert len(russian) == 4, found  # the four demo applicants who applied in Russian sent this article


async def test_samples_stored_before_indexing_are_indexed_by_the_backfill_job(client, db, settings):
    earlier = await _apply_with(client, db, f"{OPENING_A}\n\n{SHARED}")
    async with db.write_session() as session:  # as if stored before samples were indexed on arrival
        await session.execute(delete(TextPrint).where(col(TextPrint.application_id) == earlier))
    later = await _apply_with(client, db, UNRELATED)
    indexed_later = await _prints_of(db, later)
    now = datetime.now(UTC)
    async with db.write_session() as session:
        assert await similarity.index_earlier_samples(session, settings, now) == 1
    async with db.write_session() as session:
        assert await similarity.index_earlier_samples(session, settings, now) == 0
    assert await _prints_of(db, earlier) == len(similarity.fingerprints(f"{OPENING_A}\n\n{SHARED}"))
    assert await _prints_of(db, later) == indexed_later  # indexed on arrival, not twice
    assert "similarity backfill" in scheduled_jobs().names
