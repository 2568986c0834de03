"""The JSON API's fact-check routes: a task for an application, my tasks, one task and its work.

A fact-checker sees only their own tasks (anyone else's is a 404). Registered under /api/v1 by
app/api/routes.py.
"""

from __future__ import annotations

from litestar import get, post, put
from litestar.params import JSONBody

from app.accounts.guards import CurrentStaff, checkers_and_editors, editors_only
from app.api import schemas
from app.api.openapi import problems
from app.api.params import PathId
from app.api.strict import Refused, desk_rules
from app.core.moves import load_application
from app.core.web import AppClock, AppSettings, DbSession
from app.factcheck import queries as task_queries
from app.factcheck import service as factcheck
from app.factcheck import work
from app.factcheck.service import TaskInput
from app.models import FactCheckTask, TaskState, Verdict


def task_input(data: schemas.TaskIn) -> TaskInput:
    return TaskInput(
        assignee_id=data.assignee_id,
        sample_id=data.sample_id,
        claims=[" ".join(claim.split()) for claim in data.claims],
        due_at=data.due(),
    )


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
    application, _ = await load_application(session, application_id)
    given = task_input(data)
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
        desk=_rows(tasks.desk),
    )


async def _task_detail(session: DbSession, settings: AppSettings, task: FactCheckTask) -> schemas.TaskDetail:
    page = await task_queries.task_page(session, task, settings=settings, checkers=[])
    assert task.id is not None
    return schemas.TaskDetail(
        id=task.id,
        application_id=task.application_id,
        state=TaskState(task.state),
        due_at=task.due_at,
        created_at=task.created_at,
        completed_at=task.completed_at,
        assignee=schemas.Person(id=page.assignee.id or 0, name=page.assignee.name) if page.assignee else None,
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


ROUTES = [create_task, my_tasks, task, save_work]
