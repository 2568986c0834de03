"""Input of the application page's forms, checked before any service sees it."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import FormMultiDict

from app.core.forms import FormFields
from app.core.i18n import N_
from app.core.limits import MESSAGE_LIMIT, REASON_LIMIT
from app.core.moves import version_of
from app.factcheck.forms import CHECK_FIELDS, check_task, task_fields
from app.factcheck.service import TaskInput
from app.models import Recommendation, State
from app.review.service import CRITERIA

COMMENT_LIMIT = 10_000
LABELS_LIMIT = 2_000


@dataclass(frozen=True)
class MoveInput:
    to: State
    version: int | None
    message: str
    reason: str
    task: TaskInput | None


def move_input(form: FormMultiDict) -> MoveInput:
    """A workflow move, with the fact-check task a move to fact check may bring (None when left empty)."""
    fields = FormFields(form)
    to = fields.choice("to", list(State), message=N_("Unknown move."))
    fields.check(N_("Choose one of the moves shown."))
    target = State(to)
    version = version_of(form)
    message = fields.text("message", limit=MESSAGE_LIMIT)
    reason = fields.text("reason", limit=REASON_LIMIT)
    task = task_fields(fields, []) if target == State.fact_check else None
    if task is not None and not task.claims and task.assignee_id is None:
        task = None  # the optional task left empty
    check_task(fields)
    return MoveInput(to=target, version=version, message=message, reason=reason, task=task)


@dataclass(frozen=True)
class ScoreInput:
    marks: dict[str, int]
    recommendation: str
    comment: str


def score_input(form: FormMultiDict) -> ScoreInput:
    fields = FormFields(form)
    marks: dict[str, int] = {}
    for criterion in CRITERIA:
        mark = fields.integer(criterion, message=N_("Give a mark from 1 to 5."), low=1, high=5)
        if mark is not None:
            marks[criterion] = mark
    recommendation = fields.choice(
        "recommendation",
        list(Recommendation),
        message=N_("Choose a recommendation."),
        default=Recommendation.undecided,
    )
    comment = fields.text("comment", limit=COMMENT_LIMIT)
    fields.check(N_("The score is not complete."))
    return ScoreInput(marks, recommendation, comment)


def assignee_input(form: FormMultiDict, me: int) -> int | None:
    """The chosen editor: an id, `me`, or nobody."""
    fields = FormFields(form)
    value = fields.raw("assignee")
    if value == "me":
        return me
    if value in ("", "none"):
        return None
    chosen = fields.integer("assignee", message=N_("Choose an editor."))
    fields.check(N_("Choose an editor."))
    return chosen


def labels_input(form: FormMultiDict) -> list[str]:
    """Labels typed as a comma-separated list, plus any ticked."""
    fields = FormFields(form)
    typed = fields.text("labels", limit=LABELS_LIMIT).split(",")
    fields.check(CHECK_FIELDS)
    return [name for name in [*fields.values("label"), *typed] if name.strip()]


def note_input(form: FormMultiDict) -> str:
    """An internal note as typed (the service checks it: the API sends notes too)."""
    return FormFields(form).raw("note")
