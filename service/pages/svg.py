"""Small server-side SVG charts (no plotting library, no script): a stacked horizontal bar
per row and a stacked column per day. Every chart has a title and description for screen
readers, and the page shows the same numbers as a table."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

Series = tuple[str, str]  # (name, colour); colours reach 3:1 against white (graphics)


def stacked_bars(title: str, series: Sequence[Series],
                 rows: Sequence[tuple[str, Sequence[int]]], width: int = 760) -> Markup:
    """One horizontal bar per row, split into the series (values in ``series`` order)."""
    label_w, bar_h, gap = 170, 22, 10
    plot_w = width - label_w - 60
    longest = max((sum(values) for _, values in rows), default=0) or 1
    legend, top = _legend(series, label_w, 8, width)
    height = top + len(rows) * (bar_h + gap) + 10
    parts = [legend]
    for index, (label, values) in enumerate(rows):
        y = top + index * (bar_h + gap)
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.0f}" text-anchor="end" '
                     f'font-size="13">{escape(label)}</text>')
        x = float(label_w)
        for (name, colour), value in zip(series, values, strict=True):
            w = plot_w * value / longest
            if value:
                parts.append(f'<rect class="bar" data-series="{escape(name)}" '
                             f'data-value="{value}" x="{x:.1f}" y="{y}" width="{w:.1f}" '
                             f'height="{bar_h}" fill="{colour}"><title>{escape(label)}: '
                             f'{escape(name)} {value}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + bar_h * 0.7:.0f}" font-size="13">'
                     f'{sum(values)}</text>')
    return _svg(title, width, height, parts)


def columns(title: str, series: Sequence[Series], days: Sequence[tuple[str, Sequence[int]]],
            width: int = 760, height: int = 200) -> Markup:
    """One stacked column per day (x: date labels at the ends; y: count, with a top tick)."""
    left, bottom = 40, 28
    legend, top = _legend(series, left, 8, width)
    height += top
    plot_w, plot_h = width - left - 10, height - top - bottom
    tallest = max((sum(values) for _, values in days), default=0) or 1
    step = plot_w / max(len(days), 1)
    parts = [legend,
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
             'stroke="#4a4a4a"/>',
             f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" font-size="12">'
             f'{tallest}</text>',
             f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-size="12">0</text>']
    for index, (day, values) in enumerate(days):
        x, y = left + index * step, float(top + plot_h)
        for (name, colour), value in zip(series, values, strict=True):
            h = plot_h * value / tallest
            if value:
                y -= h
                parts.append(f'<rect class="bar" data-series="{escape(name)}" '
                             f'data-value="{value}" x="{x + step * 0.1:.1f}" y="{y:.1f}" '
                             f'width="{max(step * 0.8, 1):.1f}" height="{h:.1f}" '
                             f'fill="{colour}"><title>{escape(day)}: {escape(name)} {value}'
                             '</title></rect>')
    if days:
        parts.append(f'<text x="{left}" y="{height - 8}" font-size="12">'
                     f'{escape(days[0][0])}</text>')
        parts.append(f'<text x="{width - 10}" y="{height - 8}" text-anchor="end" '
                     f'font-size="12">{escape(days[-1][0])}</text>')
    return _svg(title, width, height, parts)


def _legend(series: Sequence[Series], x0: int, y: int, width: int) -> tuple[str, int]:
    """The legend, wrapped to ``width``; returns it and the y below its last row."""
    items, x = [], x0
    for name, colour in series:
        step = 30 + 8 * len(name)
        if x > x0 and x + step > width:
            x, y = x0, y + 18
        items.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="{y + 11}" font-size="13">{escape(name)}</text>')
        x += step
    return "".join(items), y + 26


def _svg(title: str, width: int, height: int, parts: list[str]) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(title)}">'
        f'<title>{escape(title)}</title>{body}</svg>')
