"""Default texts of the messages editors send with a move; the editor edits them before sending."""

from __future__ import annotations

from app.models import State

DEFAULTS: dict[State, str] = {
    State.accepted: (
        "Dear {name},\n\n"
        "Thank you for applying to write for {publication}. We enjoyed your work samples and would like "
        "you to join our contributors. An editor will write to you shortly about your first assignment "
        "and our terms.\n\n"
        "Welcome aboard,\nThe editors of {publication}"
    ),
    State.rejected: (
        "Dear {name},\n\n"
        "Thank you for your interest in writing for {publication} and for the time you gave your "
        "application. After careful reading we have decided not to take it further at this time. We keep "
        "our call for authors open and you are welcome to apply again with new work in the future.\n\n"
        "With best wishes,\nThe editors of {publication}"
    ),
    State.trial: (
        "Dear {name},\n\n"
        "Thank you for your application to {publication}. We would like to offer you a short paid trial "
        "assignment before we decide. An editor will send you the brief and the deadline.\n\n"
        "Best regards,\nThe editors of {publication}"
    ),
}


def default_message(target: str, context: dict[str, str]) -> str:
    """The starting text of the applicant's message for a move to `target` ('' when none is sent)."""
    template = DEFAULTS.get(State(target))
    return template.format(**context) if template else ""
