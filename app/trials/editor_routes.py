"""The editors' trial routes: offer a trial with its brief, extend its deadline, cancel it, read the piece."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import File, Redirect, Template
from sqlalchemy import select
from sqlmodel import col

from app.accounts.guards import CurrentStaff, checkers_and_editors, editors_only
from app.core import moves
from app.core.downloads import staff_attachment
from app.core.errors import Invalid, NotFound
from app.core.forms import FormFields, form_error, int_or_none
from app.core.i18n import N_, current_time_zone
from app.core.moves import version_of
from app.core.web import AppClock, AppSettings, DbSession, redirect_to
from app.factcheck.service import fact_checkers_with_load
from app.models import SampleKind, Trial, TrialPiece
from app.trials import brief, service

OFFER_PAGE = "trials/offer.html"
EXTEND_PAGE = "trials/extend.html"


async def _offer_page(
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    application_id: int,
    *,
    values: dict[str, Any] | None = None,
    error: Invalid | None = None,
) -> Template:
    application, applicant = await moves.load_application(session, application_id)
    return Template(
        OFFER_PAGE,
        context={
            "application": application,
            "applicant": applicant,
            "trial_form": values
            or brief.template(
                application.locale,
                now=clock(),
                time_zone=current_time_zone(),
                name=applicant.name,
                publication=settings.publication_name,
            ),
            "fact_checkers": await fact_checkers_with_load(session),
            "fee_kinds": brief.FEE_KINDS,
            "currencies": brief.CURRENCIES,
            "errors": error.errors if error else {},
            "error_message": error.message if error else "",
            "time_zone": current_time_zone(),
        },
        status_code=error.status_code if error else 200,
    )


@get("/applications/{application_id:int}/trial/new", name="trial_offer_form", guards=[editors_only])
async def offer_form(
    session: DbSession, settings: AppSettings, clock: AppClock, application_id: FromPath[int]
) -> Template:
    """The offer of a trial on a page of its own: the brief from its template in the applicant's language."""
    return await _offer_page(session, settings, clock, application_id)


@post("/applications/{application_id:int}/trial", name="trial_offer", guards=[editors_only])
async def offer(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
) -> Template | Redirect:
    """Offer a trial: the brief is written and the application moves to `trial` in one step."""
    form = await request.form()
    now = clock()
    try:
        version = version_of(form)
        application, applicant = await moves.load_application(session, application_id)
        checkers = [user.id for user, _ in await fact_checkers_with_load(session) if user.id is not None]
        written = brief.read_brief(form, time_zone=current_time_zone(), now=now, fact_checker_ids=checkers)
        await service.offer(
            session,
            settings,
            application=application,
            applicant=applicant,
            user=staff,
            brief=written,
            version=version,
            now=now,
        )
    except Invalid as exc:
        return await form_error(
            session,
            exc,
            lambda error: _offer_page(
                session, settings, clock, application_id, values=_kept(form), error=error
            ),
        )
    return redirect_to(request, "application", application_id=application_id, fragment="trial")


def _kept(form: FormMultiDict) -> dict[str, Any]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _trial(session: DbSession, application_id: int, trial_id: int) -> Trial:
    trial = await session.get(Trial, trial_id)
    if trial is None or trial.application_id != application_id:
        raise NotFound(N_("There is no such trial."))
    return trial


@post(
    "/applications/{application_id:int}/trial/{trial_id:int}/extend",
    name="trial_extend",
    guards=[editors_only],
)
async def extend(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
    trial_id: FromPath[int],
) -> Template | Redirect:
    """Move the deadline later; the applicant is emailed."""
    form = await request.form()
    try:
        application, applicant = await moves.load_application(session, application_id)
        trial = await _trial(session, application_id, trial_id)
        await service.extend(
            session,
            settings,
            application=application,
            applicant=applicant,
            trial=trial,
            user=staff,
            fields=FormFields(form),
            version=int_or_none(form.get("version")),
            now=clock(),
            time_zone=current_time_zone(),
        )
    except Invalid as exc:

        async def page(error: Invalid) -> Template:
            application, applicant = await moves.load_application(session, application_id)
            return Template(
                EXTEND_PAGE,
                context={
                    "application": application,
                    "applicant": applicant,
                    "trial": await _trial(session, application_id, trial_id),
                    "values": _kept(form),
                    "errors": error.errors,
                    "error_message": error.message,
                    "time_zone": current_time_zone(),
                },
            )

        return await form_error(session, exc, page)
    return redirect_to(request, "application", application_id=application_id, fragment="trial")


@post(
    "/applications/{application_id:int}/trial/{trial_id:int}/revoke",
    name="trial_cancel",
    guards=[editors_only],
)
async def cancel(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    staff: CurrentStaff,
    application_id: FromPath[int],
    trial_id: FromPath[int],
) -> Redirect:
    """Call the trial off; the applicant is emailed and the editors decide as after any trial."""
    form = await request.form()
    application, applicant = await moves.load_application(session, application_id)
    trial = await _trial(session, application_id, trial_id)
    await service.cancel(
        session,
        settings,
        application=application,
        applicant=applicant,
        trial=trial,
        user=staff,
        version=int_or_none(form.get("version")),
        now=clock(),
    )
    return redirect_to(request, "application", application_id=application_id, fragment="trial")


@get(
    "/applications/{application_id:int}/trial/{trial_id:int}/piece",
    name="trial_piece_file",
    guards=[checkers_and_editors],
)
async def piece_file(
    session: DbSession,
    settings: AppSettings,
    staff: CurrentStaff,
    application_id: FromPath[int],
    trial_id: FromPath[int],
) -> File:
    """The piece's file as an attachment with its sniffed type, for staff only (docs/security.md E5); a
    fact-checker reaches it only with a task on this application."""
    trial = await _trial(session, application_id, trial_id)
    piece = (await session.scalars(select(TrialPiece).where(col(TrialPiece.trial_id) == trial.id))).first()
    if piece is None or piece.kind != SampleKind.file:
        raise NotFound(N_("There is no such file."))
    return await staff_attachment(
        session,
        settings,
        staff,
        application_id=application_id,
        storage_key=piece.storage_key,
        file_name=piece.file_name or f"trial-piece-{piece.id}.{piece.detected_type}",
        content_type=piece.content_type,
    )


ROUTES: list[Any] = [offer_form, offer, extend, cancel, piece_file]
