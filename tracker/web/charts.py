"""A small server-rendered SVG chart of a story's changes over time. Pure: no I/O.

Each version is a bar at its capture time: words added rise above the axis (green), words
removed hang below it (red). Bar heights use a square-root scale so one rewrite does not
flatten every small edit. The SVG has a <title> per bar for screen readers and tooltips,
and no scripts or inline styles (the page's CSP allows neither).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ChartPoint:
    seq: int
    at: datetime
    words_added: int
    words_removed: int


def changes_chart(
    points: Sequence[ChartPoint], *, width: int = 640, height: int = 120, link: str | None = None
) -> str:
    """The SVG markup (empty string for no points).

    `link`, if given, is a URL pattern with ``{seq}`` where each bar links to.
    """
    if not points:
        return ""
    pad = 4
    mid = height / 2
    half = mid - pad
    start = min(p.at for p in points).timestamp()
    span = max(p.at for p in points).timestamp() - start
    peak = max(max(p.words_added, p.words_removed) for p in points) or 1
    bar = max(2.0, min(12.0, (width - 2 * pad) / max(1, len(points)) * 0.6))
    usable = width - 2 * pad - bar

    def x_of(point: ChartPoint, index: int) -> float:
        if span > 0:
            return pad + usable * (point.at.timestamp() - start) / span
        return pad + usable * (index / max(1, len(points) - 1) if len(points) > 1 else 0.5)

    def scaled(value: int) -> float:
        return half * math.sqrt(value / peak) if value else 0.0

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="none" role="img" aria-label="Words added and removed per version">',
        f'<line class="axis" x1="0" y1="{mid:.1f}" x2="{width}" y2="{mid:.1f}"/>',
    ]
    for index, point in enumerate(points):
        x = x_of(point, index)
        label = html.escape(
            f"v{point.seq} {point.at:%Y-%m-%d %H:%M} UTC: "
            f"+{point.words_added} / −{point.words_removed} words"
        )
        up = max(scaled(point.words_added), 1.0 if point.seq == 1 else 0.0)
        down = scaled(point.words_removed)
        group = [f"<g><title>{label}</title>"]
        if up:
            group.append(
                f'<rect class="added" x="{x:.1f}" y="{mid - up:.1f}" '
                f'width="{bar:.1f}" height="{up:.1f}"/>'
            )
        if down:
            group.append(
                f'<rect class="removed" x="{x:.1f}" y="{mid:.1f}" '
                f'width="{bar:.1f}" height="{down:.1f}"/>'
            )
        if not up and not down:
            group.append(
                f'<rect class="minor" x="{x:.1f}" y="{mid - 1:.1f}" width="{bar:.1f}" height="2"/>'
            )
        group.append("</g>")
        markup = "".join(group)
        if link:
            href = html.escape(link.format(seq=point.seq))
            markup = f'<a href="{href}">{markup}</a>'
        parts.append(markup)
    parts.append("</svg>")
    return "".join(parts)
