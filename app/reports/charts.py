"""Bar charts as geometry for server-rendered SVG (templates/reports/_chart.html), and the reports' charts.

Pure, no I/O.

Every chart has a title and a one-sentence description for assistive technology; the page shows the same
numbers in a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from babel import dates as babel_dates
from babel import numbers as babel_numbers

from app.core.i18n import current_locale, format_date, format_number, ngettext, pgettext
from app.core.i18n import gettext as _
from app.core.workflow import STAFF_LABELS
from app.models import State
from app.reports.queries import STATES, Funnel, PeriodCount, ReportFilters, Times
from app.reports.work import Workload

WIDTH = 640
LABEL_WIDTH = 150
VALUE_WIDTH = 70
BAR = 14
ROW_GAP = 10
AXIS_HEIGHT = 24
TOP = 10
COLUMN_AREA = 180


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    text: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    ticks: list[Label]
    gridlines: list[tuple[float, float, float, float]]
    legend: list[str]
    horizontal: bool


def nice_top(value: float) -> tuple[float, float]:
    """A round top for an axis holding `value`, and its tick step (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0, 1.0
    rough = value / 4
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return step * math.ceil(value / step), step


def _ticks(top: float, step: float) -> list[float]:
    return [step * i for i in range(round(top / step) + 1)]


# Where a bar goes: (row, series, value) to (x, y, width, height).
Place = Callable[[int, int, float], tuple[float, float, float, float]]
Geometry = tuple[float, Place, list[Label], list[Label], list[tuple[float, float, float, float]]]


def chart(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = format_number,
    *,
    horizontal: bool = True,
) -> Chart:
    """Bars for each category, one per series: across the page, or up it (columns, for periods)."""
    top, step = nice_top(max((v for s in series for v in s.values), default=0))
    lay_out = _across if horizontal else _up
    height, place, labels, ticks, grid = lay_out(categories, series, fmt, top, _ticks(top, step))
    chart_bars = [
        Bar(*place(row, index, value), series=index, text=fmt(value))
        for index, one in enumerate(series)
        for row, value in enumerate(one.values)
    ]
    return Chart(
        chart_id,
        title,
        description,
        WIDTH,
        int(height),
        chart_bars,
        labels,
        ticks,
        grid,
        [one.name for one in series],
        horizontal=horizontal,
    )


def _across(
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str],
    top: float,
    at: list[float],
) -> Geometry:
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    row_height = BAR * len(series) + ROW_GAP
    bottom = row_height * len(categories)

    def place(row: int, index: int, value: float) -> tuple[float, float, float, float]:
        return LABEL_WIDTH, row * row_height + ROW_GAP / 2 + index * BAR, plot * value / top, BAR - 1

    labels = [
        Label(LABEL_WIDTH - 6, row * row_height + row_height / 2, text) for row, text in enumerate(categories)
    ]
    ticks = [Label(LABEL_WIDTH + plot * tick / top, bottom + 16, fmt(tick)) for tick in at]
    grid = [(tick.x, 0.0, tick.x, float(bottom)) for tick in ticks]
    return bottom + AXIS_HEIGHT, place, labels, ticks, grid


def _up(
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str],
    top: float,
    at: list[float],
) -> Geometry:
    left = 40.0
    slot = (WIDTH - left) / max(len(categories), 1)
    thickness = slot * 0.8 / max(len(series), 1)

    def place(row: int, index: int, value: float) -> tuple[float, float, float, float]:
        x = left + row * slot + slot * 0.1 + index * thickness
        return x, TOP + COLUMN_AREA * (1 - value / top), thickness, COLUMN_AREA * value / top

    # Label every period while they fit, otherwise every few, so the labels never overlap.
    every = max(1, math.ceil(len(categories) * 70 / (WIDTH - left)))
    labels = [
        Label(left + row * slot + slot / 2, TOP + COLUMN_AREA + 16, text)
        for row, text in enumerate(categories)
        if row % every == 0
    ]
    ticks = [Label(left - 6, TOP + COLUMN_AREA * (1 - tick / top), fmt(tick)) for tick in at]
    grid = [(left, tick.y, float(WIDTH), tick.y) for tick in ticks]
    return TOP + COLUMN_AREA + AXIS_HEIGHT, place, labels, ticks, grid


