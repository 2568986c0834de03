"""Read side of the queue (`/dashboard`): filters, search, sorting, pages and counts per state.

Every query selects only the columns the page shows; the departments, topics, labels and task progress of a
page's rows come from one query each, whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    TextClause,
    any_,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import counts, reference, search, site
from app.core.i18n import N_, current_locale
from app.core.workflow import OPEN_STATES, STAFF_LABELS
from app.models import (
    OPEN_STATE_SQL,
    Applicant,
    Application,
    ApplicationDepartment,
    ApplicationLabel,
    ApplicationTopic,
    Department,
    FactCheckTask,
    Label,
    State,
    TaskState,
    Topic,
    User,
)

PAGE_SIZE = 50
MAX_PAGE = 10_000
COUNT_CAP = 10_000
SEARCH_LIMIT = 1_000
STATE_CHOICES = ("open", "all", *(state.value for state in State))
SORTS = {
    "due": N_("Due soonest"),
    "waited": N_("Waiting longest"),
    "newest": N_("Newest"),
    "oldest": N_("Oldest"),
    "name": N_("Name A–Z"),
}
ORDERED_STATES = [state for state in State if state != State.spam] + [State.spam]


def _flag(value: str) -> bool:
    return value in {"1", "on", "true", "yes"}


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows: read from the query string, every value checked against its choices."""

    state: str = "open"
    department: str = ""
    topic: str = ""
    assignee: str = ""
    label: str = ""
    overdue: bool = False
    repeat: bool = False
    tasks_overdue: bool = False
    q: str = ""
    sort: str = "due"
    page: int = 1

    @classmethod
    def from_query(cls, params: dict[str, str]) -> QueueFilters:
        state = params.get("state", "open")
        assignee = params.get("assignee", "")
        sort = params.get("sort", "due")
        page = params.get("page", "1")
        return cls(
            state=state if state in STATE_CHOICES else "open",
            department=params.get("department", "")[:40],
            topic=params.get("topic", "")[:40],
            # Nine digits at most: enough for the ids here, and never past PostgreSQL's integer.
            assignee=assignee
            if assignee in {"me", "none"} or (assignee.isdigit() and len(assignee) < 10)
            else "",
            label=" ".join(params.get("label", "").split())[:40],
            overdue=_flag(params.get("overdue", "")),
            repeat=_flag(params.get("repeat", "")),
            tasks_overdue=_flag(params.get("tasks_overdue", "")),
            q=" ".join(params.get("q", "").split())[:200],
            sort=sort if sort in SORTS else "due",
            page=min(int(page), MAX_PAGE) if page.isdigit() and int(page) > 0 else 1,
        )

    def query(self, **changes: Any) -> str:
        """The query string of these filters with `changes`, leaving defaults out (page 1 unless given)."""
        changed = replace(self, **{"page": 1, **changes})
        pairs = {
            "state": changed.state if changed.state != "open" else "",
            "department": changed.department,
            "topic": changed.topic,
            "assignee": changed.assignee,
            "label": changed.label,
            "overdue": "1" if changed.overdue else "",
            "repeat": "1" if changed.repeat else "",
            "tasks_overdue": "1" if changed.tasks_overdue else "",
            "q": changed.q,
            "sort": changed.sort if changed.sort != "due" else "",
            "page": str(changed.page) if changed.page > 1 else "",
        }
        encoded = urlencode({key: value for key, value in pairs.items() if value})
        return f"?{encoded}" if encoded else "?"

    @property
    def narrowed(self) -> bool:
        """Whether anything besides the state tab narrows the list."""
        return any(
            (self.department, self.topic, self.assignee, self.label, self.overdue, self.repeat, self.q)
        )


