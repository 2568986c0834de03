"""Read side of the application page: everything it shows, loaded in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload
from sqlmodel import col

from app.core import money, workflow
from app.core.i18n import N_, current_time_zone, format_datetime, format_mark, ngettext, pgettext
from app.core.i18n import gettext as _
from app.core.moves import load_application, load_facts
from app.core.outbound import EMAIL_TITLES
from app.core.staff import StaffUser
from app.core.workflow import Facts, Move
from app.factcheck.service import fact_checkers_with_load
from app.models import (
    Applicant,
    Application,
    ApplicationLabel,
    Event,
    FactCheckTask,
    Label,
    OutboxEmail,
    Score,
    State,
    User,
)
from app.review import service
from app.review.messages import default_message
from app.settings import Settings
from app.trials import brief, fees, panel

# Names of stored values as the page shows them; translated where they are shown.
RECOMMENDATIONS = {
    "undecided": N_("Undecided"),
    "accept": N_("Accept"),
    "trial": N_("Trial"),
    "reject": N_("Reject"),
}
TASK_STATES = {
    "open": N_("open"),
    "in_progress": N_("in progress"),
    "done": N_("done"),
    "cancelled": N_("cancelled"),
}
EMAIL_ACTIONS = {
    "released": N_("Released the email to %(recipient)s"),
    "retried": N_("Sent the email to %(recipient)s again"),
    "cancelled": N_("Cancelled the email to %(recipient)s"),
}
VERDICTS = {
    "accurate": N_("accurate"),
    "inaccurate": N_("inaccurate"),
    "misleading": N_("misleading"),
    "unverifiable": N_("unverifiable"),
}


def mail_status(status: str) -> str:
    """An email's status as the timeline shows it, in the request's language."""
    names = {
        "queued": pgettext("email status", "queued"),
        "held": pgettext("email status", "held"),
        "sending": pgettext("email status", "sending"),
        "sent": pgettext("email status", "sent"),
        "failed": pgettext("email status", "failed"),
        "dead": pgettext("email status", "dead"),
        "cancelled": pgettext("email status", "cancelled"),
        "digest": pgettext("email status", "digest"),
    }
    return names.get(status, status)


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    who: str
    text: str
    detail: str = ""
    is_public: bool = False
    email_status: str | None = None

    @property
    def email_status_label(self) -> str:
        return mail_status(self.email_status) if self.email_status else ""


@dataclass(frozen=True)
class MoveOption:
    move: Move
    problems: list[str]
    default_message: str

    @property
    def allowed(self) -> bool:
        return not self.problems


@dataclass
class ApplicationPage:
    application: Application
    applicant: Applicant
    assignee: User | None
    labels: list[str]
    earlier: list[Application]
    timeline: list[TimelineItem]
    scores: list[tuple[Score, str]]
    averages: dict[str, float]
    overall: float | None
    my_score: Score | None
    tasks: list[tuple[FactCheckTask, str]]
    facts: Facts
    moves: list[MoveOption]
    editors: list[User]
    fact_checkers: list[tuple[User, int]]
    all_labels: list[str]
    state_label: str = ""
    overdue: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    # The trial panel's context (templates/trials/_panel.html); the offer form's when a trial can be offered.
    trial: dict[str, Any] | None = None
    trial_offer: dict[str, Any] | None = None


def _event_text(event: Event) -> tuple[str, str]:
    """A one-line description of an event, and its longer detail."""
    if event.kind == "state_changed" and event.from_state and event.to_state:
        source = _(workflow.STAFF_LABELS[State(event.from_state)])
        target = _(workflow.STAFF_LABELS[State(event.to_state)])
        text = _("%(source)s → %(target)s", source=source, target=target)
        if event.actor == "applicant" and event.from_state == State.info_requested:
            text = _("The applicant replied (%(source)s → %(target)s)", source=source, target=target)
        detail = event.message or ""
        if event.data.get("sample_id"):
            detail += "\n\n" + _("They added a work sample (see Work samples).")
        if reason := event.data.get("reason"):
            reason_text = _("Reason (internal): %(reason)s", reason=reason)
            detail = reason_text + ("\n\n" + _("Message: %(text)s", text=detail) if detail else "")
        return text, detail
    titles = {
        "submitted": N_("Application received"),
        "note": N_("Note"),
        "applicant_reply": N_("The applicant replied"),
        "scored": N_("Score"),
    }
    if event.kind == "scored" and "average" in event.data:
        recommendation = RECOMMENDATIONS.get(event.data.get("recommendation", ""), "")
        detail = _(
            "%(mark)s of 5, recommends: %(recommendation)s",
            mark=format_mark(event.data["average"]),
            recommendation=_(recommendation).lower() if recommendation else "—",
        )
        return _("Score"), detail
    if event.kind in titles:
        title = titles[event.kind]
        return _(title), "" if event.message == title else event.message or ""
    return _described(event)


def _described(event: Event) -> tuple[str, str]:
    """An event told from its data in the reader's language; the stored English text is the fallback."""
    data = event.data or {}
    kind = event.kind
    if kind == "assigned" and "assignee_id" in data:
        if data["assignee_id"] is None:
            return _("Unassigned"), ""
        if data.get("assignee_name"):
            return _("Assigned to %(name)s", name=data["assignee_name"]), ""
    elif kind == "labels_changed" and "labels" in data:
        labels = data["labels"]
        return (_("Labels: %(labels)s", labels=", ".join(labels)) if labels else _("No labels")), ""
    elif kind == "repeat_applicant":
        return _("This email address has applied before."), ""
    elif kind == "spam_flagged" and data.get("reason"):
        return _("Held as spam: %(reason)s", reason=_(data["reason"])), ""
    elif kind == "erased":
        return _("Personal data erased"), ""
    elif kind == "task_created" and data.get("assignee_name"):
        claims = data.get("claims", 0)
        text = ngettext(
            "Fact-check task for %(name)s: %(num)s claim",
            "Fact-check task for %(name)s: %(num)s claims",
            claims,
            name=data["assignee_name"],
        )
        return text, ""
    elif kind == "trial_task_created" and "task_id" in data:
        if data.get("assignee_name"):
            return _(
                "Fact-check task #%(id)s on the trial piece for %(name)s",
                id=data["task_id"],
                name=data["assignee_name"],
            ), ""
        return _("Fact-check task #%(id)s on the trial piece waits at the desk", id=data["task_id"]), ""
    elif kind == "task_taken" and data.get("assignee_name"):
        return _(
            "Fact-check task #%(id)s taken from the desk by %(name)s",
            id=data.get("task_id"),
            name=data["assignee_name"],
        ), ""
    elif kind == "trial_scored" and "average" in data:
        return _("Trial score"), _("%(mark)s of 5", mark=format_mark(data["average"]))
    elif kind == "task_completed" and "overall_verdict" in data:
        verdict = data.get("overall_verdict")
        task = data.get("task_id")
        if verdict:
            verdict_text = _(VERDICTS[verdict])
            return _("Fact-check task #%(id)s completed: %(verdict)s", id=task, verdict=verdict_text), ""
        return _("Fact-check task #%(id)s completed", id=task), ""
    elif kind == "task_reassigned" and data.get("to_name"):
        source = data.get("from_name") or "—"
        return _(
            "Fact-check task #%(id)s handed from %(source)s to %(target)s",
            id=data.get("task_id"),
            source=source,
            target=data["to_name"],
        ), ""
    elif kind == "task_cancelled" and "reason" in data:
        return _("Fact-check task #%(id)s cancelled", id=data.get("task_id")), data["reason"] or ""
    elif kind == fees.EVENT_KIND and data.get("status") in fees.STATUS_LABELS:
        amount = money.format_money(data.get("amount_minor"), data.get("currency") or "RUB")
        return _(
            "Trial fee %(status)s: %(amount)s", status=fees.status_label(data["status"]), amount=amount
        ), (event.message or "")
    elif kind in TRIAL_EVENTS:
        return _trial_event_text(event)
    elif kind == "email_action" and data.get("action") in EMAIL_ACTIONS:
        return _(EMAIL_ACTIONS[data["action"]], recipient=data.get("recipient", "")), ""
    return event.message or kind.replace("_", " ").capitalize(), ""


