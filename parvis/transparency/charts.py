"""Server-side SVG charts for the transparency page and HTML reports.

Written by hand on purpose: the page needs two chart shapes (horizontal bars, lines over time),
and a plotting library (matplotlib) would add tens of megabytes and a font cache to the server
for what is a few dozen lines of SVG. The output is plain SVG with a <title> and text labels,
readable without JavaScript or a CDN; every label is XML-escaped.
"""

from __future__ import annotations

from datetime import date
from html import escape

PALETTE = ("#2d5d8a", "#c0623b", "#4f8a3c", "#8a4f8a", "#8a7a2d")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _nice_max(value: int) -> int:
    """A round axis maximum at or above `value` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def bar_chart(title: str, items: list[tuple[str, int]], *, width: int = 560) -> str:
    """Horizontal bars, one per (label, value), largest first as given."""
    if not items:
        items = [("(none)", 0)]
    label_width = 230
    bar_area = width - label_width - 50
    row = 24
    height = 34 + row * len(items)
    top = _nice_max(max(value for _, value in items))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" {FONT} font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 30 + i * row
        length = round(bar_area * value / top)
        shown = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" {FONT}>'
            f"<title>{escape(label)}</title>{escape(shown)}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{max(length, 1)}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{label_width + max(length, 1) + 6}" y="{y + 15}" {FONT}>{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str, starts: list[date], lines: dict[str, list[int]], *, width: int = 640
) -> str:
    """Lines over time (one per series), with a legend, y axis and first/last date labels."""
    height = 240
    left, right, top_pad, bottom = 40, 12, 46, 30
    plot_w = width - left - right
    plot_h = height - top_pad - bottom
    peak = _nice_max(max((v for values in lines.values() for v in values), default=0))
    count = max(len(starts), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(value: int) -> float:
        return top_pad + plot_h - plot_h * value / peak

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" {FONT} font-weight="bold">{escape(title)}</text>',
    ]
    for tick in (0, peak // 2, peak) if peak > 1 else (0, peak):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f"{FONT}>{tick}</text>"
        )
    for n, (name, values) in enumerate(lines.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for i, v in enumerate(values):
            when = starts[i].isoformat() if i < len(starts) else ""
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(name)} {when}: {v}</title></circle>"
            )
        legend_x = left + n * 130
        parts.append(
            f'<rect x="{legend_x}" y="26" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="36" {FONT}>{escape(name)}</text>'
        )
    if starts:
        parts.append(
            f'<text x="{left}" y="{height - 8}" {FONT}>{starts[0].isoformat()}</text>'
            f'<text x="{width - right}" y="{height - 8}" text-anchor="end" {FONT}>'
            f"{starts[-1].isoformat()}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
