"""What the JSON API takes and gives: msgspec structs, so that the OpenAPI document says exactly this.

Every limit of the HTML forms is written here too (lengths, counts, id ranges, patterns), so that a client
reading the schema knows them and input that does not fit is a 422 before it reaches a service. The rules that
tie one field to another (a reason for a rejection, verdicts to complete a task) are each body's `problems()`,
and `RULES` states the same rules in the document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from app.core import workflow
from app.core.limits import (
    MAX_CLAIM_CHARS,
    MAX_CLAIMS,
    MAX_NOTE,
    MAX_SOURCES,
    MAX_SUMMARY,
    MAX_URL,
    MESSAGE_LIMIT,
    REASON_LIMIT,
)
from app.models import EmailStatus, FeeKind, FeeStatus, State, TaskState, TrialState, Verdict

MAX_ID = 2**31 - 1
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]
# Where the document's component schemas live (app/api/openapi.py writes them there).
REF = "#/components/schemas/{name}"

# Every character Python's str.isspace() and str.strip() treat as white space, spelled out so that any
# regular-expression engine (the document's readers, not only Python's) reads the same set.
WHITE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# PostgreSQL stores no NUL character in text, so no string the API takes may hold one.
NO_NUL = r"[^\x00]*"
# Some character that is not white space (the service strips white space and refuses what is left empty).
# One run of white space, then the first other character: linear time on any input.
NOT_BLANK = rf"[{WHITE}]*[^\x00{WHITE}][^\x00]*"
# http(s), a host and no white space or control character (a source is a single address).
_URL_CHAR = rf"[^\x00-\x20\x7f{WHITE}]"
SOURCE_URL = rf"[Hh][Tt][Tt][Pp][Ss]?://+[^/\x00-\x20\x7f{WHITE}]{_URL_CHAR}*"
# A due time in RFC 3339 with its offset (a naive time could be read as any), in the years 2000 to 2999, so
# that it always has a UTC equivalent.
DUE_AT = (
    r"2[0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)


def whole(pattern: str) -> str:
    """`pattern` over a whole string, ending at Python's `\\Z` (its `$` also matches before a final newline).

    The document writes `$`, the end of input in JSON Schema (app/api/openapi.py).
    """
    return rf"^(?:{pattern})\Z"


PLAIN = whole(NO_NUL)
# What each pattern asks for, in words (a 422 names the field with this rather than the expression).
PATTERN_HINTS = {
    PLAIN: "Remove the NUL character.",
    whole(NOT_BLANK): "Write some text (not only spaces), without NUL characters.",
    whole(SOURCE_URL): "Give one web address starting with http:// or https://, without spaces.",
    whole(DUE_AT): "Give a time with its offset, such as 2027-03-01T17:00:00Z, in the years 2000 to 2999.",
}
Message = Annotated[str, Meta(max_length=MESSAGE_LIMIT, pattern=PLAIN)]
Reason = Annotated[str, Meta(max_length=REASON_LIMIT, pattern=PLAIN)]
NoteText = Annotated[str, Meta(min_length=1, max_length=10_000, pattern=whole(NOT_BLANK))]
ClaimText = Annotated[str, Meta(min_length=1, max_length=MAX_CLAIM_CHARS, pattern=whole(NOT_BLANK))]
DueAt = Annotated[str, Meta(pattern=whole(DUE_AT), extra_json_schema={"format": "date-time"})]
SourceUrl = Annotated[str, Meta(min_length=1, max_length=MAX_URL, pattern=whole(SOURCE_URL))]
ClaimNote = Annotated[str, Meta(max_length=MAX_NOTE, pattern=PLAIN)]
Summary = Annotated[str, Meta(max_length=MAX_SUMMARY, pattern=PLAIN)]


Role = Literal["admin", "editor", "fact_checker", "finance"]
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
    # None for a link, and for a PDF whose words are not counted: still being read (`words_pending`), or
    # past the reading budget.
    word_count: int | None
    # Files: where staff download them (with a browser session); links and pasted text have none.
    download_path: str | None
    # A PDF sent with the form is counted just after it arrives; until then this is true.
    words_pending: bool = False


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
    assignee_id: int | None  # None: waiting at the desk for a fact-checker
    assignee: str | None
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


class TaskIn(Struct, forbid_unknown_fields=True):
    """A fact-check task: the fact-checker, the claims (a string each), optionally the sample and due time."""

    assignee_id: Id
    claims: Annotated[list[ClaimText], Meta(min_length=1, max_length=MAX_CLAIMS)]
    sample_id: Id | None = None
    due_at: DueAt | None = None

    def due(self) -> datetime | None:
        """The due time in UTC (the pattern leaves only impossible days such as 30 February to refuse)."""
        return datetime.fromisoformat(self.due_at).astimezone(UTC) if self.due_at else None

    def problems(self) -> dict[str, str]:
        try:
            self.due()
        except ValueError:
            return {"due_at": "This day does not exist."}
        return {}


def _editor_targets(flag: str) -> frozenset[State]:
    """The states an editor's move into needs a message or a reason (the same for every move into it)."""
    return frozenset(
        move.target for move in workflow.MOVES if move.actor == workflow.Actor.editor and getattr(move, flag)
    )


