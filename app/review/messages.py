"""Default texts of the messages editors send with a move; the editor edits them before sending.

They are offered in the applicant's language, whatever the language of the editor's page.
"""

from __future__ import annotations

from app.core.i18n import N_, gettext, use_locale
from app.models import State

DEFAULTS: dict[State, str] = {
    State.accepted: N_(
        "Dear %(name)s,\n\n"
        "Thank you for applying to write for %(publication)s. We enjoyed your work samples and would like "
        "you to join our contributors. An editor will write to you shortly about your first assignment "
        "and our terms.\n\n"
        "Welcome aboard,\nThe editors of %(publication)s"
    ),
    State.rejected: N_(
        "Dear %(name)s,\n\n"
        "Thank you for your interest in writing for %(publication)s and for the time you gave your "
        "application. After careful reading we have decided not to take it further at this time. We keep "
        "our call for authors open and you are welcome to apply again with new work in the future.\n\n"
        "With best wishes,\nThe editors of %(publication)s"
    ),
    State.trial: N_(
        "Dear %(name)s,\n\n"
        "Thank you for your application to %(publication)s. We would like to offer you a short paid trial "
        "assignment before we decide. An editor will send you the brief and the deadline.\n\n"
        "Best regards,\nThe editors of %(publication)s"
    ),
}


def default_message(target: str, context: dict[str, str], locale: str | None = None) -> str:
    """The applicant's message for a move to `target`, in `locale` ('' when none is sent)."""
    template = DEFAULTS.get(State(target))
    if not template:
        return ""
    with use_locale(locale):
        return gettext(template, name=context["name"], publication=context["publication"])
