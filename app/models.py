"""Table models and the enums they use. Relationships never lazy-load."""

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Column, Field, Relationship, SQLModel


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(*, index: bool = False, nullable: bool = False) -> Any:
    """A UTC timestamp column: nullable ones start empty, the others at now."""
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, index=index, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, index=index, nullable=False)


class State(enum.StrEnum):
    submitted = "submitted"
    screening = "screening"
    info_requested = "info_requested"
    fact_check = "fact_check"
    trial = "trial"
    accepted = "accepted"
    rejected = "rejected"
    withdrawn = "withdrawn"
    spam = "spam"


class SampleKind(enum.StrEnum):
    file = "file"
    link = "link"
    text = "text"


class TaskState(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class Verdict(enum.StrEnum):
    accurate = "accurate"
    inaccurate = "inaccurate"
    misleading = "misleading"
    unverifiable = "unverifiable"


class TrialState(enum.StrEnum):
    offered = "offered"
    submitted = "submitted"
    declined = "declined"
    cancelled = "cancelled"


class FeeKind(enum.StrEnum):
    flat = "flat"
    per_word = "per_word"
    unpaid = "unpaid"


class FeeStatus(enum.StrEnum):
    agreed = "agreed"
    invoiced = "invoiced"
    approved = "approved"
    paid = "paid"


class Recommendation(enum.StrEnum):
    accept = "accept"
    trial = "trial"
    reject = "reject"
    undecided = "undecided"


class EmailStatus(enum.StrEnum):
    queued = "queued"
    held = "held"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    dead = "dead"
    cancelled = "cancelled"
    digest = "digest"  # waits for the recipient's daily digest
    digested = "digested"  # went out inside a digest


class NotifyMode(enum.StrEnum):
    instant = "instant"
    digest = "digest"


# --- reference data -------------------------------------------------------------------------------------


class Department(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=80)  # English; empty when only the Russian name is set
    name_ru: str = Field(default="", max_length=80, sa_column_kwargs={"server_default": ""})
    position: int = 0


class Topic(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=80)  # English; empty when only the Russian name is set
    name_ru: str = Field(default="", max_length=80, sa_column_kwargs={"server_default": ""})
    position: int = 0


class Label(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True)


class SiteSetting(SQLModel, table=True):
    """Admin-editable values (the call text, per-state due times), keyed by name."""

    __tablename__ = "site_setting"
    key: str = Field(primary_key=True, max_length=80)
    value: Any = Field(sa_type=sa.JSON)
    updated_at: datetime = _ts()


# --- staff ----------------------------------------------------------------------------------------------


class UserDepartment(SQLModel, table=True):
    __tablename__ = "user_department"
    user_id: int = Field(foreign_key="staff_user.id", primary_key=True, ondelete="CASCADE")
    department_id: int = Field(foreign_key="department.id", primary_key=True, ondelete="CASCADE")


class User(SQLModel, table=True):
    """A staff member: admin, editor and/or fact-checker."""

    __tablename__ = "staff_user"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    is_admin: bool = False
    is_editor: bool = False
    is_fact_checker: bool = False
    # Moves trial fees through invoiced, approved and paid (admins may too).
    is_finance: bool = False
    is_active: bool = True
    notify: str = Field(default=NotifyMode.instant, max_length=16)
    # Notification kinds (email template names) this person turned off through List-Unsubscribe or /account.
    muted: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    must_change_password: bool = False
    # The language and time zone this person chose on /account; None: the site's.
    locale: str | None = Field(default=None, max_length=16)
    time_zone: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()
    last_login_at: datetime | None = _ts(nullable=True)

    departments: list[Department] = Relationship(
        link_model=UserDepartment, sa_relationship_kwargs={"lazy": "raise"}
    )

    @property
    def roles(self) -> list[str]:
        flags = (
            ("admin", self.is_admin),
            ("editor", self.is_editor),
            ("fact_checker", self.is_fact_checker),
            ("finance", self.is_finance),
        )
        return [name for name, on in flags if on]


# --- applications ---------------------------------------------------------------------------------------


class Applicant(SQLModel, table=True):
    """Who applied, as they gave it on one application, with their consent record."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    email_normalized: str = Field(max_length=320, index=True)
    phone: str | None = Field(default=None, max_length=40)
    city: str = Field(default="", max_length=100)
    country: str = Field(default="", max_length=100)
    links: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    consent_text: str = Field(sa_type=sa.Text)
    consent_version: str = Field(max_length=40)
    consent_at: datetime = _ts()
    created_at: datetime = _ts()


class ApplicationDepartment(SQLModel, table=True):
    __tablename__ = "application_department"
    application_id: int = Field(foreign_key="application.id", primary_key=True, ondelete="CASCADE")
    department_id: int = Field(foreign_key="department.id", primary_key=True, ondelete="CASCADE", index=True)


class ApplicationTopic(SQLModel, table=True):
    __tablename__ = "application_topic"
    application_id: int = Field(foreign_key="application.id", primary_key=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topic.id", primary_key=True, ondelete="CASCADE", index=True)


class ApplicationLabel(SQLModel, table=True):
    __tablename__ = "application_label"
    application_id: int = Field(foreign_key="application.id", primary_key=True, ondelete="CASCADE")
    label_id: int = Field(foreign_key="label.id", primary_key=True, ondelete="CASCADE", index=True)


_application_version = Column("version", sa.Integer, nullable=False, default=1)

# The states an application is still worked in (app.core.workflow.OPEN_STATES, checked by a test), written
# out for the partial index the queue's default view walks: open applications by due time.
OPEN_STATE_VALUES = ("submitted", "screening", "info_requested", "fact_check", "trial")
OPEN_STATE_SQL = "state IN ({})".format(", ".join(f"'{state}'" for state in OPEN_STATE_VALUES))


class Application(SQLModel, table=True):
    """One application to the call; `version` guards against concurrent edits."""

    __table_args__ = (
        sa.Index("ix_application_state_created_at", "state", "created_at"),
        sa.Index("ix_application_state_due_at", "state", "due_at", "id"),
        sa.Index(
            "ix_application_open_due_at",
            "due_at",
            "id",
            sqlite_where=sa.text(OPEN_STATE_SQL),
            postgresql_where=sa.text(OPEN_STATE_SQL),
        ),
    )
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": _application_version}

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=64, unique=True)
    submission_key: str | None = Field(default=None, max_length=64, unique=True)
    applicant_id: int = Field(foreign_key="applicant.id", unique=True, ondelete="CASCADE")
    motivation: str = Field(sa_type=sa.Text)
    experience: str = Field(sa_type=sa.Text)
    availability: str = Field(max_length=500)
    state: str = Field(default=State.submitted, max_length=20, index=True)
    state_changed_at: datetime = _ts()
    due_at: datetime | None = _ts(nullable=True, index=True)
    assigned_editor_id: int | None = Field(
        default=None, foreign_key="staff_user.id", index=True, ondelete="SET NULL"
    )
    version: int = Field(default=1, sa_column=_application_version)
    spam_score: float = 0.0
    spam_reason: str | None = Field(default=None, max_length=200)
    is_repeat: bool = Field(default=False, index=True)
    repeat_of_id: int | None = Field(default=None, foreign_key="application.id", ondelete="SET NULL")
    created_at: datetime = _ts(index=True)
    updated_at: datetime = _ts()
    decided_at: datetime | None = _ts(nullable=True)
    # Set when the applicant's data was erased: the row stays as a tombstone for the counts and reports.
    erased_at: datetime | None = _ts(nullable=True)
    # The language the applicant applied in ("ru", "en"): their mail is written in it.
    locale: str | None = Field(default=None, max_length=16)

    applicant: Applicant = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    samples: list["WorkSample"] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "order_by": "WorkSample.position"}
    )
    departments: list[Department] = Relationship(
        link_model=ApplicationDepartment, sa_relationship_kwargs={"lazy": "raise"}
    )
    topics: list[Topic] = Relationship(link_model=ApplicationTopic, sa_relationship_kwargs={"lazy": "raise"})


class QueueCount(SQLModel, table=True):
    """How many applications are in each state, overall (department_id 0) and per department.

    Kept in the same transaction as every change of state, so the queue's tabs need no count over the archive.
    """

    __tablename__ = "queue_count"
    department_id: int = Field(primary_key=True)
    state: str = Field(primary_key=True, max_length=20)
    n: int = 0


class ApplicationSearch(SQLModel, table=True):
    """The text the queue's full-text search looks in: names, emails, the letter and pasted samples.

    Indexed outside the models: an FTS5 table over `words`, kept by triggers on SQLite (0003, 0012), a stored
    generated `search_vector` column under a GIN index on PostgreSQL (0008, 0012).
    """

    __tablename__ = "application_search"
    application_id: int = Field(foreign_key="application.id", primary_key=True, ondelete="CASCADE")
    document: str = Field(sa_type=sa.Text)
    # The folded words and their stems, for SQLite's index; empty on PostgreSQL, which stems them itself.
    words: str = Field(default="", sa_type=sa.Text, sa_column_kwargs={"server_default": ""})


class WorkSample(SQLModel, table=True):
    """An uploaded file, a link or pasted text; files live under the upload folder by `storage_key`."""

    __tablename__ = "work_sample"
    __table_args__ = (
        sa.Index(
            "ix_work_sample_text_due_at",
            "text_due_at",
            sqlite_where=sa.text("text_due_at IS NOT NULL"),
            postgresql_where=sa.text("text_due_at IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    position: int = 0
    kind: str = Field(max_length=10)
    title: str = Field(max_length=200)
    url: str | None = Field(default=None, max_length=2000)
    text: str | None = Field(default=None, sa_type=sa.Text)
    file_name: str | None = Field(default=None, max_length=255)
    storage_key: str | None = Field(default=None, max_length=80, unique=True)
    content_type: str | None = Field(default=None, max_length=100)
    detected_type: str | None = Field(default=None, max_length=10)
    size_bytes: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    word_count: int | None = None
    # A file's plain text, for picking fact-check claims (None: none could be read, or not yet).
    extracted_text: str | None = Field(default=None, sa_type=sa.Text)
    # A sample whose text the reader (app/applications/reading.py) still has to index for the similarity
    # checks, after reading it first from a PDF sent with the form: from when a reader may take it (one
    # holding it moves it on by its lock time). None once done, and for a sample with no text.
    text_due_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()

    @property
    def text_pending(self) -> bool:
        """Whether a file's words are still to be counted and its text read."""
        return self.kind == SampleKind.file and self.text_due_at is not None and self.extracted_text is None


class Event(SQLModel, table=True):
    """Append-only history of an application; `is_public` events show on the status page."""

    __table_args__ = (sa.Index("ix_event_application_id_created_at", "application_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", ondelete="CASCADE")
    kind: str = Field(max_length=40)
    actor: str = Field(default="system", max_length=20)
    actor_user_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    message: str | None = Field(default=None, sa_type=sa.Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    is_public: bool = False
    created_at: datetime = _ts()


class Score(SQLModel, table=True):
    """One editor's rubric for one application (criteria from the call)."""

    __table_args__ = (sa.UniqueConstraint("application_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="staff_user.id", ondelete="CASCADE")
    analysis: int
    fact_accuracy: int
    concision: int
    interest_style: int
    topic_knowledge: int
    recommendation: str = Field(default=Recommendation.undecided, max_length=16)
    comment: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class FactCheckTask(SQLModel, table=True):
    __tablename__ = "fact_check_task"
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    sample_id: int | None = Field(default=None, foreign_key="work_sample.id", ondelete="SET NULL")
    # A task on a trial piece (then sample_id is None).
    trial_piece_id: int | None = Field(default=None, foreign_key="trial_piece.id", ondelete="SET NULL")
    # None: the task waits at the desk until a fact-checker takes it.
    assignee_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    creator_id: int = Field(foreign_key="staff_user.id")
    due_at: datetime = _ts(index=True)
    state: str = Field(default=TaskState.open, max_length=16, index=True)
    overall_verdict: str | None = Field(default=None, max_length=16)
    summary: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = _ts()
    completed_at: datetime | None = _ts(nullable=True)


# --- trial assignments ------------------------------------------------------------------------------------


class Trial(SQLModel, table=True):
    """A paid (or unpaid) trial piece offered to an applicant: the brief, its deadline and its fee terms."""

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    state: str = Field(default=TrialState.offered, max_length=16, index=True)
    # The brief's language: the applicant's, fixed when it is offered.
    locale: str = Field(default="ru", max_length=16)
    topic: str = Field(sa_type=sa.Text)  # topic and angle
    sources: str = Field(default="", sa_type=sa.Text)
    style_notes: str = Field(default="", sa_type=sa.Text)
    min_words: int = 0
    max_words: int = 0
    deadline_at: datetime = _ts(index=True)
    # Firm: the form locks at the deadline. Soft: a late piece is taken and marked late.
    deadline_firm: bool = True
    fee_kind: str = Field(default=FeeKind.flat, max_length=16)
    # In minor units (kopecks, cents): the flat fee, or the rate per word; the cap applies per word.
    fee_amount_minor: int | None = None
    fee_cap_minor: int | None = None
    currency: str = Field(default="RUB", max_length=3)
    # Who checks the facts of the piece when it arrives; None: the task waits for the desk to assign it.
    fact_checker_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    offered_by_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    submitted_at: datetime | None = _ts(nullable=True)
    late: bool = False
    declined_at: datetime | None = _ts(nullable=True)
    decline_reason: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class TrialPiece(SQLModel, table=True):
    """The applicant's trial piece, pasted or uploaded: a draft until the final send, then fixed."""

    __tablename__ = "trial_piece"
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", unique=True, ondelete="CASCADE")
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=10)  # SampleKind.text or SampleKind.file
    text: str | None = Field(default=None, sa_type=sa.Text)
    file_name: str | None = Field(default=None, max_length=255)
    storage_key: str | None = Field(default=None, max_length=80, unique=True)
    content_type: str | None = Field(default=None, max_length=100)
    detected_type: str | None = Field(default=None, max_length=10)
    size_bytes: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    word_count: int | None = None
    extracted_text: str | None = Field(default=None, sa_type=sa.Text)
    is_final: bool = False
    # What the arrival checks found (word count against the limits, lateness, links, similar texts).
    checks: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    submitted_at: datetime | None = _ts(nullable=True)


class TrialScore(SQLModel, table=True):
    """One editor's rubric for one trial piece, 1-5 each."""

    __tablename__ = "trial_score"
    __table_args__ = (sa.UniqueConstraint("trial_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="staff_user.id", ondelete="CASCADE")
    fact_accuracy: int
    analysis: int
    concision: int
    interest: int
    brief_fit: int
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class TrialFee(SQLModel, table=True):
    """The fee of a trial piece accepted for payment, and who moved it through each status, and when."""

    __tablename__ = "trial_fee"
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", unique=True, ondelete="CASCADE")
    amount_minor: int
    currency: str = Field(max_length=3)
    status: str = Field(default=FeeStatus.agreed, max_length=16, index=True)
    agreed_at: datetime = _ts(index=True)
    agreed_by_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    invoiced_at: datetime | None = _ts(nullable=True)
    invoiced_by_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    approved_at: datetime | None = _ts(nullable=True)
    approved_by_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    paid_at: datetime | None = _ts(nullable=True)
    paid_by_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    note: str = Field(default="", sa_type=sa.Text)


class TextPrint(SQLModel, table=True):
    """One fingerprint of a stored text (a work sample or a trial piece), to find near-duplicates by index."""

    __tablename__ = "text_print"
    __table_args__ = (sa.Index("ix_text_print_hash", "hash"),)
    id: int | None = Field(default=None, primary_key=True)
    hash: int = Field(sa_type=sa.BigInteger)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    sample_id: int | None = Field(default=None, foreign_key="work_sample.id", index=True, ondelete="CASCADE")
    piece_id: int | None = Field(default=None, foreign_key="trial_piece.id", index=True, ondelete="CASCADE")
    # Where the fingerprinted words start in the text (in words), to show the overlapping passage.
    position: int = 0


class Claim(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="fact_check_task.id", index=True, ondelete="CASCADE")
    position: int = 0
    quote: str = Field(sa_type=sa.Text)
    verdict: str | None = Field(default=None, max_length=16)
    sources: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    note: str = Field(default="", sa_type=sa.Text)


# --- email and abuse control ----------------------------------------------------------------------------


class QueuedRow(SQLModel):
    """What the outbound sender's claims read and write on a queued row (app/core/outbound/claims.py): outbox
    emails and webhook deliveries alike."""

    status: str = Field(default=EmailStatus.queued, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    locked_by: str | None = Field(default=None, max_length=100)
    locked_until: datetime | None = _ts(nullable=True)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    sent_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()


class OutboxEmail(QueuedRow, table=True):
    """One message to one recipient, written in the transaction of the change causing it (docs/email.md)."""

    __tablename__ = "outbox_email"
    __table_args__ = (sa.Index("ix_outbox_email_status_next_attempt_at", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    application_id: int | None = Field(
        default=None, foreign_key="application.id", index=True, ondelete="CASCADE"
    )
    user_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    recipient: str = Field(max_length=320)
    recipient_name: str = Field(default="", max_length=200)
    is_staff: bool = False
    template: str = Field(max_length=80)
    context: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    message_id: str = Field(max_length=255, unique=True)
    dedupe_key: str = Field(max_length=255, unique=True)
    # The language and time zone the message is written in: the recipient's, fixed when it is queued.
    locale: str | None = Field(default=None, max_length=16)
    time_zone: str | None = Field(default=None, max_length=64)


class RateLimitCounter(SQLModel, table=True):
    """Fixed-window counters shared by every web process."""

    __tablename__ = "rate_limit_counter"
    key: str = Field(primary_key=True, max_length=200)
    window_start: int = Field(primary_key=True, sa_type=sa.BigInteger)
    count: int = 0


class Erasure(SQLModel, table=True):
    """The log of erasures: which application, when and on whose request; never a name or an address."""

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=64, index=True)
    # "applicant" (from the status page) or "retention" (`byline purge`).
    requested_by: str = Field(max_length=20)
    state: str = Field(max_length=20)
    created_at: datetime = _ts(index=True)


# --- staff access -----------------------------------------------------------------------------------


class StaffSession(SQLModel, table=True):
    """A logged-in staff session; the cookie holds a random token, the row only its sha256."""

    __tablename__ = "staff_session"
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="staff_user.id", index=True, ondelete="CASCADE")
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    expires_at: datetime = _ts()
    user_agent: str = Field(default="", max_length=200)


class Invitation(SQLModel, table=True):
    """A single-use emailed invitation for a new staff member."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=320, index=True)
    name: str = Field(default="", max_length=200)
    is_admin: bool = False
    is_editor: bool = False
    is_fact_checker: bool = False
    is_finance: bool = False
    department_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    invited_by_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    created_at: datetime = _ts()
    expires_at: datetime = _ts()
    accepted_at: datetime | None = _ts(nullable=True)
    revoked_at: datetime | None = _ts(nullable=True)


class PasswordReset(SQLModel, table=True):
    """A single-use password reset link, valid for under an hour."""

    __tablename__ = "password_reset"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="staff_user.id", index=True, ondelete="CASCADE")
    created_at: datetime = _ts()
    expires_at: datetime = _ts()
    used_at: datetime | None = _ts(nullable=True)


# --- the JSON API and webhooks --------------------------------------------------------------------------


class ApiToken(SQLModel, table=True):
    """A staff member's personal API token; the row keeps only its sha256, never the token."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts()
    last_used_at: datetime | None = _ts(nullable=True)


class Webhook(SQLModel, table=True):
    """An address told of every state change, each delivery signed with the webhook's secret (HMAC-SHA256)."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    # Kept as it is: signing needs the secret itself. Shown to the admin once, when the webhook is made.
    secret: str = Field(max_length=100)
    is_active: bool = True
    # The events it is told of ("application.state_changed", "trial.submitted", ...); empty: every event.
    events: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    created_at: datetime = _ts()


class WebhookDelivery(QueuedRow, table=True):
    """One event for one webhook, claimed, retried and given up on like an outbox email (docs/email.md)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (sa.Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="webhook.id", index=True, ondelete="CASCADE")
    # Stable across retries: receivers use it to drop a delivery they already handled.
    uid: str = Field(max_length=64, unique=True)
    event: str = Field(max_length=60)
    # The exact bytes sent (and signed) on every attempt.
    body: str = Field(sa_type=sa.Text)
