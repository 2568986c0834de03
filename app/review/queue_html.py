"""The rows of the queue's table as HTML, in one loop over the page's rows.

The page's texts are translated once per page, not once per row, and every value that comes from the data is
escaped on its way in (`_text` below) — names, emails, labels, departments, topics, dates — as the template's
autoescaping would. Only the translations and the markup written here are trusted, as in a template.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from markupsafe import Markup

from app.core import i18n
from app.core.workflow import STAFF_LABELS
from app.review.queue import QueueRow

_ROW = (
    '      <tr id="row-{id}" class="{row_class}">\n'
    '        <td><input type="checkbox" name="ids" value="{id}" id="pick-{id}" aria-label="{pick}"></td>\n'
    '        <td><a href="{href}"><bdi>{name}</bdi></a>{repeat}<br><span class="muted">{email}</span></td>\n'
    "        <td>{state}</td>\n"
    "        <td>{departments}{topics}</td>\n"
    "        <td>{assignee}</td>\n"
    "        <td>{labels}</td>\n"
    "        <td>{tasks}</td>\n"
    '        <td><span title="{since}">{waited}</span></td>\n'
    "        <td>{due}</td>\n"
    "      </tr>\n"
)


# What markupsafe's `escape` writes for each character, as one C-level pass over a plain string.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def _text(value: object) -> str:
    """`value` escaped for HTML text and attribute values, as `markupsafe.escape` would write it."""
    return str(value).translate(_ESCAPES)


def _durations() -> Callable[[timedelta], str]:
    """Spans of time as the `duration` filter writes them, with the page's translations looked up once."""
    minutes_text = i18n.gettext("%(num)s min")
    hours_text = i18n.gettext("%(num)s h")
    days: dict[int, str] = {}

    def duration(value: timedelta) -> str:
        minutes = max(int(value.total_seconds() // 60), 0)
        if minutes < 60:
            return minutes_text % {"num": minutes}
        if minutes < 48 * 60:
            return hours_text % {"num": minutes // 60}
        count = minutes // (24 * 60)
        if count not in days:
            days[count] = i18n.ngettext("%(num)s day", "%(num)s days", count)
        return days[count]

    return duration


def rows_html(rows: list[QueueRow], *, now: datetime, application_path: Callable[[int], str]) -> Markup:
    """The `<tr>` of every row of a queue page; `application_path`: the link to an application by its id."""
    gettext = i18n.gettext
    pick = gettext("Select %(name)s")
    # Each text called apart, outside the f-strings, where `make messages` finds it.
    applied_before = gettext("applied before")
    none = gettext("none")
    repeat = f' <span class="badge repeat">{applied_before}</span>'
    no_tasks = f'<span class="muted">{none}</span>'
    since = gettext("In this state since %(when)s")
    overdue = gettext("overdue %(time)s")
    due_in = gettext("in %(time)s")
    no_due = '<span class="muted">—</span>'
    states = {state.value: _text(gettext(label)) for state, label in STAFF_LABELS.items()}
    tasks_done: dict[tuple[int, int], str] = {}
    duration = _durations()
    when = i18n.datetime_formatter()
    out: list[str] = []
    for row in rows:
        late = row.overdue(now)
        if row.tasks_total:
            key = (row.tasks_total, row.tasks_total - row.tasks_open)
            if key not in tasks_done:
                tasks_done[key] = i18n.ngettext(
                    "%(done)s of %(num)s done", "%(done)s of %(num)s done", key[0], done=key[1]
                )
            tasks = tasks_done[key]
        else:
            tasks = no_tasks
        if row.due_at is None:
            due = no_due
        elif late:
            late_by = _text(duration(now - row.due_at))
            due = f'<span class="badge overdue">{overdue % {"time": late_by}}</span>'
        else:
            due = due_in % {"time": _text(duration(row.due_at - now))}
        topics = f'<br><span class="muted">{_text(", ".join(row.topics))}</span>' if row.topics else ""
        out.append(
            _ROW.format(
                id=row.id,
                row_class="is-overdue" if late else "",
                pick=pick % {"name": _text(row.name)},
                href=_text(application_path(row.id)),
                name=_text(row.name),
                repeat=repeat if row.is_repeat else "",
                email=_text(row.email),
                state=states.get(row.state) or _text(row.state),
                departments=_text(", ".join(row.departments)),
                topics=topics,
                assignee=f"<bdi>{_text(row.assignee)}</bdi>" if row.assignee else "—",
                labels="".join(f'<span class="badge"><bdi>{_text(name)}</bdi></span>' for name in row.labels),
                tasks=tasks,
                since=since % {"when": _text(when(row.state_changed_at))},
                waited=_text(duration(row.waited(now))),
                due=due,
            )
        )
    return Markup("".join(out))  # noqa: S704 - every value above is escaped
