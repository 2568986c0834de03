"""Fact-check pages: creating a task from a sample's sentences, "My tasks", the task page and its actions."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlmodel import col

from app.accounts.guards import CurrentStaff, checkers_and_editors, editors_only
from app.core.errors import Invalid, NotFound
from app.core.forms import FormFields, form_error, int_or_none
from app.core.i18n import gettext as _
from app.core.moves import check_version, load_application, version_of
from app.core.web import AppClock, AppSettings, DbSession, redirect_to
from app.factcheck import extract, forms, queries, service, work
from app.models import FactCheckTask, SampleKind, WorkSample


async def _new_task_context(
    session: DbSession, settings: AppSettings, application_id: int, sample_id: int | None
) -> dict[str, Any]:
    application, applicant = await load_application(session, application_id)
    usable = list(
        (
            await session.scalars(
                select(WorkSample)
                .where(col(WorkSample.application_id) == application_id)
                .order_by(col(WorkSample.position))
            )
        ).all()
    )
    chosen = next((s for s in usable if s.id == sample_id), None)
    if chosen is None:
        chosen = next((s for s in usable if s.kind != SampleKind.link), usable[0] if usable else None)
    text = extract.sample_text(chosen) if chosen else ""
    return {
        "application": application,
        "applicant": applicant,
        "samples": usable,
        "sample": chosen,
        "sentences": extract.sentences(text),
        "has_text": bool(text),
        "fact_checkers": await service.fact_checkers_with_load(session),
        "values": {},
        "ticked": set(),
        "errors": {},
    }


@get("/applications/{application_id:int}/tasks/new", name="task_new", guards=[editors_only])
async def new_task(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    staff: CurrentStaff,
    application_id: FromPath[int],
) -> Template:
    """Pick the claims of a new task by ticking sentences of a sample, or type them."""
    sample = int_or_none(request.query_params.get("sample"))
    context = await _new_task_context(session, settings, application_id, sample)
    return Template("factcheck/new_task.html", context=context)


@post("/applications/{application_id:int}/tasks", name="task_create", guards=[editors_only])
async def create_task(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
) -> Template | Redirect:
    """Create the task; the fact-checker is emailed. Bad input: the page again with every choice kept."""
    form = await request.form()
    try:
        application, _ = await load_application(session, application_id)
        await check_version(session, application, version_of(form))
        task = forms.new_task_input(form)
        await service.create_task(
            session,
            settings=settings,
            application=application,
            by=staff,
            assignee_id=task.assignee_id,
            sample_id=task.sample_id,
            claims=task.claims,
            due_at=task.due_at,
            now=clock(),
        )
    except Invalid as exc:
        return await form_error(
            session, exc, lambda error: _new_task_again(session, settings, application_id, form, error)
        )
    return redirect_to(request, "application", application_id=application_id, fragment="tasks-title")


async def _new_task_again(
    session: DbSession, settings: AppSettings, application_id: int, form: FormMultiDict, error: Invalid
) -> Template:
    """The new-task page again with every choice kept and the messages at the fields."""
    context = await _new_task_context(session, settings, application_id, int_or_none(form.get("task_sample")))
    ticked = set(FormFields(form).values("sentence"))
    context.update(values=dict(form), ticked=ticked, errors=error.errors, error=error.message)
    return Template("factcheck/new_task.html", context=context)


@get("/tasks", name="my_tasks", guards=[checkers_and_editors])
async def my_tasks(session: DbSession, clock: AppClock, staff: CurrentStaff) -> Template:
    """Open tasks by urgency, lately completed ones, and for editors the tasks they created."""
    now = clock()
    return Template(
        "factcheck/my_tasks.html", context={"tasks": await queries.my_tasks(session, staff, now), "now": now}
    )


async def _render_task(
    session: DbSession,
    settings: AppSettings,
    staff: CurrentStaff,
    task_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    notice: str = "",
    ticked: set[str] | None = None,
    typed: str = "",
) -> Template:
    task = await queries.task_for(session, task_id, staff)
    checkers = await service.fact_checkers_with_load(session) if staff.is_editor else []
    page = await queries.task_page(session, task, settings=settings, checkers=checkers)
    return Template(
        "factcheck/task.html",
        context={
            "page": page,
            "errors": errors or {},
            "values": values,
            "notice": notice,
            "mine": task.assignee_id == staff.id,
            "ticked": ticked or set(),
            "typed": typed,
        },
    )


@get("/tasks/{task_id:int}", name="task_page", guards=[checkers_and_editors])
async def task_page(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    staff: CurrentStaff,
    task_id: FromPath[int],
) -> Template:
    """The sample with its claims marked, and a verdict, sources and a note for each claim."""
    done = request.query_params.get("done", "")
    notice = {
        "saved": _("Saved. The task is in progress."),
        "completed": _("Completed. The editor has been told."),
        "taken": _("The task is yours now."),
        "claims": _("The claims were added."),
    }
    return await _render_task(session, settings, staff, task_id, notice=notice.get(done, ""))


@post("/tasks/{task_id:int}", name="task_save", guards=[checkers_and_editors])
async def save_task(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    task_id: FromPath[int],
) -> Template | Redirect:
    """Save the verdicts as a draft, or complete the task (every claim and the whole need a verdict)."""
    task = await queries.task_for(session, task_id, staff)
    work.check_can_record(task, staff)
    form = await request.form()
    complete = form.get("action") == "complete"
    page = await queries.task_page(session, task, settings=settings, checkers=[])
    try:
        data = work.parse_work(form, page.claims, complete=complete)
        await work.save_work(
            session,
            settings=settings,
            task=task,
            claims=page.claims,
            work=data,
            by=staff,
            complete=complete,
            now=clock(),
        )
    except Invalid as exc:
        return await form_error(
            session,
            exc,
            lambda error: _render_task(
                session, settings, staff, task_id, errors=error.errors, values=dict(form)
            ),
        )
    return redirect_to(request, "task_page", {"done": "completed" if complete else "saved"}, task_id=task_id)


@post("/tasks/{task_id:int}/reassign", name="task_reassign", guards=[editors_only])
async def reassign_task(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    task_id: FromPath[int],
) -> Template | Redirect:
    """Hand the task to another fact-checker."""
    task = await queries.task_for(session, task_id, staff)
    fields = FormFields(await request.form())
    try:
        await work.reassign(
            session,
            settings=settings,
            task=task,
            assignee_id=fields.integer("assignee"),
            by=staff,
            now=clock(),
        )
    except Invalid as exc:
        return await form_error(
            session, exc, lambda error: _render_task(session, settings, staff, task_id, errors=error.errors)
        )
    return redirect_to(request, "task_page", task_id=task_id)


@post("/tasks/{task_id:int}/cancel", name="task_cancel", guards=[editors_only])
async def cancel_task(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    task_id: FromPath[int],
) -> Redirect:
    """Cancel the task; it no longer holds the application in fact check."""
    task = await queries.task_for(session, task_id, staff)
    fields = FormFields(await request.form())
    await work.cancel(
        session, settings=settings, task=task, reason=fields.raw("reason"), by=staff, now=clock()
    )
    return redirect_to(request, "task_page", task_id=task_id)


@post("/tasks/{task_id:int}/take", name="task_take", guards=[checkers_and_editors])
async def take_task(
    request: Request[Any, Any, Any],
    session: DbSession,
    clock: AppClock,
    staff: CurrentStaff,
    task_id: FromPath[int],
) -> Redirect:
    """Take a task waiting at the desk; if another fact-checker was quicker, a 409 page says so."""
    try:
        task = await queries.task_for(session, task_id, staff)
    except NotFound:
        # Someone else took it a moment ago: say so (a task that never waited at the desk stays a 404).
        found = await session.get(FactCheckTask, task_id)
        if found is not None and staff.is_fact_checker and await work.was_at_desk(session, found):
            raise work.taken_first() from None
        raise
    await work.take(session, task=task, by=staff, now=clock())
    return redirect_to(request, "task_page", {"done": "taken"}, task_id=task_id)


@post("/tasks/{task_id:int}/claims", name="task_add_claims", guards=[checkers_and_editors])
async def add_claims(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    task_id: FromPath[int],
) -> Template | Redirect:
    """Add the ticked sentences of the trial piece (and typed claims) to the task as claims."""
    task = await queries.task_for(session, task_id, staff)
    form = await request.form()
    page = await queries.task_page(session, task, settings=settings, checkers=[])
    try:
        quotes = work.picked_claims(form, len(page.claims))
        await work.add_claims(session, task=task, claims=page.claims, quotes=quotes, by=staff, now=clock())
    except Invalid as exc:
        ticked = set(FormFields(form).values("sentence"))
        return await form_error(
            session,
            exc,
            lambda error: _render_task(
                session,
                settings,
                staff,
                task_id,
                errors=error.errors,
                ticked=ticked,
                typed=FormFields(form).raw("task_claims"),
            ),
        )
    return redirect_to(request, "task_page", {"done": "claims"}, task_id=task_id)


def create_router() -> Router:
    return Router(
        path="/",
        route_handlers=[
            new_task,
            create_task,
            my_tasks,
            task_page,
            save_task,
            reassign_task,
            cancel_task,
            take_task,
            add_claims,
        ],
    )
