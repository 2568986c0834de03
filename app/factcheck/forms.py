"""Input of the fact-check task forms (the task page and a move to fact check), checked before any service."""

from __future__ import annotations

from datetime import UTC, datetime, time

from litestar.datastructures import FormMultiDict

from app.core.forms import FormFields
from app.core.i18n import N_
from app.factcheck.service import TaskInput, split_claims

CLAIMS_LIMIT = 100_000
CHECK_FIELDS = N_("Please correct the fields marked below.")


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


def task_fields(fields: FormFields, ticked: list[str]) -> TaskInput:
    return TaskInput(
        assignee_id=fields.integer("task_assignee"),
        sample_id=fields.integer("task_sample"),
        claims=[*ticked, *split_claims(fields.text("task_claims", limit=CLAIMS_LIMIT))],
        due_at=_due_date(fields),
    )


def check_task(fields: FormFields) -> None:
    fields.check(N_("The due date is not a date.") if "task_due" in fields.errors else CHECK_FIELDS)


def new_task_input(form: FormMultiDict) -> TaskInput:
    """A task from the fact-check task form: the ticked sentences and the typed claims, one per line."""
    fields = FormFields(form)
    ticked = [" ".join(sentence.split()) for sentence in fields.values("sentence")]
    task = task_fields(fields, [claim for claim in ticked if claim])
    check_task(fields)
    return task
