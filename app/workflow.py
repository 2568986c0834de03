"""The application workflow: states, the one table of allowed moves and their notification policies. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from app.models import State


class Actor(StrEnum):
    editor = "editor"
    applicant = "applicant"
    system = "system"


FINAL_STATES = frozenset({State.accepted, State.rejected, State.withdrawn})
OPEN_STATES = frozenset(set(State) - FINAL_STATES - {State.spam})

# What the applicant sees on the status page; spam looks like any received application.
PUBLIC_LABELS: dict[State, str] = {
    State.submitted: "Received",
    State.screening: "In review",
    State.info_requested: "Waiting for your reply",
    State.fact_check: "In review",
    State.trial: "Trial assignment",
    State.accepted: "Accepted",
    State.rejected: "Not accepted",
    State.withdrawn: "Withdrawn",
    State.spam: "Received",
}

STAFF_LABELS: dict[State, str] = {
    State.submitted: "Submitted",
    State.screening: "Screening",
    State.info_requested: "Info requested",
    State.fact_check: "Fact check",
    State.trial: "Trial",
    State.accepted: "Accepted",
    State.rejected: "Rejected",
    State.withdrawn: "Withdrawn",
    State.spam: "Spam",
}

DEFAULT_DUE: dict[State, timedelta] = {
    State.submitted: timedelta(days=3),
    State.screening: timedelta(days=5),
    State.info_requested: timedelta(days=10),
    State.fact_check: timedelta(days=7),
    State.trial: timedelta(days=14),
}


@dataclass(frozen=True)
class Notify:
    """Whether and how the applicant is told of a move."""

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


def _moves() -> tuple[Move, ...]:
    decision = Notify(template="applicant_decision", hold=True)
    moves = [
        Move(State.submitted, State.screening, Actor.editor, "Start screening"),
        Move(
            State.screening,
            State.info_requested,
            Actor.editor,
            "Request information",
            message_required=True,
            notify=Notify(template="applicant_info_requested"),
        ),
        Move(State.info_requested, State.screening, Actor.applicant, "Reply"),
        Move(State.screening, State.fact_check, Actor.editor, "Send to fact check"),
        Move(State.fact_check, State.trial, Actor.editor, "Offer a trial", notify=Notify("applicant_status")),
        Move(State.fact_check, State.accepted, Actor.editor, "Accept", notify=decision),
        Move(State.screening, State.trial, Actor.editor, "Offer a trial", notify=Notify("applicant_status")),
        Move(State.screening, State.accepted, Actor.editor, "Accept", notify=decision),
        Move(State.trial, State.accepted, Actor.editor, "Accept", notify=decision),
        Move(State.submitted, State.spam, Actor.editor, "Mark as spam"),
        Move(State.submitted, State.spam, Actor.system, "Mark as spam"),
        Move(State.spam, State.submitted, Actor.editor, "Not spam"),
    ]
    for source in sorted(OPEN_STATES):
        moves.append(
            Move(source, State.rejected, Actor.editor, "Reject", reason_required=True, notify=decision)
        )
    # Spam looks like any received application to its sender, so it can be withdrawn like one.
    for source in sorted(OPEN_STATES | {State.spam}):
        moves.append(
            Move(
                source,
                State.withdrawn,
                Actor.applicant,
                "Withdraw",
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


def public_label(state: str) -> str:
    return PUBLIC_LABELS[State(state)]


def is_final(state: str) -> bool:
    return State(state) in FINAL_STATES
