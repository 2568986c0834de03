"""The application workflow: states, the one table of allowed moves and their notification policies. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from app.core.i18n import N_
from app.models import State


class Actor(StrEnum):
    editor = "editor"
    applicant = "applicant"
    system = "system"


FINAL_STATES = frozenset({State.accepted, State.rejected, State.withdrawn})
OPEN_STATES = frozenset(set(State) - FINAL_STATES - {State.spam})

# What the applicant sees on the status page; spam looks like any received application.
PUBLIC_LABELS: dict[State, str] = {
    State.submitted: N_("Received"),
    State.screening: N_("In review"),
    State.info_requested: N_("Waiting for your reply"),
    State.fact_check: N_("In review"),
    State.trial: N_("Trial assignment"),
    State.accepted: N_("Accepted"),
    State.rejected: N_("Not accepted"),
    State.withdrawn: N_("Withdrawn"),
    State.spam: N_("Received"),
}

STAFF_LABELS: dict[State, str] = {
    State.submitted: N_("Submitted"),
    State.screening: N_("Screening"),
    State.info_requested: N_("Info requested"),
    State.fact_check: N_("Fact check"),
    State.trial: N_("Trial"),
    State.accepted: N_("Accepted"),
    State.rejected: N_("Rejected"),
    State.withdrawn: N_("Withdrawn"),
    State.spam: N_("Spam"),
}

DEFAULT_DUE: dict[State, timedelta] = {
    State.submitted: timedelta(days=3),
    State.screening: timedelta(days=5),
    State.info_requested: timedelta(days=10),
    State.fact_check: timedelta(days=7),
    State.trial: timedelta(days=14),
}


class Guard(StrEnum):
    """A condition a move needs besides the state; checked against `Facts` about the application."""

    has_tasks = "has_tasks"
    tasks_finished = "tasks_finished"
    trial_brief = "trial_brief"
    trial_settled = "trial_settled"


GUARD_PROBLEMS: dict[Guard, str] = {
    Guard.has_tasks: N_("Create a fact-check task first (or in the same step)."),
    Guard.tasks_finished: N_("Every fact-check task must be done or cancelled first."),
    Guard.trial_brief: N_("Write the brief of the trial first (the offer's form is the brief)."),
    Guard.trial_settled: N_(
        "The trial is still running: wait for the piece or for its deadline to pass (or cancel the trial)."
    ),
}


@dataclass(frozen=True)
class Facts:
    """What the guards look at: the live (not cancelled) fact-check tasks and how many are still open; whether
    a trial is offered (its brief written), and whether it is still running (offered, no piece in, the
    deadline ahead)."""

    tasks: int = 0
    open_tasks: int = 0
    trial_offered: bool = False
    trial_running: bool = False


def guard_holds(guard: Guard, facts: Facts) -> bool:
    if guard is Guard.has_tasks:
        return facts.tasks > 0
    if guard is Guard.trial_brief:
        return facts.trial_offered
    if guard is Guard.trial_settled:
        return not facts.trial_running
    return facts.open_tasks == 0


@dataclass(frozen=True)
class Notify:
    """Whether and how the applicant is told of a move: which template, and whether it waits for release."""

    template: str | None = None
    hold: bool = False


@dataclass(frozen=True)
class Move:
    source: State
    target: State
    actor: Actor
    label: str
    message_required: bool = False
    reason_required: bool = False
    notify: Notify = Notify()
    guards: tuple[Guard, ...] = ()
    # The staff role that may make an editor's move; applicants and the system need none.
    role: str | None = None

    @property
    def is_decision(self) -> bool:
        return self.target in (State.accepted, State.rejected)


def _moves() -> tuple[Move, ...]:
    decision = Notify(template="applicant_decision", hold=True)
    after_check = (Guard.tasks_finished,)
    # The offer's form is the brief: the trial is written (and its email with the brief queued) in the same
    # step, so the move itself sends no status email.
    brief = (Guard.trial_brief,)
    after_trial = (Guard.trial_settled, Guard.tasks_finished)

    def editor(
        source: State,
        target: State,
        label: str,
        *,
        message_required: bool = False,
        reason_required: bool = False,
        notify: Notify = Notify(),
        guards: tuple[Guard, ...] = (),
    ) -> Move:
        return Move(
            source,
            target,
            Actor.editor,
            label,
            message_required,
            reason_required,
            notify,
            guards,
            role="editor",
        )

    moves = [
        editor(State.submitted, State.screening, N_("Start screening")),
        editor(
            State.screening,
            State.info_requested,
            N_("Request information"),
            message_required=True,
            notify=Notify(template="applicant_info_requested"),
        ),
        Move(State.info_requested, State.screening, Actor.applicant, N_("Reply")),
        editor(State.screening, State.fact_check, N_("Send to fact check"), guards=(Guard.has_tasks,)),
        editor(State.fact_check, State.trial, N_("Offer a trial"), guards=brief + after_check),
        editor(State.fact_check, State.accepted, N_("Accept"), notify=decision, guards=after_check),
        editor(State.screening, State.trial, N_("Offer a trial"), guards=brief),
        editor(State.screening, State.accepted, N_("Accept"), notify=decision),
        editor(State.trial, State.accepted, N_("Accept"), notify=decision, guards=after_trial),
        editor(State.submitted, State.spam, N_("Mark as spam")),
        Move(State.submitted, State.spam, Actor.system, N_("Mark as spam")),
        editor(State.spam, State.submitted, N_("Not spam")),
    ]
    for source in sorted(OPEN_STATES):
        moves.append(
            editor(
                source,
                State.rejected,
                N_("Reject"),
                reason_required=True,
                notify=decision,
                guards=after_check
                if source == State.fact_check
                else after_trial
                if source == State.trial
                else (),
            )
        )
    # Spam looks like any received application to its sender, so it can be withdrawn like one.
    for source in sorted(OPEN_STATES | {State.spam}):
        moves.append(
            Move(
                source,
                State.withdrawn,
                Actor.applicant,
                N_("Withdraw"),
                notify=Notify(template="applicant_withdrawn"),
            )
        )
    return tuple(moves)


MOVES: tuple[Move, ...] = _moves()
_BY_KEY: dict[tuple[State, State, Actor], Move] = {(m.source, m.target, m.actor): m for m in MOVES}


def find_move(source: str, target: str, actor: Actor) -> Move | None:
    """The move from `source` to `target` that `actor` may make, or None."""
    try:
        return _BY_KEY.get((State(source), State(target), actor))
    except ValueError:
        return None


def moves_from(source: str, actor: Actor) -> list[Move]:
    """Every move `actor` may make from `source`, in table order."""
    return [m for m in MOVES if m.source == source and m.actor == actor]


# Guards the move's own form can meet: the move to fact check creates its first task in the same step, the
# offer of a trial writes its brief.
MET_IN_FORM = frozenset({Guard.has_tasks, Guard.trial_brief})


def problems(move: Move, facts: Facts, *, in_form: bool = False) -> list[str]:
    """Why `move` cannot be made now (empty when it can); `in_form` skips what the move's form provides."""
    return [
        GUARD_PROBLEMS[guard]
        for guard in move.guards
        if not guard_holds(guard, facts) and not (in_form and guard in MET_IN_FORM)
    ]


def may_make(move: Move, roles: list[str]) -> bool:
    """Whether a staff member with `roles` may make `move`."""
    return move.role is None or move.role in roles


def staff_moves(source: str, roles: list[str]) -> list[Move]:
    """The editor moves from `source` that a person with `roles` may make, guards aside."""
    return [m for m in moves_from(source, Actor.editor) if may_make(m, roles)]


def due_after(state: str, due_days: dict[str, int] | None = None) -> timedelta | None:
    """How long an application may wait in `state` (site settings override the defaults); None when final."""
    if due_days and state in due_days:
        days = due_days[state]
        return timedelta(days=days) if days > 0 else None
    return DEFAULT_DUE.get(State(state))


def public_label(state: str) -> str:
    return PUBLIC_LABELS[State(state)]


def is_final(state: str) -> bool:
    return State(state) in FINAL_STATES
