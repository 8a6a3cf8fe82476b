"""Server-side SVG charts of a report's groups: bar, stacked bar, line, pie, donut and funnel.

No script and no CDN: the chart is markup the server writes, each shape carries a ``<title>`` (a tooltip and
what a screen reader says) and links to the group's records when the report can say which they are. The
screens show the same numbers as a table beside it, which is the accessible view of every chart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT = 480, 260
COLORS = ("#2b6cb0", "#38a169", "#dd6b20", "#805ad5", "#d53f8c", "#319795", "#d69e2e", "#718096")

#: (label, value, link or None) for each group, in the report's order (stages in pipeline order).
Point = tuple[str, float, str | None]


def points(groups: Sequence[dict[str, Any]], aggregate: str, link: Callable[[dict], str | None]) -> list[Point]:
    return [(g["label"], number(g["values"].get(aggregate)), link(g)) for g in groups]


def chart_svg(kind: str, title: str, data: list[Point], series: dict[str, list[Point]] | None = None) -> Markup:
    """The chart as an ``<svg>``; ``series`` (label → points per group) is for stacked bars."""
    body = {"bar": _bars, "line": _line, "pie": _pie, "donut": _donut, "funnel": _funnel}.get(kind, _bars)
    inner = _stacked(data, series) if kind == "stacked_bar" and series else body(data)
    return Markup(f'<svg class="trellis-chart" data-chart="{escape(kind)}" role="img" aria-label="{escape(title)}" '
                  f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">'
                  f"<title>{escape(title)}</title>{inner}</svg>")


def _shape(svg: str, label: str, value: float, link: str | None) -> str:
    tip = f"<title>{escape(label)}: {_format(value)}</title>"
    shape = svg.replace("/>", f">{tip}</{svg.split()[0][1:]}>", 1)
    if link:
        return f'<a href="{escape(link)}" data-group="{escape(label)}" aria-label="{escape(label)}">{shape}</a>'
    return shape


def _bars(data: list[Point]) -> str:
    top = max([v for _, v, _ in data] + [0]) or 1
    width = (WIDTH - 40) / max(len(data), 1)
    out = []
    for index, (label, value, link) in enumerate(data):
        height = max(value, 0) / top * (HEIGHT - 50)
        x, y = 20 + index * width, HEIGHT - 30 - height
        out.append(_shape(f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{width - 8:.1f}" height="{height:.1f}" '
                          f'fill="{COLORS[0]}"/>', label, value, link))
        out.append(_text(x + width / 2, HEIGHT - 14, label))
    return "".join(out)


def _stacked(data: list[Point], series: dict[str, list[Point]]) -> str:
    totals = [sum(max(points_[i][1], 0) for points_ in series.values()) for i in range(len(data))]
    top = max(totals + [0]) or 1
    width = (WIDTH - 40) / max(len(data), 1)
    out = []
    for index, (label, _, _) in enumerate(data):
        x, base = 20 + index * width, HEIGHT - 30
        for color, (name, points_) in zip(COLORS, series.items(), strict=False):
            _, value, link = points_[index]
            height = max(value, 0) / top * (HEIGHT - 50)
            base -= height
            out.append(_shape(f'<rect x="{x + 4:.1f}" y="{base:.1f}" width="{width - 8:.1f}" height="{height:.1f}" '
                              f'fill="{color}"/>', f"{label} · {name}", value, link))
        out.append(_text(x + width / 2, HEIGHT - 14, label))
    return "".join(out)


def _line(data: list[Point]) -> str:
    top = max([v for _, v, _ in data] + [0]) or 1
    step = (WIDTH - 40) / max(len(data) - 1, 1)
    coords = [(20 + i * step, HEIGHT - 30 - max(v, 0) / top * (HEIGHT - 50)) for i, (_, v, _) in enumerate(data)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    out = [f'<polyline points="{path}" fill="none" stroke="{COLORS[0]}" stroke-width="2"/>']
    for (x, y), (label, value, link) in zip(coords, data, strict=True):
        out.append(_shape(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{COLORS[0]}"/>', label, value, link))
        out.append(_text(x, HEIGHT - 14, label))
    return "".join(out)


def _pie(data: list[Point], hole: float = 0) -> str:
    total = sum(max(v, 0) for _, v, _ in data) or 1
    cx, cy, r = WIDTH / 2, HEIGHT / 2, HEIGHT / 2 - 10
    angle, out = -math.pi / 2, []
    for index, (label, value, link) in enumerate(data):
        sweep = max(value, 0) / total * 2 * math.pi
        if sweep <= 0:
            continue
        end = angle + min(sweep, 2 * math.pi - 1e-6)
        large = 1 if sweep > math.pi else 0
        x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
        x2, y2 = cx + r * math.cos(end), cy + r * math.sin(end)
        path = f"M{cx:.1f},{cy:.1f} L{x1:.1f},{y1:.1f} A{r:.1f},{r:.1f} 0 {large} 1 {x2:.1f},{y2:.1f} Z"
        out.append(_shape(f'<path d="{path}" fill="{COLORS[index % len(COLORS)]}"/>', label, value, link))
        angle = end
    if hole:
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r * hole:.1f}" fill="#fff"/>')
    return "".join(out)


def _donut(data: list[Point]) -> str:
    return _pie(data, hole=0.55)


def _funnel(data: list[Point]) -> str:
    """Stages top to bottom (pipeline order), each as wide as its value, centred."""
    top = max([v for _, v, _ in data] + [0]) or 1
    height = (HEIGHT - 10) / max(len(data), 1)
    out = []
    for index, (label, value, link) in enumerate(data):
        width = max(max(value, 0) / top * (WIDTH - 160), 2)
        x, y = (WIDTH - width) / 2, 5 + index * height
        out.append(_shape(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height - 4:.1f}" '
                          f'fill="{COLORS[index % len(COLORS)]}"/>', label, value, link))
        out.append(_text(WIDTH / 2, y + height / 2 + 4, f"{label}: {_format(value)}", fill="#fff"
                         if width > 120 else "#222"))
    return "".join(out)


def _text(x: float, y: float, text: str, fill: str = "#222") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="11" fill="{fill}" aria-hidden="true" '
            'pointer-events="none">'
            f"{escape(text[:24])}</text>")


def number(value: Any) -> float:
    """An aggregate as a length to draw (a blank is 0)."""
    return float(value) if isinstance(value, int | float | Decimal) else 0.0


def _format(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
