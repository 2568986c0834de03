"""The applicant's trial page behind the private status link: the brief, the time left, the piece (draft,
confirmation, final send), asking for more time, declining, and the deadline for a calendar."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.core import links
from app.core.errors import Invalid
from app.core.forms import FormFields, form_error
from app.core.web import AppClock, AppSettings, DbSession, redirect_to
from app.models import SampleKind, State, TrialState
from app.settings import MB, Settings
from app.trials import brief, ics, service
from app.trials.piece import PieceInput, piece_of, read_piece, words_problem

PAGE = "trials/applicant.html"
CONFIRM_PAGE = "trials/confirm.html"
# The piece's form carries one file: the default per-file limit and room for the text fields. The upload's own
# checks hold it to BYLINE_MAX_FILE_BYTES.
PIECE_BODY_LIMIT = int(Settings.model_fields["max_file_bytes"].default) + MB


async def _page(
    session: DbSession,
    clock: AppClock,
    public_id: str,
    *,
    values: dict[str, str] | None = None,
    error: Invalid | None = None,
) -> Template:
    application, applicant, trial = await service.trial_of_status_link(session, public_id)
    now = clock()
    piece = await piece_of(session, trial)
    running = trial.state == TrialState.offered and application.state == State.trial
    return Template(
        PAGE,
        context={
            "application": application,
            "applicant": applicant,
            "trial": trial,
            "piece": piece,
            "running": running,
            "locked": running and brief.is_locked(trial, now),
            "late": brief.is_late(trial, now),
            "time_left": brief.time_left(trial.deadline_at, now),
            "fee": brief.fee_text(trial),
            "time_zone": brief.zone_name(),
            "words_problem": words_problem(trial, piece.word_count) if piece else None,
            "values": values or {},
            "errors": error.errors if error else {},
            "error_message": error.message if error else "",
        },
        status_code=error.status_code if error else 200,
    )


@get("/status/{public_id:str}/trial", name="trial_page")
async def trial_page(session: DbSession, clock: AppClock, public_id: FromPath[str]) -> Template:
    """The brief, the deadline in the applicant's time, the time left and the piece's form."""
    return await _page(session, clock, public_id)


@post("/status/{public_id:str}/trial/draft", name="trial_draft", request_max_body_size=PIECE_BODY_LIMIT)
async def save_draft(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    public_id: FromPath[str],
) -> Template | Redirect:
    """Keep the piece as a draft (it replaces the one before); "review" goes on to the confirmation."""
    form = await request.form()
    data: PieceInput = read_piece(form)
    try:
        await service.save_piece(session, settings, public_id=public_id, data=data, now=clock())
    except Invalid as exc:
        return await form_error(
            session,
            exc,
            lambda error: _page(session, clock, public_id, values={"text": data.text}, error=error),
        )
    finally:
        if data.upload is not None:
            await data.upload.close()
    if form.get("next") == "confirm":
        return redirect_to(request, "trial_confirm", public_id=public_id)
    return redirect_to(request, "trial_page", public_id=public_id, fragment="piece")


@get("/status/{public_id:str}/trial/confirm", name="trial_confirm")
async def confirm(
    request: Request[Any, Any, Any], session: DbSession, clock: AppClock, public_id: FromPath[str]
) -> Template | Redirect:
    """The saved piece and its word count, shown once more before the final send."""
    application, _, trial = await service.trial_of_status_link(session, public_id)
    piece = await piece_of(session, trial)
    now = clock()
    if (
        piece is None
        or piece.is_final
        or trial.state != TrialState.offered
        or application.state != State.trial
    ):
        return redirect_to(request, "trial_page", public_id=public_id)
    return Template(
        CONFIRM_PAGE,
        context={
            "application": application,
            "trial": trial,
            "piece": piece,
            "is_file": piece.kind == SampleKind.file,
            "locked": brief.is_locked(trial, now),
            "late": brief.is_late(trial, now),
            "words_problem": words_problem(trial, piece.word_count),
        },
    )


@post("/status/{public_id:str}/trial/send", name="trial_send")
async def send(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    public_id: FromPath[str],
) -> Template | Redirect:
    """The final send of the saved piece."""
    try:
        await service.send_piece(session, settings, public_id=public_id, now=clock())
    except Invalid as exc:
        return await form_error(session, exc, lambda error: _page(session, clock, public_id, error=error))
    return redirect_to(request, "trial_page", public_id=public_id)


@post("/status/{public_id:str}/trial/more-time", name="trial_more_time")
async def more_time(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    public_id: FromPath[str],
) -> Template | Redirect:
    """Ask the editors for a later deadline."""
    form = await request.form()
    try:
        await service.request_more_time(
            session, settings, public_id=public_id, fields=FormFields(form), now=clock()
        )
    except Invalid as exc:
        values = {"request": str(form.get("request") or "")}
        return await form_error(
            session, exc, lambda error: _page(session, clock, public_id, values=values, error=error)
        )
    return redirect_to(request, "trial_page", public_id=public_id, query={"asked": "1"})


@post("/status/{public_id:str}/trial/decline", name="trial_decline")
async def decline(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    public_id: FromPath[str],
) -> Template | Redirect:
    """Turn the trial down, with an optional reason for the editors."""
    form = await request.form()
    try:
        await service.decline(session, settings, public_id=public_id, fields=FormFields(form), now=clock())
    except Invalid as exc:
        values = {"reason": str(form.get("reason") or "")}
        return await form_error(
            session, exc, lambda error: _page(session, clock, public_id, values=values, error=error)
        )
    return redirect_to(request, "trial_page", public_id=public_id)


@get("/status/{public_id:str}/trial/deadline.ics", name="trial_ics")
async def deadline_ics(
    session: DbSession, settings: AppSettings, clock: AppClock, public_id: FromPath[str]
) -> Response[bytes]:
    """The deadline as a calendar event."""
    application, _, trial = await service.trial_of_status_link(session, public_id)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "byline.invalid"
    body = ics.deadline_calendar(
        trial,
        publication=settings.publication_name,
        trial_url=links.absolute(settings, "trial_page", public_id=application.public_id),
        domain=domain,
        now=clock(),
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="trial-deadline.ics"'},
    )


ROUTES: list[Any] = [trial_page, save_draft, confirm, send, more_time, decline, deadline_ics]
