"""The trial rubric: accuracy of facts, analysis, concision, interest, meeting the brief (1-5 each).

Each editor has one score per trial (re-scoring updates it); the panel shows everyone's with the averages and,
beside them, the averages of the application's sample scores on the criteria the two rubrics share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar.datastructures import FormMultiDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import Conflict
from app.core.forms import FormFields
from app.core.i18n import N_
from app.core.moves import check_version
from app.core.staff import StaffUser
from app.models import Application, Event, Score, Trial, TrialScore, TrialState, User

CRITERIA = ("fact_accuracy", "analysis", "concision", "interest", "brief_fit")
CRITERION_NAMES = {
    "fact_accuracy": N_("Accuracy of facts"),
    "analysis": N_("Analysis"),
    "concision": N_("Concision"),
    "interest": N_("Interest"),
    "brief_fit": N_("Meeting the brief"),
}
# The sample rubric's criterion each trial criterion is compared with (none for meeting the brief).
SAMPLE_CRITERION = {
    "fact_accuracy": "fact_accuracy",
    "analysis": "analysis",
    "concision": "concision",
    "interest": "interest_style",
}


def marks_input(form: FormMultiDict) -> dict[str, int]:
    """The five marks of the trial score form; Invalid with a message at each one missing or out of 1-5."""
    fields = FormFields(form)
    marks: dict[str, int] = {}
    for criterion in CRITERIA:
        mark = fields.integer(criterion, message=N_("Give a mark from 1 to 5."), low=1, high=5)
        if mark is not None:
            marks[criterion] = mark
    fields.check(N_("The score is not complete."))
    return marks


async def save_score(
    session: AsyncSession,
    *,
    application: Application,
    trial: Trial,
    by: StaffUser,
    marks: dict[str, int],
    expected_version: int,
    now: datetime,
) -> TrialScore:
    """Record or update this editor's trial score, if the application is still the version they scored."""
    await check_version(session, application, expected_version)
    if trial.state != TrialState.submitted:
        raise Conflict(N_("The trial piece has not arrived yet: there is nothing to score."))
    assert trial.id is not None and application.id is not None
    score = (
        await session.scalars(
            select(TrialScore).where(col(TrialScore.trial_id) == trial.id, col(TrialScore.user_id) == by.id)
        )
    ).first()
    if score is None:
        score = TrialScore(
            trial_id=trial.id,
            user_id=by.id,
            fact_accuracy=0,
            analysis=0,
            concision=0,
            interest=0,
            brief_fit=0,
            created_at=now,
        )
    for name, value in marks.items():
        setattr(score, name, value)
    score.updated_at = now
    session.add(score)
    average = sum(marks.values()) / len(marks)
    session.add(
        Event(
            application_id=application.id,
            kind="trial_scored",
            actor="editor",
            actor_user_id=by.id,
            message=f"Scored the trial piece {average:.1f} of 5",
            data={"trial_id": trial.id, "average": round(average, 2), "marks": marks},
            created_at=now,
        )
    )
    await session.flush()
    return score


@dataclass(frozen=True)
class ScoreRow:
    name: str
    marks: dict[str, int]
    average: float


def _average(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


async def panel(session: AsyncSession, trial: Trial, staff: StaffUser) -> dict[str, Any]:
    """Everyone's trial scores with the averages, this editor's own, and the sample scores' averages."""
    rows = (
        await session.execute(
            select(TrialScore, col(User.name))
            .join(User, col(User.id) == col(TrialScore.user_id))
            .where(col(TrialScore.trial_id) == trial.id)
            .order_by(col(User.name), col(TrialScore.id))
        )
    ).all()
    scores = [
        ScoreRow(
            name=name,
            marks={c: getattr(score, c) for c in CRITERIA},
            average=sum(getattr(score, c) for c in CRITERIA) / len(CRITERIA),
        )
        for score, name in rows
    ]
    mine = next((score for score, _ in rows if score.user_id == staff.id), None)
    averages = {c: _average([float(row.marks[c]) for row in scores]) for c in CRITERIA}
    samples = (
        await session.scalars(select(Score).where(col(Score.application_id) == trial.application_id))
    ).all()
    sample_averages = {
        c: _average([float(getattr(score, SAMPLE_CRITERION[c])) for score in samples])
        if c in SAMPLE_CRITERION
        else None
        for c in CRITERIA
    }
    sample_criteria = ("analysis", "fact_accuracy", "concision", "interest_style", "topic_knowledge")
    return {
        "trial_criteria": CRITERIA,
        "trial_criterion_names": CRITERION_NAMES,
        "trial_scores": scores,
        "trial_averages": averages,
        "trial_overall": _average([row.average for row in scores]),
        "my_trial_score": {c: getattr(mine, c) for c in CRITERIA} if mine else None,
        "sample_score_count": len(samples),
        "sample_averages": sample_averages,
        "sample_overall": _average([float(getattr(score, c)) for score in samples for c in sample_criteria]),
        "can_score_trial": staff.is_editor and trial.state == TrialState.submitted,
    }
