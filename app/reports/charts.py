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

from app.models import State
from app.reports.queries import STATES, Funnel, PeriodCount, ReportFilters, Times
from app.reports.work import Workload
from app.workflow import STAFF_LABELS

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
    fmt: Callable[[float], str] = lambda value: f"{value:g}",
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
    return start.strftime("%b %Y" if period == "month" else "%d %b")


def _days(seconds: float) -> float:
    return round(seconds / 86400, 1)


def report_charts(
    filters: ReportFilters,
    funnel: Funnel,
    in_state: dict[str, Times],
    workload: list[Workload],
    periods: list[PeriodCount],
) -> dict[str, Chart]:
    """The page's charts, from the numbers its tables show."""
    reached = [state for state in STATES if funnel.count(state)]
    timed = [state for state in STATES if state in in_state]
    return {
        "funnel": chart(
            "chart-funnel",
            "Applications that reached each state",
            f"Of {funnel.received()} applications received, how many reached each state.",
            ["Received", *(STAFF_LABELS[State(s)] for s in reached)],
            [Series("Applications", [funnel.received(), *(funnel.count(s) for s in reached)])],
        ),
        "time-in-state": chart(
            "chart-time-in-state",
            "Time in each state, in days",
            "Median and 90th percentile of the days spent in each state before the next move.",
            [STAFF_LABELS[State(s)] for s in timed],
            [
                Series("Median", [_days(in_state[s].median) for s in timed]),
                Series("90th percentile", [_days(in_state[s].p90) for s in timed]),
            ],
            lambda value: f"{value:g} d",
        ),
        "workload": chart(
            "chart-workload",
            "Open work per person",
            "Open applications assigned to each editor and open fact-check tasks of each fact-checker.",
            [w.name for w in workload],
            [
                Series("Applications", [w.applications for w in workload]),
                Series("Tasks", [w.tasks for w in workload]),
            ],
        ),
        "over-time": chart(
            "chart-over-time",
            f"Applications received per {filters.period}",
            f"Applications received in each {filters.period} from {filters.start:%d %b %Y} "
            f"to {filters.end:%d %b %Y}.",
            [period_label(p.start, filters.period) for p in periods],
            [Series("Received", [p.received for p in periods])],
            horizontal=False,
        ),
    }
