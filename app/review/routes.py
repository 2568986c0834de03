"""The application page: details, samples, timeline, notes, scores, labels, assignment and workflow moves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Router, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import File, Redirect, Template

from app.accounts.guards import CurrentStaff, checkers_and_editors, editors_only
from app.core import moves
from app.core.downloads import staff_attachment
from app.core.errors import Invalid, NotFound
from app.core.forms import form_error
from app.core.i18n import N_
from app.core.moves import version_of
from app.core.web import AppClock, AppSettings, DbSession, redirect_to
from app.models import Applicant, Application, SampleKind, State, WorkSample
from app.review import bulk, detail, forms, service

PAGE = "review/application.html"


async def _render(
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: int,
    *,
    error: Invalid | None = None,
    values: dict[str, Any] | None = None,
) -> Template:
    page = await detail.load_page(
        session, application_id=application_id, staff=staff, settings=settings, now=clock()
    )
    return Template(
        PAGE,
        context={
            # The trial panel's parts read their own names (templates/trials/_panel.html).
            **(page.trial or {}),
            "page": page,
            "staff": staff,
            "criteria": service.CRITERIA,
            "recommendations": detail.RECOMMENDATIONS,
            "task_states": detail.TASK_STATES,
            "verdicts": detail.VERDICTS,
            "errors": error.errors if error else {},
            "error_message": error.message if error else "",
            "values": values or {},
            "now": clock(),
        },
        status_code=error.status_code if error else 200,
    )


@get("/applications/{application_id:int}", name="application", guards=[editors_only])
async def application_page(
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
) -> Template:
    """One application with everything an editor needs to decide."""
    return await _render(session, settings, clock, staff, application_id)


Action = Callable[[FormMultiDict, Application, Applicant], Awaitable[object]]


async def _act(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: int,
    action: Action,
    fragment: str = "",
) -> Template | Redirect:
    """Run one form's action; invalid input re-renders the page with the values and messages (422)."""
    form = await request.form()
    try:
        application, applicant = await moves.load_application(session, application_id)
        await action(form, application, applicant)
    except Invalid as exc:
        return await form_error(
            session,
            exc,
            lambda error: _render(
                session, settings, clock, staff, application_id, error=error, values=dict(form)
            ),
        )
    return redirect_to(request, "application", application_id=application_id, fragment=fragment)


@post("/applications/{application_id:int}/move", name="application_move", guards=[editors_only])
async def move(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
) -> Template | Redirect:
    """Make one workflow move (with a fact-check task created in the same step when sending to fact check)."""

    async def action(form: FormMultiDict, application: Application, applicant: Applicant) -> None:
        data = forms.move_input(form)
        await service.make_move(
            session,
            settings=settings,
            application=application,
            applicant=applicant,
            user=staff,
            to=data.to,
            version=data.version,
            message=data.message,
            reason=data.reason,
            task=data.task,
            now=clock(),
        )

    return await _act(request, session, settings, clock, staff, application_id, action)


@post("/applications/{application_id:int}/assign", name="application_assign", guards=[editors_only])
async def assign(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
) -> Template | Redirect:
    """Assign the application to an editor (taking up a submitted one starts its screening)."""

    async def action(form: FormMultiDict, application: Application, applicant: Applicant) -> None:
        await service.assign(
            session,
            settings=settings,
            application=application,
            applicant=applicant,
            assignee_id=forms.assignee_input(form, staff.id),
            by=staff,
            expected_version=version_of(form),
            now=clock(),
        )

    return await _act(request, session, settings, clock, staff, application_id, action)


@post("/applications/{application_id:int}/notes", name="application_note", guards=[editors_only])
async def add_note(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
) -> Template | Redirect:
    """Add an internal note to the timeline (it carries no version: a note overwrites nothing)."""

    async def action(form: FormMultiDict, application: Application, _: Applicant) -> None:
        note = forms.note_input(form)
        await service.add_note(session, application=application, text=note, by=staff, now=clock())

    return await _act(request, session, settings, clock, staff, application_id, action, "timeline")


@post("/applications/{application_id:int}/labels", name="application_labels", guards=[editors_only])
async def labels(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
) -> Template | Redirect:
    """Replace the application's labels."""

    async def action(form: FormMultiDict, application: Application, _: Applicant) -> None:
        await service.set_labels(
            session,
            application=application,
            names=forms.labels_input(form),
            by=staff,
            expected_version=version_of(form),
            now=clock(),
        )

    return await _act(request, session, settings, clock, staff, application_id, action)


@post("/applications/{application_id:int}/score", name="application_score", guards=[editors_only])
async def score(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
) -> Template | Redirect:
    """Record this editor's rubric scores."""

    async def action(form: FormMultiDict, application: Application, _: Applicant) -> None:
        data = forms.score_input(form)
        await service.save_score(
            session,
            application=application,
            by=staff,
            marks=data.marks,
            recommendation=data.recommendation,
            comment=data.comment,
            expected_version=version_of(form),
            now=clock(),
        )

    return await _act(request, session, settings, clock, staff, application_id, action, "scores")


@get(
    "/applications/{application_id:int}/samples/{sample_id:int}/file",
    name="sample_file",
    guards=[checkers_and_editors],
)
async def sample_file(
    session: DbSession,
    settings: AppSettings,
    staff: CurrentStaff,
    application_id: FromPath[int],
    sample_id: FromPath[int],
) -> File:
    """An uploaded sample as an attachment with its sniffed type (docs/security.md E5)."""
    sample = await session.get(WorkSample, sample_id)
    if sample is None or sample.application_id != application_id or sample.kind != SampleKind.file:
        raise NotFound(N_("There is no such file."))
    return await staff_attachment(
        session,
        settings,
        staff,
        application_id=application_id,
        storage_key=sample.storage_key,
        file_name=sample.file_name or f"sample-{sample.id}.{sample.detected_type}",
        content_type=sample.content_type,
    )


@post("/dashboard/bulk", name="bulk_preview", guards=[editors_only])
async def bulk_preview(
    request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, staff: CurrentStaff
) -> Template:
    """Show what a bulk action would do to each ticked application, with a form to confirm it."""
    form = await request.form()
    try:
        data = bulk.parse_bulk(form, staff.id)
    except Invalid as exc:
        return await form_error(
            session, exc, lambda error: Template("review/bulk.html", context={"error": error, "items": []})
        )
    items = await bulk.plan(session, request=data, staff=staff)
    message = data.message or (
        bulk.default_reject_message(settings.publication_name, settings.default_locale)
        if data.target == State.rejected
        else ""
    )
    return Template(
        "review/bulk.html",
        context={"request_data": data, "items": items, "message": message, "done": False},
    )


@post("/dashboard/bulk/apply", name="bulk_apply", guards=[editors_only])
async def bulk_apply(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
) -> Template:
    """Carry out a confirmed bulk action, one event and one email per application."""
    form = await request.form()
    try:
        data = bulk.parse_bulk(form, staff.id)
    except Invalid as exc:
        return await form_error(
            session, exc, lambda error: Template("review/bulk.html", context={"error": error, "items": []})
        )
    items = await bulk.apply(session, settings=settings, request=data, staff=staff, now=clock())
    return Template("review/bulk.html", context={"request_data": data, "items": items, "done": True})


def create_router() -> Router:
    return Router(
        path="/",
        route_handlers=[
            application_page,
            move,
            assign,
            add_note,
            labels,
            score,
            sample_file,
            bulk_preview,
            bulk_apply,
        ],
    )
