"""A trial's personal data: erased with the application, in the applicant's download, kept by the upload sweep."""

from __future__ import annotations

import io
import json
import os
import time
import uuid
import zipfile

from sqlalchemy import select

from app.models import Trial, TrialFee, TrialPiece
from app.privacy.retention import sweep_orphaned_uploads
from tests.factories import (
    TRIAL_TOPIC,
    accept_fee,
    csrf_of,
    make_client,
    offer_trial,
    send_application,
    staff_login,
    submit_piece,
    valid_fields,
)
from tests.privacy.support import assert_forgotten, traces_in_database, traces_in_uploads
from tests.queries import application_id

NAME = "Ottoline Brackenbury"
# A word that only the trial piece holds, so the scan tells the piece's traces from the application's.
PIECE_WORD = "Quillfeatherston"
PIECE = (
    f"The harbour budget by {NAME}. {PIECE_WORD} asked the port authority why the dredging line grew. "
    + "The council voted for it twice and published the minutes a month later. " * 12
)


async def apply_and_offer(app, client, db) -> tuple[int, str, int]:
    """The distinctive applicant applies and is offered a trial; the application's id, status URL, trial's id."""
    email = f"o.brackenbury.{uuid.uuid4().hex[:8]}@applicant.example"
    public_id = await send_application(client, valid_fields(name=NAME, email=email))
    app_id = await application_id(db, public_id)
    async with make_client(app) as editor:
        await staff_login(editor, db, "trial-editor@desk.example", roles=("editor",))
        await offer_trial(editor, app_id)
    async with db.sessionmaker() as session:
        trial_id = await session.scalar(select(Trial.id).where(Trial.application_id == app_id))
    assert trial_id is not None
    return app_id, f"/status/{public_id}", trial_id


async def send_file_piece(client, status_url: str, body: str) -> None:
    """As the applicant: attach the piece as a .txt file, then make the final send."""
    page = await client.get(f"{status_url}/trial")
    saved = await client.post(
        f"{status_url}/trial/draft",
        data={"_csrf_token": csrf_of(page.text), "text": ""},
        files=[("file", ("brackenbury piece.txt", body.encode(), "text/plain"))],
    )
    assert saved.status_code == 303, saved.text
    confirm = await client.get(f"{status_url}/trial/confirm")
    sent = await client.post(f"{status_url}/trial/send", data={"_csrf_token": csrf_of(confirm.text)})
    assert sent.status_code == 303, sent.text


async def ask_for_more_time(client, status_url: str) -> None:
    page = await client.get(f"{status_url}/trial")
    asked = await client.post(
        f"{status_url}/trial/more-time",
        data={"_csrf_token": csrf_of(page.text), "request": f"{NAME} here: two more days, please."},
    )
    assert asked.status_code == 303, asked.text


async def erase_on_status_page(client, status_url: str) -> None:
    confirm = await client.get(f"{status_url}/erase")
    erased = await client.post(f"{status_url}/erase", data={"_csrf_token": csrf_of(confirm.text)})
    assert erased.status_code == 303, erased.text


async def piece_key(db, trial_id: int) -> str | None:
    async with db.sessionmaker() as session:
        return await session.scalar(select(TrialPiece.storage_key).where(TrialPiece.trial_id == trial_id))


async def test_erasure_takes_the_piece_its_file_the_requests_and_the_fee_note_and_keeps_the_numbers(
    app, client, db, settings
):
    app_id, status_url, trial_id = await apply_and_offer(app, client, db)
    await ask_for_more_time(client, status_url)
    await send_file_piece(client, status_url, PIECE)
    key = await piece_key(db, trial_id)
    assert key is not None and (settings.uploads_path / key).is_file()
    async with make_client(app) as editor:
        await staff_login(editor, db, "fee-editor@desk.example", roles=("editor",))
        accepted = await accept_fee(editor, trial_id, note=f"Invoice from {NAME}, account 40817")
        assert accepted.status_code == 303, accepted.text
    async with db.sessionmaker() as session:
        piece = await session.scalar(select(TrialPiece).where(TrialPiece.trial_id == trial_id))
        assert piece is not None and PIECE_WORD in (piece.extracted_text or "") and piece.checks
        words = piece.word_count
    # The scan finds the piece, its file, the request and the fee's note before the erasure.
    found = "\n".join(await traces_in_database(db, [NAME, PIECE_WORD]))
    for column in ("trial_piece.extracted_text", "event.message", "trial_fee.note"):
        assert column in found, found
    assert traces_in_uploads(settings, [PIECE_WORD])

    await erase_on_status_page(client, status_url)

    await assert_forgotten(db, settings, NAME, PIECE_WORD, "40817")
    assert not (settings.uploads_path / key).exists()
    async with db.sessionmaker() as session:
        trial = await session.get(Trial, trial_id)
        piece = await session.scalar(select(TrialPiece).where(TrialPiece.trial_id == trial_id))
        fee = await session.scalar(select(TrialFee).where(TrialFee.trial_id == trial_id))
    assert trial is not None and trial.application_id == app_id
    assert trial.state == "submitted" and trial.submitted_at is not None and trial.topic == TRIAL_TOPIC
    assert piece is not None and piece.is_final and piece.word_count == words and piece.submitted_at
    assert (piece.text, piece.extracted_text, piece.file_name, piece.storage_key, piece.checks) == (
        None,
        None,
        None,
        None,
        {},
    )
    assert fee is not None and fee.note == ""
    assert (fee.amount_minor, fee.currency, fee.status) == (500000, "RUB", "agreed") and fee.agreed_at