TRIAL_EVENTS = {
    "trial_extended": N_("Trial deadline extended to %(when)s"),
    "trial_cancelled": N_("Trial cancelled"),
    "trial_declined": N_("The applicant declined the trial"),
    "trial_more_time": N_("The applicant asked for more time"),
    "trial_submitted": N_("Trial piece received"),
}


def _trial_event_text(event: Event) -> tuple[str, str]:
    data = event.data or {}
    if event.kind == "trial_extended":
        when = format_datetime(datetime.fromisoformat(data["to"])) if data.get("to") else "—"
        return _(TRIAL_EVENTS[event.kind], when=when), ""
    text = _(TRIAL_EVENTS[event.kind])
    if event.kind == "trial_submitted" and data.get("late"):
        text = _("Trial piece received after the deadline")
    return text, event.message or ""


async def _timeline(session: AsyncSession, application_id: int) -> list[TimelineItem]:
    actor = aliased(User)
    rows = await session.execute(
        select(Event, col(actor.name))
        .outerjoin(actor, col(actor.id) == col(Event.actor_user_id))
        .where(col(Event.application_id) == application_id)
    )
    items = []
    for event, actor_name in rows.all():
        text, detail = _event_text(event)
        who = actor_name or {"applicant": _("Applicant"), "system": "Byline"}.get(event.actor, event.actor)
        items.append(TimelineItem(event.created_at, event.kind, who, text, detail, is_public=event.is_public))
    emails = await session.execute(
        select(
            col(OutboxEmail.template),
            col(OutboxEmail.recipient),
            col(OutboxEmail.status),
            col(OutboxEmail.created_at),
            col(OutboxEmail.last_error),
        ).where(col(OutboxEmail.application_id) == application_id)
    )
    for template, recipient, status, created_at, last_error in emails.all():
        items.append(
            TimelineItem(
                created_at,
                "email",
                "Byline",
                _(
                    "Email: %(title)s to %(recipient)s",
                    title=_(EMAIL_TITLES.get(template, template)),
                    recipient=recipient,
                ),
                last_error or "",
                email_status=status,
            )
        )
    # Emails queued by an event share its time: show the event first.
    return sorted(items, key=lambda item: (item.at, item.kind == "email"), reverse=True)


