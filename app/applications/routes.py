"""Public pages: the call for authors, the form, the thank-you page and the status page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlmodel import col

from app.applications import reply, service
from app.applications.forms import LIMITS, ParsedForm, in_page_order, parse_form
from app.applications.queries import application_by_public_id, status_view
from app.applications.reply import ReplyForm, parse_reply
from app.applications.spam import HONEYPOT_FIELD, issue_form_token
from app.core import links, site, workflow
from app.core.errors import Invalid
from app.core.forms import form_error
from app.core.i18n import gettext as _
from app.core.web import AppClock, AppSettings, DbSession, client_ip, redirect_to
from app.models import State, Trial
from app.settings import MB, Settings

EMPTY_VALUES: dict[str, Any] = {"profile_links": [], "departments": [], "topics": []}


@get("/", name="home")
async def home(session: DbSession) -> Template:
    """The call for authors with the departments and topics."""
    return Template(
        "applications/home.html",
        context={
            "call_text": await site.call_text(session),
            "departments": await site.list_departments(session),
            "topics": await site.list_topics(session),
        },
    )


async def _form_page(
    session: DbSession,
    settings: Settings,
    *,
    parsed: ParsedForm | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    errors = errors or {}
    token = parsed.form_token if parsed and parsed.form_token and "form" not in errors else None
    reattach = {slot.index: slot.file_name for slot in parsed.slots if slot.upload} if parsed else {}
    return Template(
        "applications/apply.html",
        context={
            "values": parsed.values if parsed else EMPTY_VALUES,
            "slots": parsed.slots if parsed else [],
            "consent_checked": parsed.consent if parsed else False,
            "errors": in_page_order(errors, settings.max_samples),
            "reattach": reattach,
            "form_token": token or issue_form_token(settings),
            "honeypot_field": HONEYPOT_FIELD,
            "departments": await site.list_departments(session),
            "topics": await site.list_topics(session),
            "consent_text": await site.consent(session, settings.publication_name),
            "limits": LIMITS,
        },
    )


@get("/apply", name="apply")
async def apply_form(session: DbSession, settings: AppSettings) -> Template:
    """The empty application form."""
    return await _form_page(session, settings)


def submit_handler(settings: Settings) -> Any:
    """The form's POST handler, with the body limit raised to one application's worth of samples."""

    @post("/apply", name="apply_submit", request_max_body_size=settings.max_request_bytes)
    async def apply_submit(
        request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, clock: AppClock
    ) -> Template | Redirect:
        """Store a valid application and redirect to the thank-you page; otherwise show the form again."""
        parsed = parse_form(await request.form(), settings)
        try:
            public_id = await service.submit_application(
                session, settings=settings, parsed=parsed, ip=client_ip(request, settings), now=clock()
            )
        except Invalid as exc:
            errors = {**parsed.errors, **exc.errors}
            return await form_error(
                session, exc, lambda error: _form_page(session, settings, parsed=parsed, errors=errors)
            )
        finally:
            for slot in parsed.slots:
                if slot.upload is not None:
                    await slot.upload.close()
        return redirect_to(request, "apply_received", public_id=public_id)

    return apply_submit


@get("/apply/received/{public_id:str}", name="apply_received")
async def apply_received(
    request: Request[Any, Any, Any], session: DbSession, settings: AppSettings, public_id: FromPath[str]
) -> Template | Redirect:
    """Thank-you page with the private status link, in full so that it can be copied and kept."""
    application, applicant = await application_by_public_id(session, public_id)
    if application.erased_at is not None:
        return redirect_to(request, "status", public_id=public_id)
    return Template(
        "applications/received.html",
        context={
            "application": application,
            "applicant": applicant,
            "status_url": links.status_url(settings, public_id),
        },
    )


async def _status_page(
    session: DbSession,
    public_id: str,
    *,
    reply_form: ReplyForm | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    view = await status_view(session, public_id)
    state = view.application.state
    # The latest trial, read from its table (the trials package sits above this one and builds its page).
    trial = (
        await session.scalars(
            select(Trial)
            .where(col(Trial.application_id) == view.application.id)
            .order_by(col(Trial.id).desc())
            .limit(1)
        )
    ).first()
    questions = [e.message for e in view.events if e.to_state == State.info_requested and e.message]
    return Template(
        "applications/status.html",
        context={
            "view": view,
            "label": workflow.public_label(state),
            "can_withdraw": workflow.find_move(state, State.withdrawn, workflow.Actor.applicant) is not None,
            "can_reply": state == State.info_requested,
            "question": questions[-1] if questions else "",
            "public_labels": workflow.PUBLIC_LABELS,
            "values": reply_form.values if reply_form else {},
            "errors": errors or {},
            "trial": trial,
        },
    )


@get("/status/{public_id:str}", name="status")
async def status_page(session: DbSession, public_id: FromPath[str]) -> Template:
    """The applicant's private status page."""
    return await _status_page(session, public_id)


def reply_handler(settings: Settings) -> Any:
    """The reply's POST handler, with the body limit raised to one sample file."""

    @post("/status/{public_id:str}/reply", name="reply", request_max_body_size=settings.max_file_bytes + MB)
    async def reply_submit(
        request: Request[Any, Any, Any],
        session: DbSession,
        settings: AppSettings,
        clock: AppClock,
        public_id: FromPath[str],
    ) -> Template | Redirect:
        """Answer the editors' question; the application goes back to them."""
        form = parse_reply(await request.form())
        try:
            await reply.reply(session, settings=settings, public_id=public_id, form=form, now=clock())
        except Invalid as exc:
            return await form_error(
                session,
                exc,
                lambda error: _status_page(session, public_id, reply_form=form, errors=error.errors),
            )
        finally:
            if form.upload is not None:
                await form.upload.close()
        return redirect_to(request, "status", public_id=public_id)

    return reply_submit


@get("/status/{public_id:str}/withdraw", name="withdraw_confirm")
async def withdraw_confirm(
    request: Request[Any, Any, Any], session: DbSession, public_id: FromPath[str]
) -> Template | Redirect:
    """Ask the applicant to confirm the withdrawal."""
    application, _applicant = await application_by_public_id(session, public_id)
    if workflow.find_move(application.state, State.withdrawn, workflow.Actor.applicant) is None:
        return redirect_to(request, "status", public_id=public_id)
    return Template("applications/withdraw.html", context={"application": application})


@post("/status/{public_id:str}/withdraw", name="withdraw")
async def withdraw(
    request: Request[Any, Any, Any],
    session: DbSession,
    settings: AppSettings,
    clock: AppClock,
    public_id: FromPath[str],
) -> Redirect:
    """Withdraw the application (final) and go back to the status page."""
    form = await request.form()
    reason = str(form.get("reason") or "")
    if len(reason) > 2000:
        raise Invalid(
            _("Keep the reason under 2,000 characters."), {"reason": _("At most 2,000 characters.")}
        )
    await service.withdraw(session, settings=settings, public_id=public_id, reason=reason, now=clock())
    return redirect_to(request, "status", public_id=public_id)


def create_router(settings: Settings) -> Router:
    """Every public route."""
    return Router(
        path="/",
        route_handlers=[
            home,
            apply_form,
            submit_handler(settings),
            apply_received,
            status_page,
            reply_handler(settings),
            withdraw_confirm,
            withdraw,
        ],
    )
