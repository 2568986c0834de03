"""Input of the application page's forms and the fact-check task form, checked before any service sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from litestar.datastructures import FormMultiDict

from app.core.errors import Conflict
from app.core.forms import FormFields, int_or_none
from app.core.i18n import N_
from app.factcheck.service import TaskInput, split_claims
from app.models import Recommendation, State
from app.review.service import CRITERIA

MESSAGE_LIMIT = 20_000
REASON_LIMIT = 2_000
COMMENT_LIMIT = 10_000
LABELS_LIMIT = 2_000
CLAIMS_LIMIT = 100_000
CHECK_FIELDS = N_("Please correct the fields marked below.")


def version_of(form: FormMultiDict) -> int:
    """The application version the form was rendered from; a form without one is refused."""
    version = int_or_none(form.get("version"))
    if version is None:
        raise Conflict(
            N_(
                "This form does not say which version of the application it was made from, so nothing was "
                "saved. Reload the page and try again."
            )
        )
    return version


@dataclass(frozen=True)
class MoveInput:
    to: State
    version: int | None
    message: str
    reason: str
    task: TaskInput | None


def _due_date(fields: FormFields) -> datetime | None:
    value = fields.raw("task_due").strip()
    if not value:
        return None
    try:
        day = datetime.strptime(value[:20], "%Y-%m-%d").date()
    except ValueError:
        fields.fail("task_due", N_("Pick a date."))
        return None
    return datetime.combine(day, time(17, 0), tzinfo=UTC)


def _task(fields: FormFields, ticked: list[str]) -> TaskInput:
    return TaskInput(
        assignee_id=fields.integer("task_assignee"),
        sample_id=fields.integer("task_sample"),
        claims=[*ticked, *split_claims(fields.text("task_claims", limit=CLAIMS_LIMIT))],
        due_at=_due_date(fields),
    )


def _check_task(fields: FormFields) -> None:
    fields.check(N_("The due date is not a date.") if "task_due" in fields.errors else CHECK_FIELDS)


def new_task_input(form: FormMultiDict) -> TaskInput:
    """A task from the fact-check task form: the ticked sentences and the typed claims, one per line."""
    fields = FormFields(form)
    ticked = [" ".join(sentence.split()) for sentence in fields.values("sentence")]
    task = _task(fields, [claim for claim in ticked if claim])
    _check_task(fields)
    return task


def move_input(form: FormMultiDict) -> MoveInput:
    """A workflow move, with the fact-check task a move to fact check may bring (None when left empty)."""
    fields = FormFields(form)
    to = fields.choice("to", list(State), message=N_("Unknown move."))
    fields.check(N_("Choose one of the moves shown."))
    target = State(to)
    version = version_of(form)
    message = fields.text("message", limit=MESSAGE_LIMIT)
    reason = fields.text("reason", limit=REASON_LIMIT)
    task = _task(fields, []) if target == State.fact_check else None
    if task is not None and not task.claims and task.assignee_id is None:
        task = None  # the optional task left empty
    _check_task(fields)
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
