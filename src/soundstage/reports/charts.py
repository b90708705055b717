"""Charts as inline SVG: the report opens offline, prints, and needs no JavaScript or CDN.

Two shapes cover the reports: labelled bars (one row per shot, a bar per series: AI against traditional
cost, or the AI share of each shot) and a running total against a limit (spend against the budget). Both
return ``Markup`` for a Jinja2 template; every text in them is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

INK, MUTED, RULE = "#1d232b", "#5d6873", "#d9dee3"


@dataclass(frozen=True)
class Series:
    name: str
    colour: str          # any CSS colour


def _plain(value: float) -> str:
    return f"{value:,.4g}"


def text_width(text: str) -> float:
    """About how wide ``text`` is at 12 px: Hangul and other wide characters take twice a Latin letter."""
    return sum(12.5 if ord(char) > 0x2E80 else 7.0 for char in text)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``value``: axis ends a reader can count in."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    parts, at = [], x
    for one in series:
        parts.append(f'<rect x="{at:.1f}" y="{y - 10:.1f}" width="12" height="12" rx="2" fill="{escape(one.colour)}"/>')
        parts.append(f'<text x="{at + 17:.1f}" y="{y:.1f}">{escape(one.name)}</text>')
        at += 30 + text_width(one.name)
    return parts


def bar_chart(labels: Sequence[str], series: Sequence[Series], values: Sequence[Sequence[float]], *,
              show: Callable[[float], str] = _plain, title: str = "", width: int = 960,
              label_width: int = 150) -> Markup:
    """Horizontal bars: a row per label, a bar per series (``values[row][series]``), each with its value written
    at its end, so a bar too small to see (a few cents beside a bid) still reads."""
    bar, gap, top = 16, 4, 34 if series else 10
    row = len(series) * (bar + gap) + 12
    height = top + row * max(len(labels), 1) + 26
    plot = width - label_width - 150                      # room on the right for the longest value
    peak = nice_ceiling(max((v for group in values for v in group), default=0.0))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bars" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    parts += _legend(series, label_width, 18)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = label_width + tick * plot
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 22}" stroke="{RULE}"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" fill="{MUTED}">'
                     f'{escape(show(peak * tick))}</text>')
    for index, (label, group) in enumerate(zip(labels, values, strict=True)):
        y0 = top + index * row
        middle = y0 + len(series) * (bar + gap) / 2
        parts.append(f'<text x="{label_width - 10}" y="{middle + 4:.1f}" text-anchor="end" '
                     f'font-weight="600">{escape(label)}</text>')
        for place, (one, value) in enumerate(zip(series, group, strict=True)):
            y = y0 + place * (bar + gap)
            length = 0.0 if value <= 0 else max(plot * value / peak, 2.0)
            parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" rx="2" '
                         f'fill="{escape(one.colour)}"><title>{escape(one.name)}: {escape(show(value))}</title></rect>')
            parts.append(f'<text x="{label_width + length + 6:.1f}" y="{y + bar - 4}">{escape(show(value))}</text>')
    parts.append(f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" y2="{height - 22}" stroke="{INK}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def cumulative_chart(steps: Sequence[float], *, limit: float | None, line: Series, limit_name: str,
                     show: Callable[[float], str] = _plain, first: str = "", last: str = "", title: str = "",
                     empty: str = "nothing yet", flat: str = "", width: int = 960, height: int = 300) -> Markup:
    """A running total (``steps``: each item's amount, in order) as a stepped line, against a dashed ``limit``.

    ``first`` and ``last`` label the ends of the x axis (the first and last item's date, say); ``empty`` is written
    when there are no steps, ``flat`` when they are all zero and there is no limit.
    """
    totals, running = [], 0.0
    for amount in steps:
        running += amount
        totals.append(running)
    if not any(totals) and not limit:
        height = min(height, 170)                # a flat line at zero needs no tall chart
    left, right, top, bottom = 110, 30, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = nice_ceiling(max([*totals, limit or 0.0, 0.0]))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart cumulative" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    legend = [line] + ([Series(limit_name, "#b7791f")] if limit else [])
    parts += _legend(legend, left, 18)

    def y_of(value: float) -> float:
        return top + plot_h * (1 - value / peak)

    is_flat = not any(totals) and not limit
    shown: set[str] = set()
    for tick in (0.0,) if is_flat else (0.0, 0.25, 0.5, 0.75, 1.0):
        y, label = y_of(peak * tick), show(peak * tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{RULE}"/>')
        if label not in shown:                       # small amounts in whole won would repeat a label
            shown.add(label)
            parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
                         f'{escape(label)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{INK}"/>')
    if limit:
        y = y_of(limit)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#b7791f" '
                     f'stroke-width="2" stroke-dasharray="8 5"/>')
        parts.append(f'<text x="{left + plot_w - 4}" y="{y - 6:.1f}" text-anchor="end" fill="#b7791f">'
                     f'{escape(limit_name)} {escape(show(limit))}</text>')
    if totals:
        count = len(totals)
        points: list[tuple[float, float]] = [(float(left), y_of(0.0))]
        for index, total in enumerate(totals):
            x = left + plot_w * (index + 1) / count
            points += [(points[-1][0], y_of(total)), (x, y_of(total))]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{escape(line.colour)}" stroke-width="2.5"/>')
        end_x, end_y = points[-1]
        parts.append(f'<circle cx="{end_x:.1f}" cy="{end_y:.1f}" r="4" fill="{escape(line.colour)}"/>')
        parts.append(f'<text x="{end_x - 8:.1f}" y="{end_y - 10:.1f}" text-anchor="end" font-weight="600">'
                     f'{escape(show(totals[-1]))}</text>')
    message = empty if not totals else flat if is_flat else ""
    if message:
        parts.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="{MUTED}" '
                     f'font-size="15">{escape(message)}</text>')
    parts.append(f'<text x="{left}" y="{height - 14}" fill="{MUTED}">{escape(first)}</text>')
    parts.append(f'<text x="{left + plot_w}" y="{height - 14}" text-anchor="end" fill="{MUTED}">{escape(last)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
