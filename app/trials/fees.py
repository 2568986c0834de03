"""The fee of a trial piece accepted for payment: agreed, invoiced, approved, paid; who and when for each.

An editor accepts a piece that is in for payment: the fee is computed from the trial's terms (flat: the
amount; per word: the rate times the piece's words, held to the cap; unpaid trials have none) and recorded as
agreed. Finance people and admins then move it one status at a time. Each step is a conditional UPDATE on the
status the person saw, so of two people pressing "paid" at once one wins and the other gets a 409; each step
adds an event to the application's timeline and queues the "trial.fee_status_changed" webhook event. Byline
records fees: it moves no money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import links, money
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.forms import at_most
from app.core.i18n import N_, use_locale
from app.core.i18n import gettext as _
from app.core.outbound import enqueue_for_staff
from app.core.staff import StaffUser
from app.models import (
    Applicant,
    Application,
    Event,
    FeeKind,
    FeeStatus,
    Trial,
    TrialFee,
    TrialPiece,
    TrialState,
    User,
)
from app.settings import Settings
from app.trials import events

MAX_NOTE = 1000
STATUS_LABELS = {
    FeeStatus.agreed: N_("agreed"),
    FeeStatus.invoiced: N_("invoiced"),
    FeeStatus.approved: N_("approved"),
    FeeStatus.paid: N_("paid"),
}
# Each status and the one after it.
NEXT = {
    FeeStatus.agreed: FeeStatus.invoiced,
    FeeStatus.invoiced: FeeStatus.approved,
    FeeStatus.approved: FeeStatus.paid,
}
# The button that moves a fee on from each status.
STEP_LABELS = {
    FeeStatus.agreed: N_("Mark as invoiced"),
    FeeStatus.invoiced: N_("Approve for payment"),
    FeeStatus.approved: N_("Mark as paid"),
}
# The columns that record who took a step and when.
STEP_COLUMNS = {
    FeeStatus.agreed: ("agreed_by_id", "agreed_at"),
    FeeStatus.invoiced: ("invoiced_by_id", "invoiced_at"),
    FeeStatus.approved: ("approved_by_id", "approved_at"),
    FeeStatus.paid: ("paid_by_id", "paid_at"),
}
EVENT_KIND = "trial_fee"


def status_label(status: str) -> str:
    return _(STATUS_LABELS[FeeStatus(status)])


def can_agree(staff: StaffUser) -> bool:
    """Editors (and admins) accept a piece for payment."""
    return staff.is_editor or staff.is_admin


def can_move(staff: StaffUser) -> bool:
    """Finance people and admins move a fee through invoiced, approved and paid."""
    return staff.is_finance or staff.is_admin


def amount_for(trial: Trial, piece: TrialPiece | None) -> int | None:
    """The fee the trial's terms give for its piece, in minor units; None for an unpaid trial."""
    if trial.fee_kind == FeeKind.unpaid:
        return None
    rate = trial.fee_amount_minor or 0
    if trial.fee_kind == FeeKind.flat:
        return rate
    words = (piece.word_count or 0) if piece is not None else 0
    amount = rate * words
    if trial.fee_cap_minor is not None:
        amount = min(amount, trial.fee_cap_minor)
    return amount


async def _trial(session: AsyncSession, trial_id: int) -> Trial:
    trial = await session.get(Trial, trial_id)
    if trial is None:
        raise NotFound(N_("There is no such trial."))
    return trial


async def fee_of(session: AsyncSession, trial_id: int) -> TrialFee | None:
    return (await session.scalars(select(TrialFee).where(col(TrialFee.trial_id) == trial_id))).first()


async def piece_of(session: AsyncSession, trial_id: int) -> TrialPiece | None:
    return (await session.scalars(select(TrialPiece).where(col(TrialPiece.trial_id) == trial_id))).first()


def clean_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise Invalid(_("Please check the form."), {"note": at_most(MAX_NOTE)})
    return note


async def _record(
    session: AsyncSession,
    settings: Settings,
    *,
    trial: Trial,
    fee: TrialFee,
    status: FeeStatus,
    by: StaffUser,
    note: str,
    now: datetime,
) -> None:
    """The step's event on the application's timeline and its webhook event, in this transaction."""
    data: dict[str, Any] = {
        "trial_id": trial.id,
        "fee_id": fee.id,
        "status": status.value,
        "amount_minor": fee.amount_minor,
        "currency": fee.currency,
    }
    session.add(
        Event(
            application_id=trial.application_id,
            kind=EVENT_KIND,
            actor="finance" if status != FeeStatus.agreed else "editor",
            actor_user_id=by.id,
            message=note or None,
            data=data,
            created_at=now,
        )
    )
    amount = money.plain(fee.amount_minor, fee.currency)
    await events.trial_event(
        session,
        settings,
        trial=trial,
        name=events.FEE_STATUS_CHANGED,
        data={
            "fee": {"status": status.value, "amount": amount, "currency": fee.currency},
            "actor_user_id": by.id,
        },
        now=now,
    )


