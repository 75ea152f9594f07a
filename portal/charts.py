"""Small server-rendered SVG charts (line trends and bar histograms); no JavaScript needed.

Each function returns markup safe to put in a template; every label is escaped and
each chart carries a <title> so screen readers and tooltips explain it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T, PAD_R = 640, 230, 44, 28, 24, 12
COLOURS = ("#0a5bd3", "#1e7d32", "#b35c00", "#6a3fb5")


def _scale(value: float, top: float) -> float:
    plot = HEIGHT - PAD_B - PAD_T
    return HEIGHT - PAD_B - (plot * value / top if top else 0)


def _x(i: int, count: int) -> float:
    plot = WIDTH - PAD_L - PAD_R
    return PAD_L + (plot * i / (count - 1) if count > 1 else plot / 2)


def _axes(top: float, labels: Sequence[str], every: int = 1) -> list[str]:
    parts = []
    for frac in (0, 0.5, 1):
        y = _scale(top * frac, top)
        parts.append(f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#d9dee5"/><text x="{PAD_L - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end" font-size="11">{top * frac:g}</text>')
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(f'<text x="{_x(i, len(labels)):.1f}" y="{HEIGHT - 8}" '
                         f'text-anchor="middle" font-size="11">{escape(label)}</text>')
    return parts


def _nice_top(values: Sequence[float | None], top: float | None) -> float:
    if top is not None:
        return top
    peak = max((v for v in values if v is not None), default=0)
    return float(max(1, round(peak * 1.15 + 0.5)))


def line_chart(title: str, labels: Sequence[str],
               series: Sequence[tuple[str, Sequence[float | None]]],
               top: float | None = None) -> Markup:
    """A line per series over *labels*; None values leave a gap."""
    top = _nice_top([v for _, values in series for v in values], top)
    parts = _axes(top, labels, every=max(1, len(labels) // 7))
    for n, (name, values) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        points = [(i, v) for i, v in enumerate(values) if v is not None]
        path = " ".join(f"{_x(i, len(labels)):.1f},{_scale(v, top):.1f}" for i, v in points)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        parts += [f'<circle cx="{_x(i, len(labels)):.1f}" cy="{_scale(v, top):.1f}" r="3" '
                  f'fill="{colour}"><title>{escape(name)} {escape(labels[i])}: {v:g}</title>'
                  f'</circle>' for i, v in points]
    return _svg(title, parts, [name for name, _ in series])


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float],
              highlight: int | None = None) -> Markup:
    """Vertical bars, e.g. a histogram of the index; *highlight* marks one bar."""
    top = _nice_top(values, None)
    plot, count = WIDTH - PAD_L - PAD_R, max(1, len(values))
    step = plot / count
    parts = _axes(top, [], 1)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = _scale(value, top)
        colour = COLOURS[2] if i == highlight else COLOURS[0]
        parts.append(f'<rect x="{PAD_L + i * step + 2:.1f}" y="{y:.1f}" width="{step - 4:.1f}" '
                     f'height="{HEIGHT - PAD_B - y:.1f}" fill="{colour}">'
                     f'<title>{escape(label)}: {value:g}</title></rect>'
                     f'<text x="{PAD_L + (i + 0.5) * step:.1f}" y="{HEIGHT - 8}" '
                     f'text-anchor="middle" font-size="10">{escape(label)}</text>')
    return _svg(title, parts, [])


def _svg(title: str, parts: list[str], legend: list[str]) -> Markup:
    keys = "".join(
        f'<rect x="{PAD_L + 150 * n}" y="2" width="10" height="10" fill="{COLOURS[n % 4]}"/>'
        f'<text x="{PAD_L + 150 * n + 14}" y="11" font-size="11">{escape(name)}</text>'
        for n, name in enumerate(legend))
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(parts)}{keys}</svg>"
    )
