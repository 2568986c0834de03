"""Erasing an applicant's personal data (docs/security.md H1): one function for the status page and the purge.

What stays is a tombstone: the application row with its state, departments, topics and dates, and its events
stripped of free text, so the counts and reports still see it. The applicant row keeps no name, address or
links, samples and their files go (and the similarity prints of every text, with the passages other trial
pieces' checks quote from them), staff notes go, staff scores and fact-check tasks lose their text, the
applicant's own mail goes and staff mail about them names nobody. A trial keeps its brief, dates and numbers:
its piece loses its text and file, the trial its decline reason, its fee (an accounting record) everything but
amount, currency, status and dates. The erasure is logged in `erasure`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications import uploads
from app.core import links, workflow
from app.core.db import delete_after_commit
from app.core.moves import transition
from app.core.outbound import enqueue
from app.core.workflow import Actor
from app.models import (
    Applicant,
    Application,
    ApplicationSearch,
    Claim,
    EmailStatus,
    Erasure,
    Event,
    FactCheckTask,
    OutboxEmail,
    Score,
    State,
    Trial,
    TrialFee,
    TrialPiece,
    WebhookDelivery,
    WorkSample,
)
from app.settings import Settings
from app.trials.checks import forget_application

# What staff pages, mail and the API show where the applicant's name was.
ERASED_NAME = "Erased"
CONFIRMATION_TEMPLATE = "applicant_erased"
# Context keys of staff notifications that carry the applicant's name or words.
PERSONAL_CONTEXT = {"applicant_name": ERASED_NAME, "message": ""}
FINISHED = (EmailStatus.sent, EmailStatus.failed, EmailStatus.dead, EmailStatus.cancelled)


class Requester(enum.StrEnum):
    applicant = "applicant"  # from the status page
    retention = "retention"  # `byline purge`


async def erase(
    session: AsyncSession,
    *,
    settings: Settings,
    application: Application,
    applicant: Applicant,
    requested_by: Requester,
    now: datetime,
) -> bool:
    """Erase the personal data of `application`, in the caller's transaction; False if it was erased before.

    An application still under review is withdrawn first (its editor is told, without the name). Uploaded
    files are removed once the transaction commits. The applicant's confirmation is queued to their address,
    which the worker blanks as soon as the message is sent or given up on.
    """
    if application.erased_at is not None:
        return False
    app_id = application.id
    assert app_id is not None
    actor = Actor.applicant if requested_by == Requester.applicant else Actor.system
    if workflow.find_move(application.state, State.withdrawn, actor) is not None:
        await transition(
            session,
            settings=settings,
            application=application,
            applicant=applicant,
            to=State.withdrawn,
            actor=actor,
            data={"erasure": True},
            now=now,
        )
    address = applicant.email
    await forget_application(session, app_id)  # similarity prints and the matches quoting the text
    await _drop_samples(session, settings, app_id)
    await _blank_trials(session, settings, app_id)
    await session.execute(delete(ApplicationSearch).where(col(ApplicationSearch.application_id) == app_id))
    await _strip_events(session, app_id)
    await session.execute(update(Score).where(col(Score.application_id) == app_id).values(comment=""))
    task_ids = select(col(FactCheckTask.id)).where(col(FactCheckTask.application_id) == app_id)
    await session.execute(
        update(FactCheckTask).where(col(FactCheckTask.application_id) == app_id).values(summary="")
    )
    await session.execute(
        update(Claim).where(col(Claim.task_id).in_(task_ids)).values(quote="", note="", sources=[])
    )
    await _forget_mail(session, application)
    await session.execute(
        delete(WebhookDelivery).where(
            col(WebhookDelivery.body).contains(f'"application_id":{app_id},'),
            col(WebhookDelivery.status).in_(FINISHED),
        )
    )
    # The per-address rate-limit counter (a keyed hash, not the address) is left to run out with its window:
    # forgetting it would let anyone apply and erase in a loop to mail an address without limit.

    applicant.name = ERASED_NAME
    applicant.email = ""
    # Unique and never an address, so no other application is matched as the same person's.
    applicant.email_normalized = f"erased-{applicant.id}"
    applicant.phone = None
    applicant.city = ""
    applicant.country = ""
    applicant.links = []
    session.add(applicant)
    application.motivation = ""
    application.experience = ""
    application.availability = ""
    application.erased_at = now
    application.updated_at = now
    session.add(application)
    session.add(Event(application_id=app_id, kind="erased", actor=actor.value, created_at=now))
    session.add(
        Erasure(
            public_id=application.public_id,
            requested_by=requested_by.value,
            state=application.state,
            created_at=now,
        )
    )
    if requested_by == Requester.applicant and address:
        await enqueue(
            session,
            settings=settings,
            template=CONFIRMATION_TEMPLATE,
            recipient=address,
            dedupe_key=f"erased:{application.public_id}",
            context={},
            application_id=app_id,
            now=now,
            locale=application.locale,
        )
    await session.flush()
    return True


async def _drop_samples(session: AsyncSession, settings: Settings, app_id: int) -> None:
    keys = (
        await session.scalars(
            select(col(WorkSample.storage_key)).where(
                col(WorkSample.application_id) == app_id, col(WorkSample.storage_key).is_not(None)
            )
        )
    ).all()
    await session.execute(
        update(FactCheckTask).where(col(FactCheckTask.application_id) == app_id).values(sample_id=None)
    )
    await session.execute(delete(WorkSample).where(col(WorkSample.application_id) == app_id))
    for key in keys:
        if key:
            delete_after_commit(session, *uploads.stored_paths(settings, key))


async def _blank_trials(session: AsyncSession, settings: Settings, app_id: int) -> None:
    """Trial pieces keep their kind, size, word count and dates, not their words or file; the trials lose the
    decline reason, the fees their notes (the requests for more time are events, stripped with the others)."""
    keys = (
        await session.scalars(
            select(col(TrialPiece.storage_key)).where(
                col(TrialPiece.application_id) == app_id, col(TrialPiece.storage_key).is_not(None)
            )
        )
    ).all()
    await session.execute(
        update(TrialPiece)
        .where(col(TrialPiece.application_id) == app_id)
        .values(
            text=None,
            extracted_text=None,
            file_name=None,
            storage_key=None,
            content_type=None,
            sha256=None,
            checks={},
        )
    )
    trial_ids = select(col(Trial.id)).where(col(Trial.application_id) == app_id)
    await session.execute(update(Trial).where(col(Trial.application_id) == app_id).values(decline_reason=""))
    await session.execute(update(TrialFee).where(col(TrialFee.trial_id).in_(trial_ids)).values(note=""))
    for key in keys:
        if key:
            delete_after_commit(session, *uploads.stored_paths(settings, key))


async def _strip_events(session: AsyncSession, app_id: int) -> None:
    """Notes go; every other event keeps its kind, states and numbers, not its words."""
    await session.execute(delete(Event).where(col(Event.application_id) == app_id, col(Event.kind) == "note"))
    events = (await session.scalars(select(Event).where(col(Event.application_id) == app_id))).all()
    for row in events:
        row.message = None
        row.data = {k: v for k, v in row.data.items() if isinstance(v, int | float | bool) or v is None}
        session.add(row)


def _scrubbed(context: dict[str, Any]) -> dict[str, Any]:
    return {**context, **{k: v for k, v in PERSONAL_CONTEXT.items() if k in context}}


async def _forget_mail(session: AsyncSession, application: Application) -> None:
    """The applicant's mail goes; staff mail about the application (and digests listing it) names nobody."""
    app_id = application.id
    await session.execute(
        delete(OutboxEmail).where(col(OutboxEmail.application_id) == app_id, ~col(OutboxEmail.is_staff))
    )
    staff_rows = (
        await session.scalars(
            select(OutboxEmail).where(col(OutboxEmail.application_id) == app_id, col(OutboxEmail.is_staff))
        )
    ).all()
    for row in staff_rows:
        row.context = _scrubbed(row.context)
        session.add(row)
    url_tail = links.path("application", application_id=app_id)
    digests = (
        await session.scalars(
            select(OutboxEmail).where(
                col(OutboxEmail.template) == "staff_digest",
                col(OutboxEmail.created_at) >= application.created_at,
                # The closing quote of the JSON string: /applications/12 is not /applications/123.
                sa.cast(col(OutboxEmail.context), sa.Text).contains(f'{url_tail}"'),
            )
        )
    ).all()
    for row in digests:
        context = dict(row.context)
        changed = False
        for key, name_key in (("items", "applicant_name"), ("overdue_applications", "name")):
            entries = []
            for entry in context.get(key, []):
                if str(entry.get("url", "")).endswith(url_tail):
                    entry = {**entry, name_key: ERASED_NAME}
                    changed = True
                entries.append(entry)
            context[key] = entries
        if changed:
            row.context = context
            session.add(row)


async def forget_confirmation_addresses(session: AsyncSession, ids: list[int]) -> None:
    """Blank the address of erasure confirmations among `ids` that were sent or given up on."""
    if not ids:
        return
    await session.execute(
        update(OutboxEmail)
        .where(
            col(OutboxEmail.id).in_(ids),
            col(OutboxEmail.template) == CONFIRMATION_TEMPLATE,
            col(OutboxEmail.status).in_(FINISHED),
        )
        .values(recipient="", recipient_name="", last_error=None)
    )
