"""What the JSON API takes and gives: msgspec structs, so that the OpenAPI document says exactly this.

Every limit of the HTML forms is written here too (lengths, counts, id ranges), so that a client reading the
schema knows them and out-of-range input is a 422 before it reaches a service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from app.factcheck.service import MAX_CLAIM_CHARS, MAX_CLAIMS
from app.factcheck.work import MAX_NOTE, MAX_SOURCES, MAX_SUMMARY, MAX_URL
from app.models import EmailStatus, State, TaskState, Verdict
from app.review.forms import MESSAGE_LIMIT, REASON_LIMIT

MAX_ID = 2**31 - 1
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]
# Due dates need their time zone: a naive time could be read as any.
AwareDatetime = Annotated[datetime, Meta(tz=True)]
Role = Literal["admin", "editor", "fact_checker"]
# The queue's sort orders (app/review/queue.py SORTS).
Sort = Literal["due", "waited", "newest", "oldest", "name"]


class Problem(Struct):
    """An error, as RFC 9457 problem details; `errors` names the fields at fault."""

    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, str] | None = None


class Me(Struct):
    id: int
    name: str
    email: str
    roles: list[Role]


class WorkflowMove(Struct):
    source: State
    target: State
    label: str
    actor: Literal["editor", "applicant", "system"]
    role: str | None
    message_required: bool
    reason_required: bool


# --- the queue ------------------------------------------------------------------------------------------


class QueueItem(Struct):
    id: int
    name: str
    email: str
    state: State
    state_label: str
    created_at: datetime
    state_changed_at: datetime
    due_at: datetime | None
    overdue: bool
    is_repeat: bool
    assignee: str | None
    departments: list[str]
    topics: list[str]
    labels: list[str]
    tasks_open: int
    tasks_total: int


class ApplicationList(Struct):
    items: list[QueueItem]
    page: int
    has_next: bool
    counts: dict[str, int]
    # True when the counts stopped at the queue's cap (a wide filter over a large archive).
    counts_capped: bool
    # True when the search matched more than the queue lists: only the best matches are there.
    search_capped: bool


# --- one application ------------------------------------------------------------------------------------


class Applicant(Struct):
    name: str
    email: str
    phone: str | None
    city: str
    country: str
    links: list[str]


class Person(Struct):
    id: int
    name: str


class Sample(Struct):
    id: int
    position: int
    kind: Literal["file", "link", "text"]
    title: str
    url: str | None
    file_name: str | None
    content_type: str | None
    size_bytes: int | None
    word_count: int | None
    # Files: where staff download them (with a browser session); links and pasted text have none.
    download_path: str | None


class TimelineEntry(Struct):
    at: datetime
    kind: str
    who: str
    text: str
    detail: str
    is_public: bool
    email_status: EmailStatus | None


class Note(Struct):
    at: datetime
    author: str
    text: str


class TaskSummary(Struct):
    id: int
    state: TaskState
    assignee_id: int
    assignee: str
    due_at: datetime
    created_at: datetime
    completed_at: datetime | None
    overall_verdict: Verdict | None


class MoveOption(Struct):
    """A move the token's owner may make now (`allowed`), or why not (`problems`)."""

    to: State
    label: str
    allowed: bool
    problems: list[str]
    message_required: bool
    reason_required: bool


class ApplicationDetail(Struct):
    id: int
    state: State
    state_label: str
    version: int
    created_at: datetime
    state_changed_at: datetime
    due_at: datetime | None
    overdue: bool
    decided_at: datetime | None
    is_repeat: bool
    applicant: Applicant
    motivation: str
    experience: str
    availability: str
    departments: list[str]
    topics: list[str]
    labels: list[str]
    assignee: Person | None
    earlier_applications: list[int]
    samples: list[Sample]
    tasks: list[TaskSummary]
    moves: list[MoveOption]
    notes: list[Note]
    timeline: list[TimelineEntry]


# --- writing --------------------------------------------------------------------------------------------

ClaimText = Annotated[str, Meta(min_length=1, max_length=MAX_CLAIM_CHARS)]


class TaskIn(Struct, forbid_unknown_fields=True):
    """A fact-check task: the fact-checker, the claims (a string each), optionally the sample and due time."""

    assignee_id: Id
    claims: Annotated[list[ClaimText], Meta(min_length=1, max_length=MAX_CLAIMS)]
    sample_id: Id | None = None
    due_at: AwareDatetime | None = None


class MoveIn(Struct, forbid_unknown_fields=True):
    """One workflow move; `version`: the application's version the client last read (409 if it changed)."""

    to: State
    version: Id | None = None
    message: Annotated[str, Meta(max_length=MESSAGE_LIMIT)] = ""
    reason: Annotated[str, Meta(max_length=REASON_LIMIT)] = ""
    task: TaskIn | None = None


class MoveOut(Struct):
    application_id: int
    from_state: State
    to_state: State
    version: int
    event_id: int
    at: datetime


class NoteIn(Struct, forbid_unknown_fields=True):
    text: Annotated[str, Meta(min_length=1, max_length=10_000)]


# --- fact-check tasks -----------------------------------------------------------------------------------


class TaskRow(Struct):
    id: int
    state: TaskState
    due_at: datetime
    created_at: datetime
    completed_at: datetime | None
    overall_verdict: Verdict | None
    sample_title: str | None
    assignee: str
    claims: int


class MyTasks(Struct):
    overdue: list[TaskRow]
    due_soon: list[TaskRow]
    later: list[TaskRow]
    completed: list[TaskRow]
    # Editors: the tasks they created (open, or completed lately).
    created: list[TaskRow]


class ClaimOut(Struct):
    id: int
    position: int
    quote: str
    verdict: Verdict | None
    sources: list[str]
    note: str


class SampleRef(Struct):
    id: int
    title: str
    kind: Literal["file", "link", "text"]


class TaskDetail(Struct):
    id: int
    application_id: int
    state: TaskState
    due_at: datetime
    created_at: datetime
    completed_at: datetime | None
    assignee: Person
    creator: Person | None
    overall_verdict: Verdict | None
    summary: str
    sample: SampleRef | None
    claims: list[ClaimOut]


SourceUrl = Annotated[str, Meta(min_length=1, max_length=MAX_URL)]


class ClaimWorkIn(Struct, forbid_unknown_fields=True):
    claim_id: Id
    verdict: Verdict | None = None
    sources: Annotated[list[SourceUrl], Meta(max_length=MAX_SOURCES)] = []
    note: Annotated[str, Meta(max_length=MAX_NOTE)] = ""


class TaskWorkIn(Struct, forbid_unknown_fields=True):
    """Verdicts for the task's claims; `complete: true` closes it (every claim and the whole need one)."""

    claims: Annotated[list[ClaimWorkIn], Meta(max_length=MAX_CLAIMS)] = []
    overall_verdict: Verdict | None = None
    summary: Annotated[str, Meta(max_length=MAX_SUMMARY)] = ""
    complete: bool = False


# --- the outbox -----------------------------------------------------------------------------------------


class OutboxItem(Struct):
    id: int
    created_at: datetime
    recipient: str
    template: str
    status: EmailStatus
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    application_id: int | None
    applicant_name: str | None


class OutboxList(Struct):
    items: list[OutboxItem]
    # Pass as `before` for the next (older) page; null on the last page.
    next_before: int | None
    counts: dict[str, int]