async def load_page(
    session: AsyncSession, *, application_id: int, staff: StaffUser, settings: Settings, now: datetime
) -> ApplicationPage:
    """Everything the application page shows for `staff`."""
    _, applicant = await load_application(session, application_id)
    application = (
        await session.scalars(
            select(Application)
            .options(
                selectinload(Application.samples),  # type: ignore[arg-type]
                selectinload(Application.departments),  # type: ignore[arg-type]
                selectinload(Application.topics),  # type: ignore[arg-type]
            )
            .where(col(Application.id) == application_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    assignee = (
        await session.get(User, application.assigned_editor_id) if application.assigned_editor_id else None
    )
    labels = (
        await session.scalars(
            select(col(Label.name))
            .join(ApplicationLabel, col(ApplicationLabel.label_id) == col(Label.id))
            .where(col(ApplicationLabel.application_id) == application_id)
            .order_by(col(Label.name))
        )
    ).all()
    earlier = (
        await session.scalars(
            select(Application)
            .join(Applicant, col(Applicant.id) == col(Application.applicant_id))
            .where(
                col(Applicant.email_normalized) == applicant.email_normalized,
                col(Application.id) != application_id,
            )
            .order_by(col(Application.created_at).desc())
        )
    ).all()
    score_rows = (
        await session.execute(
            select(Score, col(User.name))
            .join(User, col(User.id) == col(Score.user_id))
            .where(col(Score.application_id) == application_id)
            .order_by(col(User.name))
        )
    ).all()
    scores = [(score, name) for score, name in score_rows]
    averages = (
        {
            criterion: sum(getattr(score, criterion) for score, _ in scores) / len(scores)
            for criterion in service.CRITERIA
        }
        if scores
        else {}
    )
    overall = sum(averages.values()) / len(averages) if averages else None
    task_rows = (
        await session.execute(
            select(FactCheckTask, col(User.name))
            .outerjoin(User, col(User.id) == col(FactCheckTask.assignee_id))
            .where(col(FactCheckTask.application_id) == application_id)
            .order_by(col(FactCheckTask.created_at))
        )
    ).all()
    facts = await load_facts(session, application_id, now=now)
    context = {"name": applicant.name, "publication": settings.publication_name}
    moves = [
        MoveOption(
            move,
            workflow.problems(move, facts, in_form=True),
            default_message(move.target, context, application.locale),
        )
        for move in workflow.staff_moves(application.state, staff.roles)
    ]
    editors = (
        await session.scalars(
            select(User).where(col(User.is_active), col(User.is_editor)).order_by(col(User.name))
        )
    ).all()
    trial_offer = (
        {
            "values": brief.template(
                application.locale,
                now=now,
                time_zone=current_time_zone(),
                name=applicant.name,
                publication=settings.publication_name,
            ),
            "fee_kinds": brief.FEE_KINDS,
            "currencies": brief.CURRENCIES,
            "time_zone": current_time_zone(),
        }
        if any(option.move.target == State.trial for option in moves)
        else None
    )
    return ApplicationPage(
        trial=await panel.editor_panel(session, settings, application, staff, now=now),
        trial_offer=trial_offer,
        application=application,
        applicant=applicant,
        assignee=assignee,
        labels=list(labels),
        earlier=list(earlier),
        timeline=await _timeline(session, application_id),
        scores=scores,
        averages=averages,
        overall=overall,
        my_score=next((score for score, _ in scores if score.user_id == staff.id), None),
        tasks=[(task, name) for task, name in task_rows],
        facts=facts,
        moves=moves,
        editors=list(editors),
        fact_checkers=await fact_checkers_with_load(session),
        all_labels=list((await session.scalars(select(col(Label.name)).order_by(col(Label.name)))).all()),
        state_label=workflow.STAFF_LABELS[State(application.state)],
        overdue=application.due_at is not None and application.due_at < now,
    )
