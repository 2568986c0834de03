"""The trial's deadline as an iCalendar file (RFC 5545), for the applicant's calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

import icalendar

from app.core.i18n import gettext as _
from app.core.i18n import use_locale
from app.core.text import strip_bidi
from app.models import Trial

SUMMARY_LIMIT = 200


def deadline_calendar(trial: Trial, *, publication: str, trial_url: str, domain: str, now: datetime) -> bytes:
    """One event at the deadline (with an alarm a day before), in the brief's language; its UID stays the
    same when the deadline moves, so a calendar updates the event instead of adding one."""
    with use_locale(trial.locale):
        summary = _("Trial piece for %(publication)s due", publication=publication)
        topic = " ".join(strip_bidi(trial.topic).split())
        description = _("Topic: %(topic)s", topic=topic) + "\n" + trial_url
        reminder = _("The trial piece is due tomorrow")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Byline//Trial deadline//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"trial-{trial.id}@{domain}")
    event.add("dtstamp", now)
    event.add("last-modified", trial.updated_at)
    event.add("dtstart", trial.deadline_at)
    event.add("dtend", trial.deadline_at)
    event.add("summary", summary[:SUMMARY_LIMIT])
    event.add("description", description)
    event.add("url", trial_url)
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", reminder)
    alarm.add("trigger", timedelta(days=-1))
    event.add_component(alarm)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
