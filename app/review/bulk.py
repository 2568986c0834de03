"""Bulk actions on the queue: a preview of what happens to each application, then one move per application.

Each application gets its own event and its own email through the same services as the application page, in
its own savepoint, so one that changed since the preview is skipped and reported without undoing the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from litestar.datastructures import FormMultiDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import moves, workflow
from app.core.errors import DomainError
from app.core.forms import FormFields
from app.core.i18n import N_, ngettext
from app.core.i18n import gettext as _
from app.core.limits import MESSAGE_LIMIT, REASON_LIMIT
from app.core.staff import StaffUser
from app.core.workflow import Actor
from app.models import Applicant, Application, ApplicationLabel, Label, State, User
from app.review import service
from app.review.messages import default_message
from app.settings import Settings

MAX_ITEMS = 200
LABEL_LIMIT = 40
ACTIONS = ("assign", "label", "move", "reject")
NAME_PLACEHOLDER = "{name}"


@dataclass(frozen=True)
class BulkRequest:
    action: str
    ids: list[int]
    assignee_id: int | None = None
    label: str = ""
    target: State | None = None
    reason: str = ""
    message: str = ""
    # The version of each application the preview showed; the confirmation leaves out any that changed since.
    versions: dict[int, int] = field(default_factory=dict)

    def hidden_fields(self) -> list[tuple[str, str]]:
        """The request as form fields for the confirmation form, less the ids and the message."""
        fields = [("action", self.action)]
        if self.assignee_id is not None:
            fields.append(("assignee", str(self.assignee_id)))
        if self.label:
            fields.append(("label", self.label))
        if self.target is not None:
            fields.append(("to", self.target.value))
        fields.append(("reason", self.reason))
        return fields


def default_reject_message(publication: str, locale: str | None = None) -> str:
    """The rejection template in `locale`, with a placeholder each applicant's name replaces."""
    return default_message(State.rejected, {"name": NAME_PLACEHOLDER, "publication": publication}, locale)


def parse_bulk(form: FormMultiDict, me: int) -> BulkRequest:
    """The chosen applications and action; Invalid with a message at the field otherwise."""
    fields = FormFields(form)
    ids = fields.ids("ids")
    if not ids:
        fields.fail("ids", N_("Tick at least one application."))
    elif len(ids) > MAX_ITEMS:
        fields.fail(
            "ids",
            ngettext(
                "At most %(num)s application at a time.",
                "At most %(num)s applications at a time.",
                MAX_ITEMS,
            ),
        )
    action = fields.choice("action", ACTIONS, message=N_("Choose an action."))
    assignee = fields.raw("assignee")
    assignee_id = me if assignee == "me" else fields.integer("assignee")
    label = fields.text("label", limit=LABEL_LIMIT, one_line=True)
    target: State | None = None
    if action == "assign" and assignee_id is None:
        fields.fail("assignee", N_("Choose an editor."))
    if action == "label" and not label:
        fields.fail("label", N_("Type a label."))
    if action == "move":
        to = fields.choice("to", list(State), message=N_("Choose where to move them."))
        target = State(to) if to in list(State) else None
    if action == "reject":
        target = State.rejected
    reason = fields.text("reason", limit=REASON_LIMIT)
    message = fields.text("message", limit=MESSAGE_LIMIT)
    if action == "reject" and not reason:
        fields.fail("reason", N_("Give a reason (kept internal)."))
    fields.check(N_("The bulk action is not complete."))
    versions = {i: v for i in ids if (v := fields.integer(f"version-{i}")) is not None}
    return BulkRequest(action, ids, assignee_id, label, target, reason, message, versions)


@dataclass(frozen=True)
class ItemPlan:
    application_id: int
    name: str
    state: str
    outcome: str
    ok: bool
    version: int


async def _rows(session: AsyncSession, ids: list[int]) -> list[tuple[Application, Applicant]]:
    rows = await session.execute(
        select(Application, Applicant)
        .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
        .where(col(Application.id).in_(ids))
        .order_by(col(Application.id))
    )
    return [(application, applicant) for application, applicant in rows.all()]