async def accept_for_payment(
    session: AsyncSession, settings: Settings, *, trial_id: int, by: StaffUser, note: str, now: datetime
) -> TrialFee:
    """Record the fee of a piece that is in as agreed (409 if it is not in, unpaid, or already has a fee)."""
    if not can_agree(by):
        raise Forbidden(N_("Only editors accept a trial piece for payment."))
    note = clean_note(note)
    trial = await _trial(session, trial_id)
    if trial.state != TrialState.submitted:
        raise Conflict(N_("The piece is not in: a fee can be agreed once the applicant has sent it."))
    amount = amount_for(trial, await piece_of(session, trial_id))
    if amount is None:
        raise Conflict(N_("This trial is unpaid: it has no fee."))
    if await fee_of(session, trial_id) is not None:
        raise Conflict(N_("This piece was accepted for payment already."))
    fee = TrialFee(
        trial_id=trial_id,
        amount_minor=amount,
        currency=trial.currency,
        status=FeeStatus.agreed,
        agreed_at=now,
        agreed_by_id=by.id,
        note=note,
    )
    try:
        async with session.begin_nested():
            session.add(fee)
    except IntegrityError:
        raise Conflict(N_("This piece was accepted for payment already.")) from None
    await _record(session, settings, trial=trial, fee=fee, status=FeeStatus.agreed, by=by, note=note, now=now)
    await _tell_finance(session, settings, trial=trial, fee=fee, by=by, now=now)
    return fee


async def _tell_finance(
    session: AsyncSession, settings: Settings, *, trial: Trial, fee: TrialFee, by: StaffUser, now: datetime
) -> None:
    """Email every active finance person that a fee was agreed, in their own language."""
    applicant_name = await session.scalar(
        select(col(Applicant.name))
        .join(Application, col(Application.applicant_id) == col(Applicant.id))
        .where(col(Application.id) == trial.application_id)
    )
    people = await session.scalars(select(User).where(col(User.is_finance), col(User.is_active)))
    for person in people.all():
        with use_locale(person.locale or settings.default_locale, person.time_zone):
            amount = money.format_money(fee.amount_minor, fee.currency)
        await enqueue_for_staff(
            session,
            settings=settings,
            template="staff_fee_agreed",
            user=person,
            dedupe_key=f"fee-agreed:{fee.id}:{person.id}",
            context={
                "applicant_name": applicant_name or "",
                "editor_name": by.name,
                "amount": amount,
                "topic": trial.topic[:200],
                "fees_url": links.absolute(settings, "fees"),
                "application_url": links.absolute(
                    settings, "application", application_id=trial.application_id
                ),
            },
            application_id=trial.application_id,
            now=now,
        )


def parse_status(value: str) -> FeeStatus | None:
    try:
        return FeeStatus(value)
    except ValueError:
        return None


async def move_fee(
    session: AsyncSession,
    settings: Settings,
    *,
    trial_id: int,
    seen: FeeStatus,
    to: FeeStatus,
    by: StaffUser,
    note: str,
    now: datetime,
) -> TrialFee:
    """Move the fee from `seen` (the status the person saw) to the next one; 409 if it moved meanwhile."""
    if not can_move(by):
        raise Forbidden(N_("Only finance people and admins move a fee on."))
    if NEXT.get(seen) != to:
        raise Conflict(N_("A fee moves one step at a time: agreed, invoiced, approved, paid."))
    note = clean_note(note)
    trial = await _trial(session, trial_id)
    fee = await fee_of(session, trial_id)
    if fee is None:
        raise NotFound(N_("This trial has no fee yet."))
    by_column, at_column = STEP_COLUMNS[to]
    values: dict[str, Any] = {"status": to.value, by_column: by.id, at_column: now}
    if note:
        values["note"] = note
    moved = await session.execute(
        update(TrialFee)
        .where(col(TrialFee.id) == fee.id, col(TrialFee.status) == seen.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("Someone else moved this fee first: reload the page to see where it stands."))
    await session.refresh(fee)
    await _record(session, settings, trial=trial, fee=fee, status=to, by=by, note=note, now=now)
    return fee


# --- what pages show ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    status: str
    label: str
    who: str
    at: datetime | None


async def steps(session: AsyncSession, fee: TrialFee) -> list[Step]:
    """Each status the fee reached, with who moved it there and when."""
    ids = {getattr(fee, by) for by, _at in STEP_COLUMNS.values()} - {None}
    names = dict(
        (await session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(ids)))).all()
    )
    found = []
    for status, (by, at) in STEP_COLUMNS.items():
        when = getattr(fee, at)
        if when is not None:
            found.append(Step(status.value, status_label(status), names.get(getattr(fee, by), "—"), when))
    return found


async def panel(session: AsyncSession, trial: Trial, staff: StaffUser) -> dict[str, Any]:
    """What `templates/trials/_fee.html` shows: the fee and its steps, or what accepting would record."""
    assert trial.id is not None
    fee = await fee_of(session, trial.id)
    proposed = None if fee else amount_for(trial, await piece_of(session, trial.id))
    next_status = NEXT.get(FeeStatus(fee.status)) if fee else None
    return {
        "fee": fee,
        "fee_amount": money.format_money(fee.amount_minor, fee.currency) if fee else "",
        "fee_status": status_label(fee.status) if fee else "",
        "fee_steps": await steps(session, fee) if fee else [],
        "fee_next": next_status.value if next_status else None,
        "fee_next_label": _(STEP_LABELS[FeeStatus(fee.status)]) if fee and next_status else "",
        "fee_proposed": money.format_money(proposed, trial.currency) if proposed is not None else "",
        "fee_unpaid": trial.fee_kind == FeeKind.unpaid,
        "fee_can_agree": can_agree(staff) and trial.state == TrialState.submitted and fee is None,
        "fee_can_move": can_move(staff) and next_status is not None,
    }


async def trial_of(session: AsyncSession, fee: TrialFee) -> Trial:
    return await _trial(session, fee.trial_id)
