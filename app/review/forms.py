"""Input of the application page's forms, checked before any service sees it."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import FormMultiDict

from app.core.errors import Invalid
from app.core.forms import int_or_none
from app.core.i18n import N_
from app.core.limits import MESSAGE_LIMIT, REASON_LIMIT
from app.core.moves import version_of
from app.factcheck.service import TaskInput, due_date, split_claims
from app.models import Recommendation, State
from app.review.service import CRITERIA


def _text(form: FormMultiDict, key: str, limit: int) -> str:
    return str(form.get(key) or "")[:limit]


@dataclass(frozen=True)
class MoveInput:
    to: State
    version: int | None
    message: str
    reason: str
    task: TaskInput | None


def task_input(form: FormMultiDict) -> TaskInput | None:
    """The optional fact-check task sent with a move to fact check (None when left empty)."""
    claims = split_claims(_text(form, "task_claims", 100_000))
    assignee = int_or_none(form.get("task_assignee"))
    if not claims and assignee is None:
        return None
    return TaskInput(
        assignee_id=assignee,
        sample_id=int_or_none(form.get("task_sample")),
        claims=claims,
        due_at=due_date(_text(form, "task_due", 20)),
    )


def move_input(form: FormMultiDict) -> MoveInput:
    try:
        target = State(str(form.get("to") or ""))
    except ValueError:
        raise Invalid(N_("Choose one of the moves shown."), {"to": N_("Unknown move.")}) from None
    return MoveInput(
        to=target,
        version=version_of(form),
        message=_text(form, "message", MESSAGE_LIMIT),
        reason=_text(form, "reason", REASON_LIMIT),
        task=task_input(form) if target == State.fact_check else None,
    )


@dataclass(frozen=True)
class ScoreInput:
    marks: dict[str, int]
    recommendation: str
    comment: str


def score_input(form: FormMultiDict) -> ScoreInput:
    marks: dict[str, int] = {}
    errors: dict[str, str] = {}
    for criterion in CRITERIA:
        value = int_or_none(form.get(criterion))
        if value is None or not 1 <= value <= 5:
            errors[criterion] = N_("Give a mark from 1 to 5.")
        else:
            marks[criterion] = value
    recommendation = str(form.get("recommendation") or Recommendation.undecided)
    if recommendation not in set(Recommendation):
        errors["recommendation"] = N_("Choose a recommendation.")
    comment = _text(form, "comment", 10_000)
    if errors:
        raise Invalid(N_("The score is not complete."), errors)
    return ScoreInput(marks, recommendation, comment)


def assignee_input(form: FormMultiDict, me: int) -> int | None:
    """The chosen editor: an id, `me`, or nobody."""
    value = str(form.get("assignee") or "")
    if value == "me":
        return me
    if value in ("", "none"):
        return None
    chosen = int_or_none(value)
    if chosen is None:
        raise Invalid(N_("Choose an editor."), {"assignee": N_("Choose an editor.")})
    return chosen


def labels_input(form: FormMultiDict) -> list[str]:
    """Labels typed as a comma-separated list, plus any ticked."""
    typed = _text(form, "labels", 2_000).split(",")
    ticked = [str(v) for v in form.getall("label")] if "label" in form else []
    return [name for name in [*ticked, *typed] if name.strip()]