async def test_erasure_takes_the_reason_given_for_declining(app, client, db, settings):
    _, status_url, trial_id = await apply_and_offer(app, client, db)
    page = await client.get(f"{status_url}/trial")
    declined = await client.post(
        f"{status_url}/trial/decline",
        data={"_csrf_token": csrf_of(page.text), "reason": f"{PIECE_WORD}: {NAME} took a staff job."},
    )
    assert declined.status_code == 303, declined.text
    found = "\n".join(await traces_in_database(db, [PIECE_WORD]))
    assert "trial.decline_reason" in found, found

    await erase_on_status_page(client, status_url)

    await assert_forgotten(db, settings, NAME, PIECE_WORD)
    async with db.sessionmaker() as session:
        trial = await session.get(Trial, trial_id)
    assert trial is not None and trial.state == "declined" and trial.declined_at is not None


async def test_the_download_holds_the_brief_and_the_piece_in_the_applicants_language(app, client, db):
    _, status_url, trial_id = await apply_and_offer(app, client, db)
    await send_file_piece(client, status_url, PIECE)
    async with make_client(app) as editor:
        await staff_login(editor, db, "fee-editor@desk.example", roles=("editor",))
        accepted = await accept_fee(editor, trial_id, note="Internal: pay from the harbour budget line")
        assert accepted.status_code == 303, accepted.text

    response = await client.get(f"{status_url}/data", headers={"Accept-Language": "ru"})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    raw = archive.read("data.json").decode()
    [trial] = json.loads(raw)["trials"]
    assert trial["brief"]["topic"] == TRIAL_TOPIC
    assert (trial["brief"]["min_words"], trial["brief"]["max_words"]) == (5, 900)
    assert "₽" in trial["brief"]["fee"] and trial["brief"]["deadline_firm"] is True
    assert trial["submitted_at"] and trial["late"] is False and trial["decline_reason"] is None
    piece = trial["piece"]
    assert piece["final"] is True and piece["submitted_at"] and piece["word_count"] > 0
    assert piece["archived_as"] == "files/trial-1-brackenbury piece.txt"
    assert archive.read(piece["archived_as"]) == PIECE.encode()
    # Not the editors' scores or the fee's notes.
    assert "Internal: pay" not in raw and "fact_accuracy" not in raw and "score" not in raw

    english = await client.get(f"{status_url}/data", headers={"Accept-Language": "en"})
    [trial] = json.loads(zipfile.ZipFile(io.BytesIO(english.content)).read("data.json"))["trials"]
    assert "5,000.00" in trial["brief"]["fee"]


async def test_a_pasted_piece_is_in_the_download_as_text(app, client, db):
    _, status_url, _ = await apply_and_offer(app, client, db)
    await submit_piece(client, status_url.removeprefix("/status/"), PIECE)
    response = await client.get(f"{status_url}/data")
    [trial] = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("data.json"))["trials"]
    assert trial["piece"]["text"] == PIECE.strip() and "archived_as" not in trial["piece"]


async def test_the_upload_sweep_keeps_a_trial_pieces_file(app, client, db, settings):
    _, status_url, trial_id = await apply_and_offer(app, client, db)
    await send_file_piece(client, status_url, PIECE)
    key = await piece_key(db, trial_id)
    assert key is not None
    folder = settings.uploads_path
    orphan = folder / uuid.uuid4().hex
    orphan.write_bytes(b"left behind")
    two_hours_ago = time.time() - 2 * 3600
    for path in (orphan, folder / key):
        os.utime(path, (two_hours_ago, two_hours_ago))

    assert await sweep_orphaned_uploads(db, settings) == 1
    assert not orphan.exists() and (folder / key).read_bytes() == PIECE.encode()