@dataclass
class QueueRow:
    id: int
    name: str
    email: str
    state: str
    created_at: datetime
    state_changed_at: datetime
    due_at: datetime | None
    is_repeat: bool
    assignee: str | None
    departments: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    tasks_open: int = 0
    tasks_total: int = 0

    def waited(self, now: datetime) -> timedelta:
        return now - self.state_changed_at

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at < now


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    counts: dict[str, int]
    has_next: bool
    # The counts stopped at COUNT_CAP (a wide filter over a large archive): the tabs show no numbers.
    capped: bool = False
    # The search matched more than SEARCH_LIMIT applications: only the best matches are listed.
    search_capped: bool = False

    @property
    def open_count(self) -> int:
        return sum(n for state, n in self.counts.items() if state in OPEN_STATES)

    @property
    def all_count(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Shape:
    """Which conditions and which order a queue query has; its values travel apart, as bound parameters.

    The statements of each shape are built once (`functools.cache`), so a page spends no time assembling
    SQL: only a few shapes occur (a tab, a department, the sort), and the values never enter the cache key.
    """

    state: str  # "open", "all" or "one"
    department: bool = False
    topic: bool = False
    label: bool = False
    assignee: str = ""  # "", "none" or "id"
    overdue: bool = False
    repeat: bool = False
    tasks_overdue: bool = False
    search: str = ""  # "", "in" (a list of bound values) or "array" (one bound array, on PostgreSQL)
    sort: str = "due"


def selection(
    filters: QueueFilters, *, me: int, now: datetime, found: list[int] | None, arrays: bool = False
) -> tuple[Shape, dict[str, Any]]:
    """The shape of the query these filters make and the values to bind; `found`: the search's hits, bound
    as one array where the database has arrays (`arrays`): a thousand hits make one parameter."""
    values: dict[str, Any] = {"now": now}
    state = filters.state if filters.state in {"open", "all"} else "one"
    if state == "one":
        values["state"] = filters.state
    for name in ("department", "topic", "label"):
        if getattr(filters, name):
            values[name] = getattr(filters, name)
    assignee = ""
    if filters.assignee == "none":
        assignee = "none"
    elif filters.assignee:
        assignee = "id"
        values["assignee"] = me if filters.assignee == "me" else int(filters.assignee)
    if found is not None:
        values["found"] = found
    shape = Shape(
        state=state,
        department=bool(filters.department),
        topic=bool(filters.topic),
        label=bool(filters.label),
        assignee=assignee,
        overdue=filters.overdue,
        repeat=filters.repeat,
        tasks_overdue=filters.tasks_overdue,
        search="" if found is None else "array" if arrays else "in",
        sort=filters.sort,
    )
    return shape, values


def _has_arrays(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _narrowing(shape: Shape) -> list[ColumnElement[bool]]:
    """Every condition but the state's (the counts per state leave it out)."""
    conditions: list[ColumnElement[bool]] = []
    linked: list[tuple[bool, str, Any, Any, Any, Any]] = [
        (
            shape.department,
            "department",
            ApplicationDepartment,
            Department,
            ApplicationDepartment.department_id,
            Department.slug,
        ),
        (shape.topic, "topic", ApplicationTopic, Topic, ApplicationTopic.topic_id, Topic.slug),
        (shape.label, "label", ApplicationLabel, Label, ApplicationLabel.label_id, Label.name),
    ]
    for wanted_here, name, link, target, key, column in linked:
        if wanted_here:
            # EXISTS, not IN: the database walks the applications in the page's order and checks each one,
            # instead of collecting every application of a large department first.
            wanted = select(col(target.id)).where(col(column) == bindparam(name)).scalar_subquery()
            conditions.append(
                select(literal(1))
                .select_from(link)
                .where(col(link.application_id) == col(Application.id), col(key) == wanted)
                .correlate(Application)
                .exists()
            )
    if shape.assignee == "id":
        conditions.append(col(Application.assigned_editor_id) == bindparam("assignee"))
    elif shape.assignee == "none":
        conditions.append(col(Application.assigned_editor_id).is_(None))
    if shape.overdue:
        conditions.append(col(Application.due_at) < bindparam("now"))
    if shape.repeat:
        conditions.append(col(Application.is_repeat).is_(True))
    if shape.tasks_overdue:
        conditions.append(
            col(Application.id).in_(
                select(col(FactCheckTask.application_id)).where(
                    col(FactCheckTask.state).in_([TaskState.open, TaskState.in_progress]),
                    col(FactCheckTask.due_at) < bindparam("now"),
                )
            )
        )
    if shape.search == "array":
        conditions.append(col(Application.id) == any_(bindparam("found", type_=ARRAY(Integer))))
    elif shape.search:
        conditions.append(col(Application.id).in_(bindparam("found", expanding=True)))
    return conditions


def _state_condition(state: str) -> ColumnElement[bool] | TextClause | None:
    if state == "all":
        return None
    if state == "open":
        # Written as in the partial index on open applications, so that SQLite uses it.
        return text(f"application.{OPEN_STATE_SQL}")
    return col(Application.state) == bindparam("state")


def _order(sort: str) -> list[Any]:
    if sort == "waited":
        return [col(Application.state_changed_at).asc(), col(Application.id).asc()]
    if sort == "newest":
        return [col(Application.created_at).desc(), col(Application.id).desc()]
    if sort == "oldest":
        return [col(Application.created_at).asc(), col(Application.id).asc()]
    if sort == "name":
        return [func.lower(col(Applicant.name)).asc(), col(Application.id).asc()]
    # Applications with no due time (a state whose due time an admin turned off) come first on SQLite and last
    # on PostgreSQL: each database's own order, which its indexes keep.
    return [col(Application.due_at).asc(), col(Application.id).asc()]


@cache
def _count_statement(shape: Shape) -> Select[*tuple[Any, ...]]:
    """Applications per state under a shape's conditions, counting at most COUNT_CAP + 1 rows."""
    matching = select(col(Application.state)).where(*_narrowing(shape)).limit(COUNT_CAP + 1).subquery()
    return select(matching.c.state, func.count()).group_by(matching.c.state)


async def state_counts(
    session: AsyncSession, filters: QueueFilters, shape: Shape, values: dict[str, Any]
) -> tuple[dict[str, int], bool]:
    """Applications per state under the filters, and whether counting stopped at COUNT_CAP.

    With no filter or only a department, the kept counts answer at once; other filters count the matching
    rows, up to COUNT_CAP of them, so a wide filter over a large archive stays quick.
    """
    if _kept_counts_apply(filters):
        return await counts.counts(session, filters.department), False
    statement = _count_statement(shape)
    rows = (await session.execute(statement, _bound(statement, values))).all()
    tally = {state: int(count) for state, count in rows}
    return tally, sum(tally.values()) > COUNT_CAP


def _bound(statement: Select[*tuple[Any, ...]], values: dict[str, Any]) -> dict[str, Any]:
    """The values a statement takes (a shape's count leaves the state out, for one)."""
    names = _parameter_names(statement)
    return {name: value for name, value in values.items() if name in names}


@cache
def _parameter_names(statement: Select[*tuple[Any, ...]]) -> frozenset[str]:
    return frozenset(statement.compile().params)


def _kept_counts_apply(filters: QueueFilters) -> bool:
    """Whether the tabs show the kept counts (no filter, or a department alone) rather than counted rows."""
    return not filters.narrowed or bool(filters.department and _only_department(filters))


def _only_department(filters: QueueFilters) -> bool:
    return (
        not any((filters.topic, filters.assignee, filters.label, filters.overdue, filters.repeat, filters.q))
        and not filters.tasks_overdue
    )


def _listing(where: list[Any], locale: str) -> Select[*tuple[Any, ...]]:
    """The columns of a queue row under `where` (names in `locale`), in no order yet."""
    return (
        select(
            col(Application.id),
            col(Applicant.name),
            col(Applicant.email),
            col(Application.state),
            col(Application.created_at),
            col(Application.state_changed_at),
            col(Application.due_at),
            col(Application.is_repeat),
            col(User.name),
            _names(ApplicationDepartment, Department, ApplicationDepartment.department_id, locale),
            _names(ApplicationTopic, Topic, ApplicationTopic.topic_id, locale),
            _names(ApplicationLabel, Label, ApplicationLabel.label_id, locale),
            _tasks(open_only=True),
            _tasks(open_only=False),
        )
        .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
        .outerjoin(User, col(User.id) == col(Application.assigned_editor_id))
        .where(*where)
    )


def _where(shape: Shape) -> list[Any]:
    state = _state_condition(shape.state)
    conditions = _narrowing(shape)
    return [*conditions, state] if state is not None else conditions


def queue_row(row: Any) -> QueueRow:
    """A row of `_listing` as the page and the export use it."""
    return QueueRow(
        id=row[0],
        name=row[1],
        email=row[2],
        state=row[3],
        created_at=row[4],
        state_changed_at=row[5],
        due_at=row[6],
        is_repeat=row[7],
        assignee=row[8],
        departments=_split(row[9]),
        topics=_split(row[10]),
        labels=_split(row[11]),
        tasks_open=int(row[12] or 0),
        tasks_total=int(row[13] or 0),
    )


@cache
def rows_statement(shape: Shape, locale: str, kept_counts: bool = False) -> Select[*tuple[Any, ...]]:
    """A page of rows of a shape from `offset`: PAGE_SIZE + 1 of them (the extra one tells of a next page).

    `kept_counts`: each row also carries the kept counts per state (of the department filtered on, if any), so
    that the page needs no second statement for its tabs.
    """
    if shape.search and shape.sort != "name":
        # The search's hits (up to SEARCH_LIMIT) are put in order by the application's own columns first, and
        # only the page's rows are joined to their applicant, editor and names.
        page = (
            select(col(Application.id))
            .where(*_where(shape))
            .order_by(*_order(shape.sort))
            .limit(PAGE_SIZE + 1)
            .offset(bindparam("offset"))
        )
        listing = _listing([col(Application.id).in_(page)], locale)
        return listing.order_by(*_order(shape.sort))
    listing = _listing(_where(shape), locale)
    if kept_counts:
        listing = listing.add_columns(
            counts.joined_column(by_department=shape.department, slug_parameter="department")
        )
    return listing.order_by(*_order(shape.sort)).limit(PAGE_SIZE + 1).offset(bindparam("offset"))


async def _rows(
    session: AsyncSession, filters: QueueFilters, shape: Shape, values: dict[str, Any], *, kept_counts: bool
) -> tuple[list[QueueRow], dict[str, int] | None]:
    """The page's rows, and the kept counts when asked for them and there is a row to carry them."""
    statement = rows_statement(shape, current_locale(), kept_counts)
    bound = {**_bound(statement, values), "offset": (filters.page - 1) * PAGE_SIZE}
    # Core rows straight from the connection: the ORM's result machinery has nothing to add to them.
    found = (await (await session.connection()).execute(statement, bound)).all()
    tally = counts.from_joined(found[0][-1]) if kept_counts and found else None
    return [queue_row(row) for row in found], tally


@cache
def _export_listing(shape: Shape, locale: str) -> Select[*tuple[Any, ...]]:
    return _listing(_where(shape), locale).order_by(col(Application.id))


async def export_statement(
    session: AsyncSession, filters: QueueFilters, *, me: int, now: datetime
) -> Callable[[int | None], Select[*tuple[Any, ...]]]:
    """Every row under the filters, in order of arrival, from after an application id (for exports).

    The search runs once here; the statement is then walked by keyset on the id, a batch at a time.
    """
    words = search.terms(filters.q)
    found = await search.matching_ids(session, words, SEARCH_LIMIT) if words else None
    shape, values = selection(filters, me=me, now=now, found=found, arrays=_has_arrays(session))
    listing = _export_listing(shape, current_locale())
    bound = listing.params(**_bound(listing, values))

    def after(last_id: int | None) -> Select[*tuple[Any, ...]]:
        return bound if last_id is None else bound.where(col(Application.id) > last_id)

    return after


SEPARATOR = "\x1f"


def _split(joined: str | None) -> list[str]:
    return joined.split(SEPARATOR) if joined else []


def _names(link: Any, target: Any, key: Any, locale: str) -> Any:
    """The names a row links to (departments, topics, labels), joined in one column by the database."""
    name = col(target.name) if target is Label else site.name_column(target, locale)
    return (
        select(func.aggregate_strings(name, SEPARATOR))
        .select_from(link)
        .join(target, col(target.id) == col(key))
        .where(col(link.application_id) == col(Application.id))
        .correlate(Application)
        .scalar_subquery()
    )


def _tasks(*, open_only: bool) -> Any:
    """How many fact-check tasks a row has: open ones, or all but the cancelled."""
    states = (
        [TaskState.open, TaskState.in_progress]
        if open_only
        else [TaskState.open, TaskState.in_progress, TaskState.done]
    )
    return (
        select(func.count())
        .where(col(FactCheckTask.application_id) == col(Application.id), col(FactCheckTask.state).in_(states))
        .correlate(Application)
        .scalar_subquery()
    )


async def queue_page(session: AsyncSession, filters: QueueFilters, *, me: int, now: datetime) -> QueuePage:
    """One page of the queue and the counts per state under the same filters."""
    words = search.terms(filters.q)
    found = await search.matching_ids(session, words, SEARCH_LIMIT + 1) if words else None
    search_capped = found is not None and len(found) > SEARCH_LIMIT
    hits = found[:SEARCH_LIMIT] if found else found
    shape, values = selection(filters, me=me, now=now, found=hits, arrays=_has_arrays(session))
    kept = _kept_counts_apply(filters)
    rows, tally = await _rows(session, filters, shape, values, kept_counts=kept)
    has_next = len(rows) > PAGE_SIZE
    capped = False
    if tally is None:
        tally, capped = await state_counts(session, filters, shape, values)
    return QueuePage(
        rows=rows[:PAGE_SIZE], counts=tally, has_next=has_next, capped=capped, search_capped=search_capped
    )


@dataclass(frozen=True)
class Choices:
    """The options of the filter and bulk-action controls."""

    departments: list[tuple[str, str]]
    topics: list[tuple[str, str]]
    labels: list[str]
    editors: list[tuple[int, str]]
    states: list[tuple[str, str]]

    @property
    def label_options(self) -> list[tuple[str, str]]:
        return [(name, name) for name in self.labels]


@cache
def _choices_statement(locale: str) -> Select[*tuple[Any, ...]]:
    parts = union_all(
        select(
            literal("d").label("kind"),
            col(Department.slug),
            site.name_column(Department, locale).label("name"),
            col(Department.position),
        ),
        select(literal("t"), col(Topic.slug), site.name_column(Topic, locale), col(Topic.position)),
        select(literal("l"), col(Label.name), col(Label.name), literal(0)),
        select(literal("e"), cast(col(User.id), String), col(User.name), literal(0)).where(
            col(User.is_editor).is_(True), col(User.is_active).is_(True)
        ),
    ).subquery()
    return select(parts).order_by(parts.c.kind, parts.c.position, parts.c.name)


async def _read_choices(session: AsyncSession, locale: str) -> Choices:
    """Departments, topics, labels and active editors, in one round trip."""
    rows = (await session.execute(_choices_statement(locale))).all()
    found: dict[str, list[tuple[str, str]]] = {"d": [], "t": [], "l": [], "e": []}
    for row in rows:
        found[row[0]].append((row[1], row[2]))
    return Choices(
        departments=found["d"],
        topics=found["t"],
        labels=[name for name, _ in found["l"]],
        editors=[(int(key), name) for key, name in found["e"]],
        states=[(state.value, STAFF_LABELS[state]) for state in ORDERED_STATES],
    )


# Read again after any write to these tables in this process, and at least every few seconds (reference.py).
_choices = reference.Cached(_read_choices, "department", "topic", "label", "staff_user")


async def choices(session: AsyncSession) -> Choices:
    """The filter and bulk-action options in the request's language; from memory while nothing changed."""
    return await _choices.get(session, current_locale())
