"""The editors' trial score: one form on the trial panel; each editor's score is their own row."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlmodel import col

from app.accounts.guards import CurrentStaff, editors_only
from app.core.errors import Invalid, NotFound
from app.core.forms import form_error
from app.core.i18n import N_
from app.core.moves import load_application, version_of
from app.core.web import AppClock, AppSettings, DbSession, redirect_to
from app.models import Trial, TrialPiece
from app.trials import scores


async def _trial(session: DbSession, application_id: int, trial_id: int) -> Trial:
    trial = await session.get(Trial, trial_id)
    if trial is None or trial.application_id != application_id:
        raise NotFound(N_("There is no such trial."))
    return trial


async def _score_page(
    session: DbSession,
    staff: CurrentStaff,
    application_id: int,
    trial_id: int,
    error: Invalid,
    values: dict[str, Any],
) -> Template:
    """The score form again, on a page of its own, with the marks given and a message at each wrong one."""
    application, applicant = await load_application(session, application_id)
    trial = await _trial(session, application_id, trial_id)
    piece = (await session.scalars(select(TrialPiece).where(col(TrialPiece.trial_id) == trial.id))).first()
    context: dict[str, Any] = {
        "application": application,
        "applicant": applicant,
        "trial": trial,
        "piece": piece,
        "version": application.version,
        "staff": staff,
        "trial_score_errors": error.errors,
        "trial_score_message": error.message,
        "trial_score_values": values,
    }
    context.update(await scores.panel(session, trial, staff))
    return Template("trials/score.html", context=context)


@post(
    "/applications/{application_id:int}/trials/{trial_id:int}/score",
    name="trial_score",
    guards=[editors_only],
)
async def score_trial(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
    trial_id: FromPath[int],
) -> Template | Redirect:
    """Record (or change) this editor's marks for the trial piece."""
    form = await request.form()
    try:
        application, _ = await load_application(session, application_id)
        trial = await _trial(session, application_id, trial_id)
        marks = scores.marks_input(form)
        await scores.save_score(
            session,
            application=application,
            trial=trial,
            by=staff,
            marks=marks,
            expected_version=version_of(form),
            now=clock(),
        )
    except Invalid as exc:
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        return await form_error(
            session, exc, lambda error: _score_page(session, staff, application_id, trial_id, error, values)
        )
    return redirect_to(request, "application", application_id=application_id, fragment="trial-scores")


ROUTES = [score_trial]
