"""Sparklines drawn on the server as inline SVG: no script, so the strict CSP holds, and a page
of twenty watches stays a few kilobytes."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from incidents.overview.selectors import Spark

register = template.Library()

WIDTH, HEIGHT, PAD = 120.0, 28.0, 2.0


def _y(value: float, top: float) -> float:
    usable = HEIGHT - 2 * PAD
    return round(HEIGHT - PAD - (value / top) * usable if top else HEIGHT - PAD, 1)


@register.simple_tag
def sparkline(spark: Spark, label: str, *, percent: bool = False) -> SafeString:
    """An SVG line of ``spark.values`` with its baseline dashed; ``label`` is its accessible name."""
    values = spark.values or [0.0]
    top = max([*values, spark.baseline or 0.0]) or 1.0
    step = WIDTH / max(len(values) - 1, 1)
    points = " ".join(f"{round(i * step, 1)},{_y(v, top)}" for i, v in enumerate(values))
    shown = (lambda v: f"{v * 100:.0f}%") if percent else (lambda v: f"{v:,.0f}")
    summary = f"{label}: now {shown(values[-1])}, peak {shown(max(values))}"
    baseline = ""
    if spark.baseline is not None:
        summary += f", baseline {shown(spark.baseline)}"
        y = _y(spark.baseline, top)
        baseline = format_html(
            '<line class="spark-baseline" x1="0" y1="{}" x2="{}" y2="{}"></line>', y, WIDTH, y
        )
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">'
        "<title>{}</title>{}"
        '<polyline class="spark-line" fill="none" points="{}"></polyline></svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        summary,
        summary,
        baseline,
        points,
    )
