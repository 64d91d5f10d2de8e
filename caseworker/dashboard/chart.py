"""A line chart drawn on the server as SVG: no script, prints and reads without a network."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 900
HEIGHT = 240
LEFT = 44
RIGHT = 12
TOP = 12
BOTTOM = 28


@dataclass(frozen=True)
class Series:
    """One line: its word key, its colour and its points ("x,y x,y ...")."""

    key: str
    colour: str
    points: str


@dataclass(frozen=True)
class Tick:
    """A label on an axis at a position."""

    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    """What the template draws."""

    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    series: list[Series]
    x_ticks: list[Tick]
    y_ticks: list[Tick]


def nice_top(value: int) -> int:
    """The smallest 4, 8 or 20 times a power of ten at or above the value: four whole ticks."""
    step = 1
    while True:
        for factor in (4, 8, 20):
            if step * factor >= value:
                return step * factor
        step *= 10


def line_chart(
    labels: Sequence[str], lines: Sequence[tuple[str, str, Sequence[int]]], every: int = 5
) -> Chart:
    """Lines of (key, colour, values) over the labels, with a 0-based y axis."""
    top = nice_top(max((max(values, default=0) for _, _, values in lines), default=0))
    right = WIDTH - RIGHT
    bottom = HEIGHT - BOTTOM
    span = max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + (right - LEFT) * i / span, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - TOP) * value / top, 1)

    series = [
        Series(key, colour, " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values)))
        for key, colour, values in lines
    ]
    last = len(labels) - 1
    x_ticks = [Tick(x(i), labels[i]) for i in range(len(labels)) if (last - i) % every == 0]
    y_ticks = [Tick(y(top * n // 4), str(top * n // 4)) for n in range(5)]
    return Chart(WIDTH, HEIGHT, LEFT, right, TOP, bottom, series, x_ticks, y_ticks)