# --- the charts of the reports page ---------------------------------------------------------------------


def period_label(start: date, period: str) -> str:
    """A period's first day, short, in the reader's language: "Mar 2026" for a month, "Mar 2" for a week."""
    skeleton = "yMMM" if period == "month" else "dMMM"
    return babel_dates.format_skeleton(skeleton, start, locale=current_locale())


def one_decimal(value: float) -> str:
    """A number with exactly one decimal, in the reader's language: 1.5 or 1,5."""
    return babel_numbers.format_decimal(value, "#,##0.0", locale=current_locale())


def days_text(seconds: float) -> str:
    """A span of time in days with one decimal ("1.5 days")."""
    # Always shown with a decimal, so one form fits every number (in Russian the fraction form: «1,5 дня»).
    return _("%(days)s days", days=one_decimal(seconds / 86400))


def percent(rate: float) -> str:
    """A share as a whole percentage in the reader's language: 33% or 33 %."""
    return babel_numbers.format_percent(rate, locale=current_locale())


def state_label(state: str) -> str:
    """A state's name as staff see it, in the reader's language."""
    return _(STAFF_LABELS[State(state)])


def _days(seconds: float) -> float:
    return round(seconds / 86400, 1)


def _over_time(filters: ReportFilters, periods: list[PeriodCount]) -> Chart:
    dates = {"start": format_date(filters.start), "end": format_date(filters.end)}
    if filters.period == "month":
        title = _("Applications received per month")
        description = _("Applications received in each month from %(start)s to %(end)s.", **dates)
    else:
        title = _("Applications received per week")
        description = _("Applications received in each week from %(start)s to %(end)s.", **dates)
    return chart(
        "chart-over-time",
        title,
        description,
        [period_label(p.start, filters.period) for p in periods],
        [Series(pgettext("how many applications", "Received"), [p.received for p in periods])],
        horizontal=False,
    )


def report_charts(
    filters: ReportFilters,
    funnel: Funnel,
    in_state: dict[str, Times],
    workload: list[Workload],
    periods: list[PeriodCount],
) -> dict[str, Chart]:
    """The page's charts, from the numbers its tables show, in the reader's language."""
    reached = [state for state in STATES if funnel.count(state)]
    timed = [state for state in STATES if state in in_state]
    received = funnel.received()
    return {
        "funnel": chart(
            "chart-funnel",
            _("Applications that reached each state"),
            ngettext(
                "Of %(num)s application received, how many reached each state.",
                "Of %(num)s applications received, how many reached each state.",
                received,
                num=format_number(received),
            ),
            [pgettext("how many applications", "Received"), *(state_label(s) for s in reached)],
            [Series(_("Applications"), [received, *(funnel.count(s) for s in reached)])],
        ),
        "time-in-state": chart(
            "chart-time-in-state",
            _("Time in each state, in days"),
            _("Median and 90th percentile of the days spent in each state before the next move."),
            [state_label(s) for s in timed],
            [
                Series(_("Median"), [_days(in_state[s].median) for s in timed]),
                Series(_("90th percentile"), [_days(in_state[s].p90) for s in timed]),
            ],
            # An axis tick or a bar's value in days, e.g. "1.5 d".
            lambda value: _("%(days)s d", days=format_number(value)),
        ),
        "workload": chart(
            "chart-workload",
            _("Open work per person"),
            _("Open applications assigned to each editor and open fact-check tasks of each fact-checker."),
            [w.name for w in workload],
            [
                Series(_("Applications"), [w.applications for w in workload]),
                Series(_("Tasks"), [w.tasks for w in workload]),
            ],
        ),
        "over-time": _over_time(filters, periods),
    }
