"""The JSON API under /api/v1: thin handlers over the services the HTML pages call.

Every route needs a bearer token (app/api/auth.py) and the same role as its page: editors for applications,
editors and fact-checkers for tasks (a fact-checker sees only their own: anyone else's is a 404), editors and
admins for the outbox. Ids and bodies are read strictly first (app/api/strict.py). Errors are problem details
(app/core/errors.py).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter

from app.accounts.guards import CurrentStaff, checkers_and_editors, editors_only, role_required
from app.api import schemas
from app.api.auth import api_staff
from app.api.openapi import problems
from app.api.strict import Refused, check_request, desk_rules
from app.core import links, site, workflow
from app.core.errors import Invalid
from app.core.i18n import SOURCE_LOCALE, use_locale
from app.core.web import AppClock, AppSettings, DbSession
from app.factcheck import queries as task_queries
from app.factcheck import service as factcheck
from app.factcheck import work
from app.factcheck.service import TaskInput
from app.mail import queries as outbox_queries
from app.models import EmailStatus, FactCheckTask, State, TaskState, Verdict, WorkSample
from app.review import detail, queue, service

PathId = Annotated[int, PathParameter(ge=1, le=schemas.MAX_ID)]
QueryId = Annotated[int | None, QueryParameter(ge=1, le=schemas.MAX_ID)]
Flag = Annotated[bool, QueryParameter(description="Only applications with this property.")]
ShortText = Annotated[str, QueryParameter(max_length=40, pattern=schemas.PLAIN)]


@get("/me", name="api_me", responses=problems(), summary="The token's owner and their roles")
async def me(staff: CurrentStaff) -> schemas.Me:
    return schemas.Me(id=staff.id, name=staff.name, email=staff.email, roles=staff.roles)  # type: ignore[arg-type]


@get("/workflow", name="api_workflow", responses=problems(), summary="The workflow table: every allowed move")
async def workflow_table() -> list[schemas.WorkflowMove]:
    """The one table of moves the application page, the API and the checks all follow."""
    return [
        schemas.WorkflowMove(
            source=move.source,
            target=move.target,
            label=move.label,
            actor=move.actor.value,
            role=move.role,
            message_required=move.message_required,
            reason_required=move.reason_required,
        )
        for move in workflow.MOVES
    ]


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


def _task_input(data: schemas.TaskIn) -> TaskInput:
    return TaskInput(
        assignee_id=data.assignee_id,
        sample_id=data.sample_id,
        claims=[" ".join(claim.split()) for claim in data.claims],
        due_at=data.due(),
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
    application, applicant = await service.load_application(session, application_id)
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
            task=_task_input(data.task) if data.task else None,
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
    application, _ = await service.load_application(session, application_id)
    event = await service.add_note(session, application=application, text=data.text, by=staff, now=clock())
    return schemas.Note(at=event.created_at, author=staff.name, text=event.message or "")


@post(
    "/applications/{application_id:int}/tasks",
    name="api_task_create",
    responses=problems(400, 404, 409, 415),
    guards=[editors_only],
    summary="Create a fact-check task",
)
async def create_task(
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: PathId,
    data: JSONBody[schemas.TaskIn],
) -> schemas.TaskDetail:
    """A task with its claims for a fact-checker, who is emailed.

    409 on a closed application, an assignee who is not an active fact-checker, a sample of another
    application or a due time already past.
    """
    application, _ = await service.load_application(session, application_id)
    given = _task_input(data)
    with desk_rules():
        task = await factcheck.create_task(
            session,
            settings=settings,
            application=application,
            by=staff,
            assignee_id=given.assignee_id,
            sample_id=given.sample_id,
            claims=given.claims,
            due_at=given.due_at,
            now=clock(),
        )
    return await _task_detail(session, settings, task)


# --- fact-check tasks -----------------------------------------------------------------------------------


def _rows(rows: list[task_queries.TaskRow]) -> list[schemas.TaskRow]:
    return [
        schemas.TaskRow(
            id=row.id,
            state=TaskState(row.state),
            due_at=row.due_at,
            created_at=row.created_at,
            completed_at=row.completed_at,
            overall_verdict=Verdict(row.overall_verdict) if row.overall_verdict else None,
            sample_title=row.sample_title,
            assignee=row.assignee,
            claims=row.claims,
        )
        for row in rows
    ]


@get(
    "/tasks",
    name="api_tasks",
    responses=problems(),
    guards=[checkers_and_editors],
    summary="My fact-check tasks",
)
async def my_tasks(session: DbSession, clock: AppClock, staff: CurrentStaff) -> schemas.MyTasks:
    """Open tasks by urgency, those completed in the last 30 days and (editors) the tasks you created."""
    tasks = await task_queries.my_tasks(session, staff, clock())
    return schemas.MyTasks(
        overdue=_rows(tasks.overdue),
        due_soon=_rows(tasks.due_soon),
        later=_rows(tasks.later),
        completed=_rows(tasks.completed),
        created=_rows(tasks.created),
    )


async def _task_detail(session: DbSession, settings: AppSettings, task: FactCheckTask) -> schemas.TaskDetail:
    page = await task_queries.task_page(session, task, settings=settings, checkers=[])
    assert task.id is not None and page.assignee.id is not None
    return schemas.TaskDetail(
        id=task.id,
        application_id=task.application_id,
        state=TaskState(task.state),
        due_at=task.due_at,
        created_at=task.created_at,
        completed_at=task.completed_at,
        assignee=schemas.Person(id=page.assignee.id, name=page.assignee.name),
        creator=schemas.Person(id=page.creator.id or 0, name=page.creator.name) if page.creator else None,
        overall_verdict=Verdict(task.overall_verdict) if task.overall_verdict else None,
        summary=task.summary,
        sample=(
            schemas.SampleRef(id=page.sample.id or 0, title=page.sample.title, kind=page.sample.kind)  # type: ignore[arg-type]
            if page.sample
            else None
        ),
        claims=[
            schemas.ClaimOut(
                id=claim.id or 0,
                position=claim.position,
                quote=claim.quote,
                verdict=Verdict(claim.verdict) if claim.verdict else None,
                sources=list(claim.sources),
                note=claim.note,
            )
            for claim in page.claims
        ],
    )


@get(
    "/tasks/{task_id:int}",
    name="api_task",
    responses=problems(404),
    guards=[checkers_and_editors],
    summary="One fact-check task",
)
async def task(
    session: DbSession, settings: AppSettings, staff: CurrentStaff, task_id: PathId
) -> schemas.TaskDetail:
    """The task with its claims and verdicts; a fact-checker reaches only their own (404 otherwise)."""
    found = await task_queries.task_for(session, task_id, staff)
    return await _task_detail(session, settings, found)


@put(
    "/tasks/{task_id:int}/work",
    name="api_task_work",
    responses=problems(400, 404, 409, 415),
    guards=[checkers_and_editors],
    summary="Record verdicts",
)
async def save_work(
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    task_id: PathId,
    data: JSONBody[schemas.TaskWorkIn],
) -> schemas.TaskDetail:
    """Save the verdicts as a draft, or complete the task with `complete: true` (the editor is emailed).

    Only the task's fact-checker records verdicts (403); a closed task, claims of another task and completing
    without a verdict for every claim of the task answer 409.
    """
    found = await task_queries.task_for(session, task_id, staff)
    work.check_can_record(found, staff)
    page = await task_queries.task_page(session, found, settings=settings, checkers=[])
    known = {claim.id for claim in page.claims}
    unknown = [item.claim_id for item in data.claims if item.claim_id not in known]
    if unknown:
        raise Refused("Some claims are not this task's.", {"claims": f"Unknown claim ids: {unknown[:10]}."})
    # The form's field names, so that the page's own checks (verdicts, source addresses, lengths) apply.
    fields: dict[str, str] = {"overall_verdict": data.overall_verdict or "", "summary": data.summary}
    for item in data.claims:
        fields[f"verdict-{item.claim_id}"] = item.verdict or ""
        fields[f"sources-{item.claim_id}"] = "\n".join(item.sources)
        fields[f"note-{item.claim_id}"] = item.note
    with desk_rules():
        given = work.parse_work(fields, page.claims, complete=data.complete)
        await work.save_work(
            session,
            settings=settings,
            task=found,
            claims=page.claims,
            work=given,
            by=staff,
            complete=data.complete,
            now=clock(),
        )
    return await _task_detail(session, settings, found)


# --- the outbox -----------------------------------------------------------------------------------------


@get(
    "/outbox",
    name="api_outbox",
    responses=problems(),
    guards=[role_required("editor", "admin")],
    summary="The outbox",
)
async def outbox(
    session: DbSession,
    status: Annotated[EmailStatus | None, QueryParameter()] = None,
    template: Annotated[
        str,
        QueryParameter(
            max_length=80, pattern=schemas.PLAIN, description="A message kind, e.g. applicant_decision."
        ),
    ] = "",
    recipient: Annotated[
        str,
        QueryParameter(max_length=320, pattern=schemas.PLAIN, description="Part of the recipient's address."),
    ] = "",
    application: QueryId = None,
    before: QueryId = None,
) -> schemas.OutboxList:
    """Messages newest first, 50 a page, as on /outbox (message bodies are not listed)."""
    filters = outbox_queries.OutboxFilters(
        status=status or "",
        template=template,
        recipient=recipient.strip(),
        application_id=application,
        before_id=before,
    )
    rows, next_id = await outbox_queries.list_messages(session, filters)
    return schemas.OutboxList(
        items=[
            schemas.OutboxItem(
                id=row.id,
                created_at=row.created_at,
                recipient=row.recipient,
                template=row.template,
                status=EmailStatus(row.status),
                attempts=row.attempts,
                last_error=row.last_error,
                sent_at=row.sent_at,
                application_id=row.application_id,
                applicant_name=row.name,
            )
            for row in rows
        ],
        next_before=next_id,
        counts=await outbox_queries.status_counts(session),
    )


def create_router() -> Router:
    """The API's routes under /api/v1, all behind a bearer token; the only routes in the OpenAPI document."""
    return Router(
        path="/api/v1",
        route_handlers=[
            me,
            workflow_table,
            applications,
            application,
            move,
            add_note,
            create_task,
            my_tasks,
            task,
            save_work,
            outbox,
        ],
        guards=[api_staff],
        before_request=check_request,
        include_in_schema=True,
        security=[{"bearer": []}],
        tags=["Byline API"],
    )
