"""The trial panel on the editors' application page: the brief, the piece and what each part adds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.i18n import N_, current_time_zone
from app.core.staff import StaffUser
from app.models import Application, State, Trial, TrialPiece, TrialState, User, utcnow
from app.settings import Settings
from app.trials import brief, fact_check, fees, scores
from app.trials.piece import piece_text, words_problem

TRIAL_STATES = {
    TrialState.offered: N_("Offered"),
    TrialState.submitted: N_("Piece in"),
    TrialState.declined: N_("Declined by the applicant"),
    TrialState.cancelled: N_("Cancelled"),
}


async def _names(session: AsyncSession, *ids: int | None) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(wanted)))
    return {user_id: name for user_id, name in rows.all() if user_id is not None}


async def editor_panel(
    session: AsyncSession,
    settings: Settings,
    application: Application,
    staff: StaffUser,
    *,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """What `templates/trials/_panel.html` shows for the application's latest trial; None without one."""
    trial = (
        await session.scalars(
            select(Trial)
            .where(col(Trial.application_id) == application.id)
            .order_by(col(Trial.id).desc())
            .limit(1)
        )
    ).first()
    if trial is None:
        return None
    now = now or utcnow()
    piece = (await session.scalars(select(TrialPiece).where(col(TrialPiece.trial_id) == trial.id))).first()
    names = await _names(session, trial.fact_checker_id, trial.offered_by_id)
    running = trial.state == TrialState.offered and application.state == State.trial
    sent = piece if piece is not None and piece.is_final else None
    context: dict[str, Any] = {
        "trial": trial,
        "piece": piece,
        "trial_view": {
            "state_label": TRIAL_STATES.get(TrialState(trial.state), trial.state),
            "running": running,
            "fee": brief.fee_text(trial),
            "time_left": brief.time_left(trial.deadline_at, now),
            "checker_name": names.get(trial.fact_checker_id) if trial.fact_checker_id else None,
            "offered_by": names.get(trial.offered_by_id) if trial.offered_by_id else None,
            "extend_value": brief.local_input(
                max(trial.deadline_at, now) + timedelta(days=2), current_time_zone()
            ),
            "time_zone": current_time_zone(),
            "sent": sent,
            "text": piece_text(sent) if sent is not None else "",
            "words_problem": words_problem(trial, sent.word_count) if sent is not None else None,
            "has_draft": piece is not None and not piece.is_final,
        },
    }
    context.update(await fact_check.panel(session, trial, piece, staff))
    context.update(await scores.panel(session, trial, staff))
    context.update(await fees.panel(session, trial, staff))
    return context
