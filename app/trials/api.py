"""The JSON API's trial routes: an application's trials with the brief, the piece, its checks and the fee, and
a fee's next step (finance people and admins, with the same rules as the pages). Registered under /api/v1 by
app/api/routes.py."""

from __future__ import annotations

from litestar import get, post
from litestar.params import JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.guards import CurrentStaff, finance_or_admin, role_required
from app.api import schemas
from app.api.openapi import problems
from app.api.params import PathId
from app.api.strict import desk_rules
from app.core import money
from app.core.moves import load_application
from app.core.web import AppClock, AppSettings, DbSession
from app.models import FeeKind, FeeStatus, Trial, TrialFee, TrialPiece, TrialState, User
from app.trials import fees

readers = role_required("editor", "finance", "admin")


def _amount(minor: int | None, currency: str) -> str | None:
    return money.plain(minor, currency) if minor is not None else None


def _brief(trial: Trial) -> schemas.TrialBrief:
    unpaid = trial.fee_kind == FeeKind.unpaid
    return schemas.TrialBrief(
        locale=trial.locale,
        topic=trial.topic,
        sources=trial.sources,
        style_notes=trial.style_notes,
        min_words=trial.min_words,
        max_words=trial.max_words,
        deadline_at=trial.deadline_at,
        deadline_firm=trial.deadline_firm,
        fee_kind=FeeKind(trial.fee_kind),
        fee_amount=None if unpaid else _amount(trial.fee_amount_minor, trial.currency),
        fee_cap=None if unpaid else _amount(trial.fee_cap_minor, trial.currency),
        currency=trial.currency,
    )


def _piece(piece: TrialPiece | None) -> schemas.TrialPieceOut | None:
    if piece is None or piece.id is None:
        return None
    return schemas.TrialPieceOut(
        id=piece.id,
        kind="file" if piece.kind == "file" else "text",
        text=piece.text,
        word_count=piece.word_count,
        is_final=piece.is_final,
        submitted_at=piece.submitted_at,
        file_name=piece.file_name,
        content_type=piece.content_type,
        size_bytes=piece.size_bytes,
        sha256=piece.sha256,
        checks=dict(piece.checks or {}),
    )


async def _fee(session: AsyncSession, fee: TrialFee | None) -> schemas.TrialFeeOut | None:
    if fee is None or fee.id is None:
        return None
    ids = {getattr(fee, by) for by, _ in fees.STEP_COLUMNS.values()} - {None}
    names = dict(
        (await session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(ids)))).all()
    )
    steps = []
    for status, (by, at) in fees.STEP_COLUMNS.items():
        when, who = getattr(fee, at), getattr(fee, by)
        if when is not None:
            person = schemas.Person(id=who, name=names.get(who, "")) if who is not None else None
            steps.append(schemas.TrialFeeStep(status=status, by=person, at=when))
    return schemas.TrialFeeOut(
        id=fee.id,
        trial_id=fee.trial_id,
        status=FeeStatus(fee.status),
        amount=money.plain(fee.amount_minor, fee.currency),
        amount_minor=fee.amount_minor,
        currency=fee.currency,
        note=fee.note,
        steps=steps,
    )


async def trial_out(session: AsyncSession, trial: Trial) -> schemas.TrialOut:
    assert trial.id is not None
    return schemas.TrialOut(
        id=trial.id,
        application_id=trial.application_id,
        state=TrialState(trial.state),
        brief=_brief(trial),
        created_at=trial.created_at,
        submitted_at=trial.submitted_at,
        late=trial.late,
        declined_at=trial.declined_at,
        piece=_piece(await fees.piece_of(session, trial.id)),
        fee=await _fee(session, await fees.fee_of(session, trial.id)),
    )


@get(
    "/applications/{application_id:int}/trials",
    name="api_trials",
    responses=problems(404),
    guards=[readers],
    summary="An application's trials",
)
async def trials(session: DbSession, application_id: PathId) -> list[schemas.TrialOut]:
    """Every trial offered to the application, newest first: the brief, the piece with its checks, the fee."""
    await load_application(session, application_id)  # 404 when there is none
    found = await session.scalars(
        select(Trial).where(col(Trial.application_id) == application_id).order_by(col(Trial.id).desc())
    )
    return [await trial_out(session, trial) for trial in found.all()]


@post(
    "/trials/{trial_id:int}/fee/status",
    name="api_trial_fee_move",
    responses=problems(400, 404, 409, 415),
    guards=[finance_or_admin],
    summary="Move a trial fee one step on",
)
async def move_fee(
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    trial_id: PathId,
    data: JSONBody[schemas.FeeMoveIn],
) -> schemas.TrialFeeOut:
    """Move the fee from `current` to `status` (invoiced, approved, paid), recording who and when.

    409 when the fee is no longer at `current` (someone moved it first); 404 for a trial without a fee.
    """
    with desk_rules():
        fee = await fees.move_fee(
            session,
            settings,
            trial_id=trial_id,
            seen=data.current,
            to=FeeStatus(data.status),
            by=staff,
            note=" ".join(data.note.split()),
            now=clock(),
        )
    out = await _fee(session, fee)
    assert out is not None
    return out


ROUTES = [trials, move_fee]
