"""The JSON API's application routes (/api/v1/applications): the queue, one application, moves and notes.

Thin handlers over the services the editors' pages call; registered under /api/v1 by app/api/routes.py.
"""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.params import JSONBody, QueryParameter

from app.accounts.guards import CurrentStaff, editors_only
from app.api import schemas
from app.api.openapi import problems
from app.api.params import Flag, PathId, ShortText
from app.api.strict import desk_rules
from app.core import links, site, workflow
from app.core.errors import Invalid
from app.core.i18n import SOURCE_LOCALE, use_locale
from app.core.moves import load_application
from app.core.web import AppClock, AppSettings, DbSession
from app.factcheck.api import task_input
from app.models import EmailStatus, State, TaskState, Verdict, WorkSample
from app.review import detail, queue, service

# --- applications ---------------------------------------------------------------------------------------


@get(
    "/applications",
    name="api_applications",
    responses=problems(),
    guards=[editors_only],
    summary="The queue",
)
async def applications(
    session: DbSession,
    clock: AppClock,
    staff: CurrentStaff,
    # `state` is a name Litestar keeps for itself: the handler calls it state_tab, checked below.
    state_tab: Annotated[
        str,
        QueryParameter(
            name="state",
            description="A state, open or all.",
            schema_extra={"enum": list(queue.STATE_CHOICES)},
        ),
    ] = "open",
    department: ShortText = "",
    topic: ShortText = "",
    assignee: Annotated[str, QueryParameter(pattern=schemas.whole(r"me|none|[1-9][0-9]{0,8}|"))] = "",
    label: ShortText = "",
    overdue: Flag = False,
    repeat: Flag = False,
    tasks_overdue: Flag = False,
    q: Annotated[
        str,
        QueryParameter(
            max_length=200, pattern=schemas.PLAIN, description="Full-text search: every word must match."
        ),
    ] = "",
    sort: Annotated[schemas.Sort, QueryParameter()] = "due",
    page: Annotated[int, QueryParameter(ge=1, le=queue.MAX_PAGE)] = 1,
) -> schemas.ApplicationList:
    """The queue's filters, search, sorting and pages of 50, as on /dashboard."""
    if state_tab not in queue.STATE_CHOICES:
        raise Invalid("Unknown state.", {"state": f"One of: {', '.join(queue.STATE_CHOICES)}."})
    params = {
        "state": state_tab,
        "department": department,
        "topic": topic,
        "assignee": assignee,
        "label": label,
        "overdue": "1" if overdue else "",
        "repeat": "1" if repeat else "",
        "tasks_overdue": "1" if tasks_overdue else "",
        "q": q,
        "sort": sort,
        "page": str(page),
    }
    filters = queue.QueueFilters.from_query(params)
    now = clock()
    with use_locale(SOURCE_LOCALE):  # the API's department and topic names are the English ones
        result = await queue.queue_page(session, filters, me=staff.id, now=now)
    return schemas.ApplicationList(
        items=[
            schemas.QueueItem(
                id=row.id,
                name=row.name,
                email=row.email,
                state=State(row.state),
                state_label=workflow.STAFF_LABELS[State(row.state)],
                created_at=row.created_at,
                state_changed_at=row.state_changed_at,
                due_at=row.due_at,
                overdue=row.overdue(now),
                is_repeat=row.is_repeat,
                assignee=row.assignee,
                departments=row.departments,
                topics=row.topics,
                labels=row.labels,
                tasks_open=row.tasks_open,
                tasks_total=row.tasks_total,
            )
            for row in result.rows
        ],
        page=filters.page,
        has_next=result.has_next,
        counts=result.counts,
        counts_capped=result.capped,
        search_capped=result.search_capped,
    )


def _sample(sample: WorkSample, application_id: int) -> schemas.Sample:
    return schemas.Sample(
        id=sample.id or 0,
        position=sample.position,
        kind=sample.kind,  # type: ignore[arg-type]
        title=sample.title,
        url=sample.url,
        file_name=sample.file_name,
        content_type=sample.content_type,
        size_bytes=sample.size_bytes,
        word_count=sample.word_count,
        words_pending=sample.text_pending,
        download_path=(
            links.path("sample_file", application_id=application_id, sample_id=sample.id)
            if sample.kind == "file" and sample.id is not None
            else None
        ),
    )


