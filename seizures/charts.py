"""Charts drawn on the server as inline SVG: no script, no external asset.

Accessible: each chart is an ``img`` with a <title> and a <desc>, every bar has its own
<title> and a visible value. Colours come from the page's CSS variables through
``currentColor`` and Bootstrap's colour classes (``text-primary`` …), so they follow the theme
and print. The drawing is left to right in every language (``direction="ltr"``); the labels
themselves are shown in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
BAR = 22
GAP = 6
LABEL_WIDTH = 190
MAX_LABEL = 28


def _short(label: str, limit: int = MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _number(value) -> str:
    return formats.number_format(value, use_l10n=True, force_grouping=True)


def _frame(chart_id: str, title: str, description: str, height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" direction="ltr" '
        f'font-family="inherit" font-size="12">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def bar_chart(
    *, chart_id: str, title: str, description: str, items: Sequence[tuple[str, float]]
) -> SafeString:
    """Horizontal bars, one per (label, value), largest first as given."""
    items = list(items)
    height = max(1, len(items)) * (BAR + GAP) + GAP
    top = max((value for _label, value in items), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 70
    body = ['<g class="text-body" fill="currentColor">']
    for i, (label, _value) in enumerate(items):
        y = GAP + i * (BAR + GAP)
        body.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR * 0.7:.1f}" text-anchor="end">'
            f"{escape(_short(str(label)))}</text>"
        )
    body.append("</g>")
    body.append('<g class="text-primary chart-bars" fill="currentColor">')
    for i, (label, value) in enumerate(items):
        y = GAP + i * (BAR + GAP)
        width = max(1.0, span * value / top) if value else 0
        body.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR}" rx="2">'
            f"<title>{escape(str(label))}: {escape(_number(value))}</title></rect>"
        )
    body.append("</g>")
    body.append('<g class="text-body-secondary" fill="currentColor">')
    for i, (_label, value) in enumerate(items):
        y = GAP + i * (BAR + GAP)
        width = span * value / top if value else 0
        body.append(
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + BAR * 0.7:.1f}">'
            f"{escape(_number(value))}</text>"
        )
    body.append("</g>")
    body.append(
        f'<line class="text-body-secondary" stroke="currentColor" x1="{LABEL_WIDTH}" y1="0" '
        f'x2="{LABEL_WIDTH}" y2="{height}"/>'
    )
    return mark_safe(_frame(chart_id, title, description, height, body))  # noqa: S308 (escaped)


def timeline_chart(
    *, chart_id: str, title: str, description: str, days: Sequence[tuple[date, int]]
) -> SafeString:
    """Vertical bars, one per day, with a few dates along the axis."""
    days = list(days)
    plot_height, left, bottom, top_margin = 160, 40, 36, 18
    height = plot_height + bottom + top_margin
    top = max((n for _d, n in days), default=0) or 1
    slot = (WIDTH - left - 10) / max(1, len(days))
    bar = max(1.0, slot * 0.7)
    body = [
        '<g class="text-body-secondary" stroke="currentColor">'
        f'<line x1="{left}" y1="{top_margin + plot_height}" x2="{WIDTH - 10}" '
        f'y2="{top_margin + plot_height}"/></g>',
        '<g class="text-body-secondary" fill="currentColor" font-size="11">',
        f'<text x="{left - 6}" y="{top_margin + 4}" text-anchor="end">'
        f"{escape(_number(top))}</text>",
        f'<text x="{left - 6}" y="{top_margin + plot_height}" text-anchor="end">0</text>',
    ]
    step = max(1, -(-len(days) // 8))  # at most about 8 dates on the axis
    for i, (day, _n) in enumerate(days):
        if i % step == 0 or i == len(days) - 1:
            x = left + i * slot + slot / 2
            body.append(
                f'<text x="{x:.1f}" y="{top_margin + plot_height + 16}" text-anchor="middle">'
                f"{escape(formats.date_format(day, 'SHORT_DATE_FORMAT'))}</text>"
            )
    body.append("</g>")
    body.append('<g class="text-primary chart-bars" fill="currentColor">')
    for i, (day, n) in enumerate(days):
        h = plot_height * n / top
        x = left + i * slot + (slot - bar) / 2
        body.append(
            f'<rect x="{x:.1f}" y="{top_margin + plot_height - h:.1f}" width="{bar:.1f}" '
            f'height="{h:.1f}"><title>{escape(formats.date_format(day, "DATE_FORMAT"))}: '
            f"{escape(_number(n))}</title></rect>"
        )
    body.append("</g>")
    return mark_safe(_frame(chart_id, title, description, height, body))  # noqa: S308 (escaped)