MESSAGE_REQUIRED = _editor_targets("message_required")
REASON_REQUIRED = _editor_targets("reason_required")


class MoveIn(Struct, forbid_unknown_fields=True):
    """One workflow move; `version`: the application's version the client last read (409 if it changed)."""

    to: State
    version: Id | None = None
    message: Message = ""
    reason: Reason = ""
    task: TaskIn | None = None

    def problems(self) -> dict[str, str]:
        found = {
            f"task.{name}": problem for name, problem in (self.task.problems() if self.task else {}).items()
        }
        if self.to in MESSAGE_REQUIRED and not self.message.strip():
            found["message"] = "This move needs a message to the applicant."
        if self.to in REASON_REQUIRED and not self.reason.strip():
            found["reason"] = "This move needs a reason (kept internal)."
        if self.task is not None and self.to != State.fact_check:
            found["task"] = "Only a move to fact check creates a task: leave the task out."
        return found


class MoveOut(Struct):
    application_id: int
    from_state: State
    to_state: State
    version: int
    event_id: int
    at: datetime


class NoteIn(Struct, forbid_unknown_fields=True):
    text: NoteText


# --- fact-check tasks -----------------------------------------------------------------------------------


class TaskRow(Struct):
    id: int
    state: TaskState
    due_at: datetime
    created_at: datetime
    completed_at: datetime | None
    overall_verdict: Verdict | None
    sample_title: str | None
    assignee: str | None  # None: waiting at the desk for a fact-checker
    claims: int


class MyTasks(Struct):
    overdue: list[TaskRow]
    due_soon: list[TaskRow]
    later: list[TaskRow]
    completed: list[TaskRow]
    # Editors: the tasks they created (open, or completed lately).
    created: list[TaskRow]
    # Open tasks waiting at the desk for any fact-checker to take (on the page: "Waiting for a fact-checker").
    desk: list[TaskRow] = []


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
    assignee: Person | None  # None: waiting at the desk for a fact-checker
    creator: Person | None
    overall_verdict: Verdict | None
    summary: str
    sample: SampleRef | None
    claims: list[ClaimOut]


class ClaimWorkIn(Struct, forbid_unknown_fields=True):
    claim_id: Id
    verdict: Verdict | None = None
    sources: Annotated[list[SourceUrl], Meta(max_length=MAX_SOURCES)] = []
    note: ClaimNote = ""


class TaskWorkIn(Struct, forbid_unknown_fields=True):
    """Verdicts for the task's claims; `complete: true` closes it (every claim and the whole need one)."""

    claims: Annotated[list[ClaimWorkIn], Meta(max_length=MAX_CLAIMS)] = []
    overall_verdict: Verdict | None = None
    summary: Summary = ""
    complete: bool = False

    def problems(self) -> dict[str, str]:
        if not self.complete:
            return {}
        found = {
            f"claims[{index}].verdict": "Give every claim a verdict before completing the task."
            for index, claim in enumerate(self.claims)
            if claim.verdict is None
        }
        if self.overall_verdict is None:
            found["overall_verdict"] = "Give an overall verdict before completing the task."
        return found