@get(
    "/applications/{application_id:int}",
    name="api_application",
    responses=problems(404),
    guards=[editors_only],
    summary="One application",
)
async def application(
    session: DbSession, settings: AppSettings, clock: AppClock, staff: CurrentStaff, application_id: PathId
) -> schemas.ApplicationDetail:
    """What the application page shows: samples, tasks, the moves open to you, notes and the timeline."""
    page = await detail.load_page(
        session, application_id=application_id, staff=staff, settings=settings, now=clock()
    )
    app_row, person = page.application, page.applicant
    return schemas.ApplicationDetail(
        id=application_id,
        state=State(app_row.state),
        state_label=page.state_label,
        version=app_row.version,
        created_at=app_row.created_at,
        state_changed_at=app_row.state_changed_at,
        due_at=app_row.due_at,
        overdue=page.overdue,
        decided_at=app_row.decided_at,
        is_repeat=app_row.is_repeat,
        applicant=schemas.Applicant(
            name=person.name,
            email=person.email,
            phone=person.phone,
            city=person.city,
            country=person.country,
            links=list(person.links),
        ),
        motivation=app_row.motivation,
        experience=app_row.experience,
        availability=app_row.availability,
        departments=[site.localized(department, SOURCE_LOCALE).text for department in app_row.departments],
        topics=[site.localized(topic, SOURCE_LOCALE).text for topic in app_row.topics],
        labels=page.labels,
        assignee=schemas.Person(id=page.assignee.id or 0, name=page.assignee.name) if page.assignee else None,
        earlier_applications=[earlier.id or 0 for earlier in page.earlier],
        samples=[_sample(sample, application_id) for sample in app_row.samples],
        tasks=[
            schemas.TaskSummary(
                id=task.id or 0,
                state=TaskState(task.state),
                assignee_id=task.assignee_id,
                assignee=name,
                due_at=task.due_at,
                created_at=task.created_at,
                completed_at=task.completed_at,
                overall_verdict=Verdict(task.overall_verdict) if task.overall_verdict else None,
            )
            for task, name in page.tasks
        ],
        moves=[
            schemas.MoveOption(
                to=option.move.target,
                label=option.move.label,
                allowed=option.allowed,
                problems=option.problems,
                message_required=option.move.message_required,
                reason_required=option.move.reason_required,
            )
            for option in page.moves
        ],
        notes=[
            schemas.Note(at=item.at, author=item.who, text=item.detail)
            for item in page.timeline
            if item.kind == "note"
        ],
        timeline=[
            schemas.TimelineEntry(
                at=item.at,
                kind=item.kind,
                who=item.who,
                text=item.text,
                detail=item.detail,
                is_public=item.is_public,
                email_status=EmailStatus(item.email_status) if item.email_status else None,
            )
            for item in page.timeline
        ],
    )


@post(
    "/applications/{application_id:int}/moves",
    name="api_application_move",
    responses=problems(400, 404, 409, 415),
    guards=[editors_only],
    summary="Make a workflow move",
)
async def move(
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: PathId,
    data: JSONBody[schemas.MoveIn],
) -> schemas.MoveOut:
    """One move of the workflow table, as the application page makes it (same checks, event and emails).

    409 when the move is not open from the current state, a guard blocks it, `version` is stale or the task
    cannot be made; 422 when a required message or reason is missing; a move to fact check may create its
    first task (`task`).
    """
    application, applicant = await load_application(session, application_id)
    source = State(application.state)
    with desk_rules():
        event = await service.make_move(
            session,
            settings=settings,
            application=application,
            applicant=applicant,
            user=staff,
            to=data.to,
            version=data.version,
            message=data.message,
            reason=data.reason,
            task=task_input(data.task) if data.task else None,
            now=clock(),
        )
    assert event.id is not None
    return schemas.MoveOut(
        application_id=application_id,
        from_state=source,
        to_state=State(application.state),
        version=application.version,
        event_id=event.id,
        at=event.created_at,
    )


@post(
    "/applications/{application_id:int}/notes",
    name="api_application_note",
    responses=problems(400, 404, 415),
    guards=[editors_only],
    summary="Add an internal note",
)
async def add_note(
    session: DbSession,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: PathId,
    data: JSONBody[schemas.NoteIn],
) -> schemas.Note:
    """An internal note on the timeline (never shown to the applicant)."""
    application, _ = await load_application(session, application_id)
    event = await service.add_note(session, application=application, text=data.text, by=staff, now=clock())
    return schemas.Note(at=event.created_at, author=staff.name, text=event.message or "")


ROUTES = [applications, application, move, add_note]
