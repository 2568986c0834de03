"""The transition service driven by hypothesis on a real database against a model of the workflow table.

Illegal moves are refused and change nothing; every accepted move writes exactly one event; versions only grow.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, update

from app.core import counts, workflow
from app.core.db import Database
from app.core.errors import DomainError
from app.core.moves import load_facts, transition
from app.core.staff import StaffUser
from app.core.workflow import Actor
from app.models import Applicant, Application, Event, FactCheckTask, OutboxEmail, State, TaskState, User
from app.settings import Settings
from tests.environment import deep

ROLES = {"editor": ["editor"], "fact_checker": ["fact_checker"], "admin": ["admin"]}


class WorkflowMachine(RuleBasedStateMachine):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.db = Database(settings)
        self.now = datetime.now(UTC)
        self.app_id, self.editor_id = self.run(self._create())
        self.max_version = 1

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _create(self) -> tuple[int, int]:
        async with self.db.write_session() as session:
            tag = uuid.uuid4().hex[:10]
            editor = User(email=f"ed-{tag}@desk.example", name="Ed", password_hash="x", is_editor=True)
            applicant = Applicant(
                name="A",
                email=f"a-{tag}@x.example",
                email_normalized=f"a-{tag}@x.example",
                consent_text="yes",
                consent_version="1",
            )
            session.add_all([editor, applicant])
            await session.flush()
            application = Application(
                public_id=secrets.token_urlsafe(24),
                applicant_id=applicant.id,
                motivation="m",
                experience="e",
                availability="a",
            )
            session.add(application)
            await session.flush()
            assert application.id is not None and editor.id is not None
            await counts.shift(session, application.id, None, application.state)
            return application.id, editor.id

    async def _snapshot(self) -> tuple[str, int, int, int]:
        async with self.db.sessionmaker() as session:
            application = await session.get(Application, self.app_id)
            assert application is not None
            events = await session.scalar(select(func.count()).where(Event.application_id == self.app_id))
            mails = await session.scalar(
                select(func.count()).where(OutboxEmail.application_id == self.app_id)
            )
            return application.state, application.version, int(events or 0), int(mails or 0)

    async def _facts(self) -> workflow.Facts:
        async with self.db.sessionmaker() as session:
            return await load_facts(session, self.app_id)

    async def _move(self, *, to: State, actor: Actor, roles: list[str], fill: bool, seen: int | None) -> None:
        async with self.db.write_session() as session:
            row = (
                await session.execute(
                    select(Application, Applicant)
                    .join(Applicant, Applicant.id == Application.applicant_id)  # type: ignore[arg-type]
                    .where(Application.id == self.app_id)  # type: ignore[arg-type]
                )
            ).one()
            user = (
                StaffUser(
                    self.editor_id,
                    "e@x",
                    "Ed",
                    "admin" in roles,
                    "editor" in roles,
                    "fact_checker" in roles,
                    "sid",
                )
                if actor == Actor.editor
                else None
            )
            await transition(
                session,
                settings=self.settings,
                application=row[0],
                applicant=row[1],
                to=to,
                actor=actor,
                user=user,
                reason="because" if fill else "",
                message="a message" if fill else "",
                expected_version=seen,
                now=self.now,
            )

    @rule(
        to=st.sampled_from(list(State)),
        actor=st.sampled_from(list(Actor)),
        role=st.sampled_from(sorted(ROLES)),
        fill=st.booleans(),
    )
    def any_move(self, to: State, actor: Actor, role: str, fill: bool) -> None:
        self.check_move(to, actor, role, fill)

    @rule(data=st.data(), fill=st.booleans())
    def move_from_the_table(self, data: st.DataObject, fill: bool) -> None:
        """Moves the table lists from the current state: most are legal, so the walk goes deep."""
        state = self.run(self._snapshot())[0]
        options = [m for m in workflow.MOVES if m.source == state]
        if options:
            chosen = data.draw(st.sampled_from(options))
            self.check_move(chosen.target, chosen.actor, "editor", fill)

    @rule(data=st.data())
    def move_from_the_table_with_its_fields(self, data: st.DataObject) -> None:
        self.move_from_the_table(data, True)

    def check_move(self, to: State, actor: Actor, role: str, fill: bool) -> None:
        state, version, events, mails = self.run(self._snapshot())
        facts = self.run(self._facts())
        found = workflow.find_move(state, to, actor)
        expected = (
            found is not None
            and (found.role is None or found.role in ROLES[role])
            and not workflow.problems(found, facts)
            and (fill or not (found.message_required or found.reason_required))
        )
        try:
            self.run(self._move(to=to, actor=actor, roles=ROLES[role], fill=fill, seen=version))
            accepted = True
        except DomainError:
            accepted = False
        after_state, after_version, after_events, after_mails = self.run(self._snapshot())
        assert accepted == expected, (state, to, actor, role, fill, facts)
        if accepted:
            assert found is not None
            assert after_state == to and after_version > version and after_events == events + 1
            told = bool(found.notify.template) and state != State.spam
            assert after_mails >= mails + (1 if told else 0)
        else:
            assert (after_state, after_version, after_events, after_mails) == (state, version, events, mails)

    @precondition(lambda self: workflow.is_final(self.run(self._snapshot())[0]))
    @rule()
    def start_over(self) -> None:
        """A decided application can go no further: carry on with a fresh one."""
        self.app_id, self.editor_id = self.run(self._create())
        self.max_version = 1

    @rule()
    def stale_form_is_refused(self) -> None:
        state, version, events, mails = self.run(self._snapshot())
        if version < 2 or workflow.is_final(state):
            return
        target = State.rejected
        try:
            self.run(self._move(to=target, actor=Actor.editor, roles=["editor"], fill=True, seen=version - 1))
            raise AssertionError("a stale form was accepted")
        except DomainError as exc:
            assert exc.status_code == 409
        assert self.run(self._snapshot()) == (state, version, events, mails)

    @rule(done=st.booleans())
    def add_task(self, done: bool) -> None:
        async def add() -> None:
            async with self.db.write_session() as session:
                session.add(
                    FactCheckTask(
                        application_id=self.app_id,
                        assignee_id=self.editor_id,
                        creator_id=self.editor_id,
                        due_at=self.now + timedelta(days=3),
                        state=TaskState.done if done else TaskState.open,
                    )
                )

        self.run(add())

    @rule(to=st.sampled_from([TaskState.done, TaskState.cancelled]))
    def finish_tasks(self, to: TaskState) -> None:
        async def finish() -> None:
            async with self.db.write_session() as session:
                await session.execute(
                    update(FactCheckTask)
                    .where(FactCheckTask.application_id == self.app_id)  # type: ignore[arg-type]
                    .where(FactCheckTask.state.in_([TaskState.open, TaskState.in_progress]))  # type: ignore[attr-defined]
                    .values(state=to)
                )

        self.run(finish())

    @invariant()
    def version_only_grows(self) -> None:
        _, version, _, _ = self.run(self._snapshot())
        assert version >= self.max_version
        self.max_version = version

    @invariant()
    def kept_counts_match_the_applications(self) -> None:
        async def compare() -> tuple[dict[str, int], dict[str, int]]:
            async with self.db.sessionmaker() as session:
                kept = await counts.counts(session)
                rows = await session.execute(
                    select(Application.state, func.count()).group_by(Application.state)
                )
                return kept, {state: int(n) for state, n in rows.all()}

        kept, actual = self.run(compare())
        assert kept == actual

    def teardown(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()


def test_the_transition_service_follows_the_workflow_table(settings: Settings) -> None:
    run_state_machine_as_test(
        lambda: WorkflowMachine(settings),
        settings=hsettings(
            # `make test` walks a third of what `make test-deep` walks.
            max_examples=30 if deep() else 10,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        ),
    )
