"""Server-rendered SVG charts: adherence per week and the pain trend.

No script and no CDN: each chart is a string of SVG that a page includes as it is. Colours
are presentation attributes, not `style` attributes, because the app's Content Security
Policy forbids inline styles. Every text is escaped; each chart carries a <title> and a <desc>
that say in words what the picture shows, for screen readers and for tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from handrail.progress.adherence import PainPoint, WeekAdherence

WIDTH = 600
HEIGHT = 220
LEFT = 36
RIGHT = 12
TOP = 24
BOTTOM = 34
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
DONE = "#2e7d32"
PRESCRIBED = "#c8e6c9"
BEFORE = "#1565c0"
AFTER = "#c62828"
GRID = "#dddddd"
INK = "#333333"


def _e(text: str) -> str:
    return escape(text, quote=True)


def _svg(chart_id: str, title: str, description: str, body: list[str]) -> str:
    chart_id = _e(chart_id)
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'font-family="sans-serif" font-size="11" fill="{INK}">',
            f'<title id="{chart_id}-title">{_e(title)}</title>',
            f'<desc id="{chart_id}-desc">{_e(description)}</desc>',
            *body,
            "</svg>",
        ]
    )


def _empty(chart_id: str, title: str, message: str) -> str:
    return _svg(
        chart_id,
        title,
        message,
        [f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle">{_e(message)}</text>'],
    )


def _label_every(count: int, room: int) -> int:
    """Label every n-th column so labels never overlap (about 28 px per label)."""
    return max(1, -(-count * 28 // room))


def adherence_svg(
    weeks: Sequence[WeekAdherence], *, chart_id: str = "adherence-chart", title: str = ""
) -> str:
    """Bars per week: sessions prescribed (light) behind sessions done (dark)."""
    title = title or "Adherence per week"
    if not weeks:
        return _empty(chart_id, title, "No weeks to show yet.")
    top = max(1, *(w.prescribed for w in weeks), *(w.done for w in weeks))
    slot = PLOT_WIDTH / len(weeks)
    bar = max(2.0, slot * 0.7)
    every = _label_every(len(weeks), PLOT_WIDTH)
    body: list[str] = []
    for tick in sorted({0, top // 2, top}):
        y = TOP + PLOT_HEIGHT - PLOT_HEIGHT * tick / top
        body.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    for index, week in enumerate(weeks):
        x = LEFT + slot * index + (slot - bar) / 2
        prescribed_h = PLOT_HEIGHT * week.prescribed / top
        done_h = PLOT_HEIGHT * week.done / top
        base = TOP + PLOT_HEIGHT
        body.append(
            f'<g class="week" data-week="{week.number}" data-done="{week.done}" '
            f'data-prescribed="{week.prescribed}">'
            f"<title>{_e(_week_words(week))}</title>"
            f'<rect class="prescribed" x="{x:.1f}" y="{base - prescribed_h:.1f}" '
            f'width="{bar:.1f}" height="{prescribed_h:.1f}" fill="{PRESCRIBED}"/>'
            f'<rect class="done" x="{x + bar * 0.2:.1f}" y="{base - done_h:.1f}" '
            f'width="{bar * 0.6:.1f}" height="{done_h:.1f}" fill="{DONE}"/>'
            "</g>"
        )
        if index % every == 0:
            body.append(
                f'<text x="{x + bar / 2:.1f}" y="{base + 14}" text-anchor="middle">'
                f"W{week.number}</text>"
            )
    body.append(
        f'<text x="{LEFT}" y="{HEIGHT - 4}">'
        f'<tspan fill="{DONE}">■</tspan> sessions done '
        f'<tspan fill="{PRESCRIBED}">■</tspan> prescribed</text>'
    )
    description = "; ".join(_week_words(w) for w in weeks)
    return _svg(chart_id, title, description, body)


def _week_words(week: WeekAdherence) -> str:
    return (
        f"Week {week.number} ({week.start.isoformat()} to {week.end.isoformat()}): "
        f"{week.done} of {week.prescribed} sessions ({week.percent}%)"
    )


def pain_svg(points: Sequence[PainPoint], *, chart_id: str = "pain-chart", title: str = "") -> str:
    """Pain 0-10 by day: before exercising (blue, dashed) and after (red)."""
    title = title or "Pain trend (0-10)"
    if not points:
        return _empty(chart_id, title, "No pain readings yet.")
    first, last = points[0].day, points[-1].day
    span = max(1, (last - first).days)

    def x_of(point: PainPoint) -> float:
        if first == last:
            return LEFT + PLOT_WIDTH / 2
        return LEFT + PLOT_WIDTH * (point.day - first).days / span

    def y_of(value: float) -> float:
        return TOP + PLOT_HEIGHT - PLOT_HEIGHT * value / 10

    body: list[str] = []
    for tick in range(0, 11, 2):
        y = y_of(tick)
        body.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    for series, colour, dash in (
        ("before", BEFORE, ' stroke-dasharray="5 3"'),
        ("after", AFTER, ""),
    ):
        coords = [
            (x_of(p), y_of(value))
            for p in points
            if (value := p.before if series == "before" else p.after) is not None
        ]
        if not coords:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(
            f'<polyline class="pain-{series}" points="{path}" fill="none" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        body.extend(
            f'<circle class="pain-{series}" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
            for x, y in coords
        )
    base = TOP + PLOT_HEIGHT + 14
    body.append(f'<text x="{LEFT}" y="{base}">{_e(first.isoformat())}</text>')
    if last != first:
        body.append(
            f'<text x="{WIDTH - RIGHT}" y="{base}" text-anchor="end">{_e(last.isoformat())}</text>'
        )
    body.append(
        f'<text x="{LEFT}" y="{HEIGHT - 4}">'
        f'<tspan fill="{BEFORE}">- -</tspan> before exercising '
        f'<tspan fill="{AFTER}">—</tspan> after</text>'
    )
    description = "; ".join(_pain_words(p) for p in points)
    return _svg(chart_id, title, description, body)


def _pain_words(point: PainPoint) -> str:
    parts = []
    if point.before is not None:
        parts.append(f"before {point.before:g}")
    if point.after is not None:
        parts.append(f"after {point.after:g}")
    return f"{point.day.isoformat()}: pain " + ", ".join(parts)
