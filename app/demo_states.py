"""Demo applications walked through the workflow with the real services, so every state has an example."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.i18n import N_, gettext, use_locale
from app.core.moves import transition
from app.core.staff import StaffUser
from app.core.workflow import Actor
from app.factcheck.service import create_task
from app.models import Applicant, Application, FeeKind, State, User
from app.review import service
from app.review.messages import default_message
from app.settings import Settings
from app.trials import brief
from app.trials import service as trial_service

DEMO_TRIAL_TOPIC = N_(
    "Regional road budgets in 2026: where the money went, and what the audit chamber found. Compare two "
    "regions and explain the difference to a general reader."
)

# Where each demo application ends up, by its position in the demo list (None: left as submitted).
PLAN: list[State | None] = [
    None,
    State.screening,
    State.info_requested,
    State.fact_check,
    State.trial,
    State.accepted,
    State.rejected,
    State.withdrawn,
    State.spam,
    None,
]

CLAIMS = [
    "Putin and Erdogan discussed the situation in Nagorno-Karabakh by phone.",
    "The call took place at the Turkish side's initiative.",
]


def as_staff(user: User) -> StaffUser:
    assert user.id is not None
    return StaffUser(
        user.id, user.email, user.name, user.is_admin, user.is_editor, user.is_fact_checker, "demo"
    )


async def walk_to_states(
    session: AsyncSession,
    *,
    settings: Settings,
    applications: list[Application],
    users: dict[str, User],
    now: datetime,
) -> None:
    """Move the demo applications to the states in PLAN, as an editor would."""
    editor = as_staff(users["editor"])
    checker = users["fact_checker"]
    for application, target in zip(applications, PLAN, strict=False):
        if target is None:
            continue
        applicant = await session.get(Applicant, application.applicant_id)
        assert applicant is not None
        at = application.created_at + timedelta(hours=6)

        async def move(
            to: State,
            *,
            message: str = "",
            reason: str = "",
            actor: Actor = Actor.editor,
            application: Application = application,
            applicant: Applicant = applicant,
            at: datetime = at,
        ) -> None:
            context = {"name": applicant.name, "publication": settings.publication_name}
            await transition(
                session,
                settings=settings,
                application=application,
                applicant=applicant,
                to=to,
                actor=actor,
                user=editor if actor == Actor.editor else None,
                message=message or default_message(to, context),
                reason=reason,
                now=at,
            )

        if target == State.spam:
            await move(State.spam)
            continue
        if target == State.withdrawn:
            await move(State.withdrawn, actor=Actor.applicant, message="I have taken a staff job elsewhere.")
            continue
        if target == State.rejected:
            await move(State.rejected, reason="Samples are opinion pieces, not analysis.")
            continue
        await service.assign(
            session,
            settings=settings,
            application=application,
            applicant=applicant,
            assignee_id=editor.id,
            by=editor,
            now=at,
        )
        await service.add_note(
            session,
            application=application,
            text="Clear writing; check the figures in the sample.",
            by=editor,
            now=at,
        )
        if target == State.info_requested:
            await move(State.info_requested, message="Could you send a piece you wrote on the economy?")
        elif target == State.fact_check:
            await create_task(
                session,
                settings=settings,
                application=application,
                by=editor,
                assignee_id=checker.id,
                sample_id=None,
                claims=CLAIMS,
                due_at=now + timedelta(days=settings.task_due_days),
                now=at,
            )
            await move(State.fact_check)
        elif target == State.trial:
            await offer_demo_trial(
                session,
                settings=settings,
                application=application,
                applicant=applicant,
                editor=editor,
                checker_id=checker.id,
                at=at,
                now=now,
            )
        elif target == State.accepted:
            await service.save_score(
                session,
                application=application,
                by=editor,
                marks={
                    "analysis": 4,
                    "fact_accuracy": 5,
                    "concision": 4,
                    "interest_style": 3,
                    "topic_knowledge": 4,
                },
                recommendation="accept",
                comment="Strong on facts.",
                now=at,
            )
            await move(target)


async def offer_demo_trial(
    session: AsyncSession,
    *,
    settings: Settings,
    application: Application,
    applicant: Applicant,
    editor: StaffUser,
    checker_id: int | None,
    at: datetime,
    now: datetime,
) -> None:
    """Offer the demo applicant a trial with a brief written from the template in their language, due in five
    days at 18:00 (the site's time zone); its email carries the link to the trial page."""
    values = brief.template(
        application.locale,
        now=now,
        time_zone=settings.time_zone,
        name=applicant.name,
        publication=settings.publication_name,
    )
    with use_locale(application.locale):
        topic = gettext(DEMO_TRIAL_TOPIC)
    written = brief.Brief(
        topic=topic,
        sources=values["sources"],
        style_notes=values["style_notes"],
        min_words=600,
        max_words=1200,
        deadline_at=brief.parse_local(values["deadline"], settings.time_zone) or now + timedelta(days=5),
        deadline_firm=True,
        fee_kind=FeeKind.flat,
        fee_amount_minor=500_000,
        fee_cap_minor=None,
        currency="RUB",
        fact_checker_id=checker_id,
        message=values["message"],
    )
    await trial_service.offer(
        session,
        settings,
        application=application,
        applicant=applicant,
        user=editor,
        brief=written,
        version=application.version,
        now=at,
    )