async def _plan_one(
    session: AsyncSession,
    request: BulkRequest,
    application: Application,
    staff: StaffUser,
    assignee: User | None,
) -> tuple[bool, str]:
    if request.action == "assign":
        if assignee is None or not assignee.is_active or not assignee.is_editor:
            return False, _("Not an active editor.")
        if application.assigned_editor_id == assignee.id:
            return False, _("Already assigned to %(name)s.", name=assignee.name)
        if application.state == State.submitted:
            return True, _("Assigned to %(name)s and starts screening.", name=assignee.name)
        return True, _("Assigned to %(name)s.", name=assignee.name)
    if request.action == "label":
        return True, _("Gets the label “%(label)s”.", label=request.label)
    assert request.target is not None and application.id is not None
    move = workflow.find_move(application.state, request.target, Actor.editor)
    if move is None or not workflow.may_make(move, staff.roles):
        return False, _(
            "Cannot move from %(state)s.", state=_(workflow.STAFF_LABELS[State(application.state)]).lower()
        )
    problems = workflow.problems(move, await moves.load_facts(session, application.id))
    if problems:
        return False, " ".join(_(problem) for problem in problems)
    if move.message_required and not request.message:
        return False, _("Needs a message to the applicant.")
    target = _(workflow.STAFF_LABELS[request.target]).lower()
    if move.notify.template and application.state != State.spam:
        if move.notify.hold:
            return True, _(
                "Moves to %(state)s; the applicant is emailed once the mail is released.", state=target
            )
        return True, _("Moves to %(state)s; the applicant is emailed.", state=target)
    return True, _("Moves to %(state)s.", state=target)


async def plan(session: AsyncSession, *, request: BulkRequest, staff: StaffUser) -> list[ItemPlan]:
    """What the action would do to each chosen application."""
    assignee = await session.get(User, request.assignee_id) if request.assignee_id else None
    items = []
    for application, applicant in await _rows(session, request.ids):
        ok, outcome = await _plan_one(session, request, application, staff, assignee)
        assert application.id is not None
        state = _(workflow.STAFF_LABELS[State(application.state)])
        items.append(ItemPlan(application.id, applicant.name, state, outcome, ok, application.version))
    return items


async def _add_label(
    session: AsyncSession, *, application: Application, name: str, by: StaffUser, now: datetime
) -> None:
    current = (
        await session.scalars(
            select(col(Label.name))
            .join(ApplicationLabel, col(ApplicationLabel.label_id) == col(Label.id))
            .where(col(ApplicationLabel.application_id) == application.id)
        )
    ).all()
    await service.set_labels(session, application=application, names=[*current, name], by=by, now=now)


def _result(application: Application, applicant: Applicant, state: str, outcome: str, ok: bool) -> ItemPlan:
    assert application.id is not None
    return ItemPlan(application.id, applicant.name, state, outcome, ok, application.version)


async def apply(
    session: AsyncSession, *, settings: Settings, request: BulkRequest, staff: StaffUser, now: datetime
) -> list[ItemPlan]:
    """Carry out the action on each application that still allows it; report what happened to each."""
    results = []
    for application, applicant in await _rows(session, request.ids):
        assert application.id is not None
        label = _(workflow.STAFF_LABELS[State(application.state)])
        if request.versions.get(application.id) != application.version:
            outcome = _("Skipped: someone changed it after the preview. Open it to see what changed.")
            results.append(_result(application, applicant, label, outcome, False))
            continue
        try:
            async with session.begin_nested():
                if request.action == "assign":
                    await service.assign(
                        session,
                        settings=settings,
                        application=application,
                        applicant=applicant,
                        assignee_id=request.assignee_id,
                        by=staff,
                        now=now,
                    )
                    outcome = _("Assigned.")
                elif request.action == "label":
                    await _add_label(session, application=application, name=request.label, by=staff, now=now)
                    outcome = _("Labelled.")
                else:
                    assert request.target is not None
                    await moves.transition(
                        session,
                        settings=settings,
                        application=application,
                        applicant=applicant,
                        to=request.target,
                        actor=Actor.editor,
                        user=staff,
                        reason=request.reason,
                        message=request.message.replace(NAME_PLACEHOLDER, applicant.name),
                        now=now,
                    )
                    outcome = _("Moved to %(state)s.", state=_(workflow.STAFF_LABELS[request.target]).lower())
            results.append(_result(application, applicant, label, outcome, True))
        except DomainError as exc:
            await session.refresh(application)
            results.append(
                _result(application, applicant, label, _("Skipped: %(reason)s", reason=_(exc.message)), False)
            )
    return results
