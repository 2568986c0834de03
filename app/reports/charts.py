"""Bar charts as geometry for server-rendered SVG (templates/reports/_chart.html). Pure, no I/O.

Every chart has a title and a one-sentence description for assistive technology; the page shows the same
numbers in a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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


def bars(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = lambda value: f"{value:g}",
) -> Chart:
    """Horizontal bars: one row per category, one bar per series in each row."""
    top, step = nice_top(max((v for s in series for v in s.values), default=0))
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    row_height = BAR * len(series) + ROW_GAP
    bottom = row_height * len(categories)
    chart_bars = [
        Bar(
            x=LABEL_WIDTH,
            y=row * row_height + ROW_GAP / 2 + index * BAR,
            width=plot * value / top,
            height=BAR - 1,
            series=index,
            text=fmt(value),
        )
        for index, one in enumerate(series)
        for row, value in enumerate(one.values)
    ]
    labels = [
        Label(LABEL_WIDTH - 6, row * row_height + row_height / 2, text) for row, text in enumerate(categories)
    ]
    ticks = [Label(LABEL_WIDTH + plot * tick / top, bottom + 16, fmt(tick)) for tick in _ticks(top, step)]
    grid = [(tick.x, 0.0, tick.x, float(bottom)) for tick in ticks]
    return Chart(
        chart_id,
        title,
        description,
        WIDTH,
        bottom + AXIS_HEIGHT,
        chart_bars,
        labels,
        ticks,
        grid,
        [one.name for one in series],
        horizontal=True,
    )


def columns(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = lambda value: f"{value:g}",
) -> Chart:
    """Vertical columns: one group per category (a period), one column per series in each group."""
    top, step = nice_top(max((v for s in series for v in s.values), default=0))
    left = 40.0
    slot = (WIDTH - left) / max(len(categories), 1)
    thickness = slot * 0.8 / max(len(series), 1)
    chart_bars = [
        Bar(
            x=left + row * slot + slot * 0.1 + index * thickness,
            y=TOP + COLUMN_AREA * (1 - value / top),
            width=thickness,
            height=COLUMN_AREA * value / top,
            series=index,
            text=fmt(value),
        )
        for index, one in enumerate(series)
        for row, value in enumerate(one.values)
    ]
    # Label every period while they fit, otherwise every few, so the labels never overlap.
    every = max(1, math.ceil(len(categories) * 70 / (WIDTH - left)))
    labels = [
        Label(left + row * slot + slot / 2, TOP + COLUMN_AREA + 16, text)
        for row, text in enumerate(categories)
        if row % every == 0
    ]
    ticks = [Label(left - 6, TOP + COLUMN_AREA * (1 - tick / top), fmt(tick)) for tick in _ticks(top, step)]
    grid = [(left, tick.y, float(WIDTH), tick.y) for tick in ticks]
    return Chart(
        chart_id,
        title,
        description,
        WIDTH,
        TOP + COLUMN_AREA + AXIS_HEIGHT,
        chart_bars,
        labels,
        ticks,
        grid,
        [one.name for one in series],
        horizontal=False,
    )