def _needs(field: str, targets: frozenset[State]) -> list[dict[str, Any]]:
    return [
        {
            "if": {"properties": {"to": {"const": target.value}}},
            "then": {"required": [field], "properties": {field: {"pattern": whole(NOT_BLANK)}}},
        }
        for target in sorted(targets)
    ]


_VERDICT = {"$ref": REF.format(name="Verdict")}
# What each body's problems() checks, in JSON Schema: the document adds them to the body's schema (`allOf`).
RULES: dict[str, list[dict[str, Any]]] = {
    "MoveIn": [
        *_needs("message", MESSAGE_REQUIRED),
        *_needs("reason", REASON_REQUIRED),
        {
            "if": {"properties": {"to": {"const": State.fact_check.value}}},
            "else": {"properties": {"task": {"type": "null"}}},
        },
    ],
    "FeeMoveIn": [
        {
            "if": {"properties": {"current": {"const": current}}},
            "then": {"properties": {"status": {"const": following}}},
        }
        for current, following in (("agreed", "invoiced"), ("invoiced", "approved"), ("approved", "paid"))
    ]
    + [{"properties": {"current": {"not": {"const": "paid"}}}}],
    "TaskWorkIn": [
        {
            "if": {"properties": {"complete": {"const": True}}, "required": ["complete"]},
            "then": {
                "required": ["overall_verdict"],
                "properties": {
                    "overall_verdict": _VERDICT,
                    "claims": {"items": {"required": ["verdict"], "properties": {"verdict": _VERDICT}}},
                },
            },
        }
    ],
}


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


# --- trials ---------------------------------------------------------------------------------------------

# An amount of money as a decimal with a dot and the currency's minor digits ("1500.50").
Amount = Annotated[str, Meta(pattern=r"^[0-9]+(\.[0-9]+)?$")]


class TrialBrief(Struct):
    """What the editor asked for: topic and angle, sources, words, style, the deadline and the fee terms."""

    locale: str
    topic: str
    sources: str
    style_notes: str
    min_words: int
    max_words: int
    deadline_at: datetime
    deadline_firm: bool
    fee_kind: FeeKind
    # Flat: the fee; per word: the rate per word (null for an unpaid trial).
    fee_amount: Amount | None
    # Per word: the most the fee can be (null: no cap).
    fee_cap: Amount | None
    currency: str


class TrialPieceOut(Struct):
    """The applicant's piece: a draft until `is_final`; `checks` as the arrival checks stored them."""

    id: int
    kind: Literal["file", "text"]
    text: str | None
    word_count: int | None
    is_final: bool
    submitted_at: datetime | None
    file_name: str | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    checks: dict[str, Any]


class TrialFeeStep(Struct):
    status: FeeStatus
    by: Person | None
    at: datetime


class TrialFeeOut(Struct):
    """The fee of a piece accepted for payment and each status it reached, with who and when."""

    id: int
    trial_id: int
    status: FeeStatus
    amount: Amount
    amount_minor: int
    currency: str
    note: str
    steps: list[TrialFeeStep]


class TrialOut(Struct):
    id: int
    application_id: int
    state: TrialState
    brief: TrialBrief
    created_at: datetime
    submitted_at: datetime | None
    late: bool
    declined_at: datetime | None
    piece: TrialPieceOut | None
    fee: TrialFeeOut | None


FeeNote = Annotated[str, Meta(max_length=1000, pattern=PLAIN)]


class FeeMoveIn(Struct, forbid_unknown_fields=True):
    """One step of a fee: `current` is the status the client last read (409 if it moved since), `status` the
    next one (agreed → invoiced → approved → paid)."""

    current: FeeStatus
    status: Literal["invoiced", "approved", "paid"]
    note: FeeNote = ""

    def problems(self) -> dict[str, str]:
        following = {"agreed": "invoiced", "invoiced": "approved", "approved": "paid"}
        if following.get(self.current.value) != self.status:
            return {"status": "A fee moves one step at a time: agreed, invoiced, approved, paid."}
        return {}
