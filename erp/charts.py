"""Small server-side SVG charts: bars, funnel bars and stacked bars, no dependency.

Every chart is one inline ``<svg>`` (returned as :class:`~markupsafe.Markup`):

- accessible: ``role="img"`` with a ``<title>`` and a ``<desc>`` (the figures in words)
  wired through ``aria-labelledby``; each bar has its own ``<title>`` (a tooltip);
- readable in light print and without colour: every bar has a dark outline, each series
  of a stacked chart its own fill pattern (solid, hatched, dotted...), and the values
  are written on or next to the bars;
- safe: every label goes through :func:`markupsafe.escape`;
- deterministic: the same input gives the same bytes (tests compare them), ids derive
  from the ``chart_id`` the caller gives, so several charts can share a page.

The numbers are always also in an HTML table below the chart: the report templates do
that; a chart is an illustration, never the only place a figure is.

Bars get ``class="bar"`` (one per category, zero-width for a zero value) and stacked
segments ``class="segment"`` (one per non-zero value), so tests can count them.
Negative values are drawn as zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Number

from markupsafe import Markup, escape

__all__ = ["Series", "bar_chart", "stacked_bar_chart"]

WIDTH = 640
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK = "#212529"  # outlines and text: dark, prints on any printer
CHAR_WIDTH = 7.0  # an estimate of one character at 12px, for layout only
MAX_LABEL_CHARS = 32
ROW = 28  # a horizontal bar's row
BAR = 18  # a horizontal bar's thickness
PLOT_HEIGHT = 220  # a vertical chart's bar area

# Fill styles by series: (background tint, pattern drawing or None for solid). The tints
# differ in lightness too, so even a grey-scale copy tells them apart.
_STYLES = (
    ("#4a78b5", None),
    ("#f2b84b", "hatch"),
    ("#d9534f", "cross"),
    ("#8fc99a", "dots"),
    ("#b9a3d6", "vertical"),
    ("#cccccc", "horizontal"),
)
_PATTERN_SHAPES = {
    "hatch": '<path d="M-1,1 l2,-2 M0,8 l8,-8 M7,9 l2,-2" stroke="{ink}" stroke-width="1.2"/>',
    "cross": '<path d="M0,0 L8,8 M8,0 L0,8" stroke="{ink}" stroke-width="1"/>',
    "dots": '<circle cx="4" cy="4" r="1.6" fill="{ink}"/>',
    "vertical": '<path d="M4,0 L4,8" stroke="{ink}" stroke-width="1.2"/>',
    "horizontal": '<path d="M0,4 L8,4" stroke="{ink}" stroke-width="1.2"/>',
}


@dataclass(frozen=True)
class Series:
    """One layer of a stacked chart: its legend label and one value per category."""

    label: str
    values: Sequence[Number]


def _num(value: float) -> str:
    """A coordinate, short and stable: 12, 12.5 (never 12.000000001)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _plain(value) -> str:
    if isinstance(value, float | Decimal) and value == int(value):
        return str(int(value))
    return str(value)


def _amount(value) -> float:
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        return 0.0
    return number if number > 0 else 0.0


def _short(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= limit else label[: max(1, limit - 1)].rstrip() + "…"


def _safe_id(chart_id: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", str(chart_id)) or "chart"
    return cleaned if cleaned[0].isalpha() else "c-" + cleaned


def _fill(chart_id: str, index: int) -> str:
    tint, pattern = _STYLES[index % len(_STYLES)]
    return f"url(#{chart_id}-p{index % len(_STYLES)})" if pattern else tint


def _defs(chart_id: str, count: int) -> str:
    parts = []
    for index in range(min(count, len(_STYLES))):
        tint, pattern = _STYLES[index]
        if pattern is None:
            continue
        shape = _PATTERN_SHAPES[pattern].format(ink=INK)
        parts.append(
            f'<pattern id="{chart_id}-p{index}" width="8" height="8" '
            f'patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="{tint}"/>'
            f"{shape}</pattern>")
    return f"<defs>{''.join(parts)}</defs>" if parts else ""


def _open(chart_id: str, height: float, title: str, desc: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="erp-chart-svg" id="{chart_id}" '
        f'role="img" viewBox="0 0 {WIDTH} {_num(height)}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{FONT}" font-size="12" fill="{INK}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>')


def _describe(labels: Sequence[str], values: Sequence, fmt: Callable) -> str:
    return "; ".join(f"{label}: {fmt(value)}" for label, value in zip(labels, values,
                                                                          strict=True))


def _label_width(labels: Sequence[str]) -> float:
    longest = max((len(_short(label)) for label in labels), default=0)
    return min(230.0, max(60.0, longest * CHAR_WIDTH + 12))


def bar_chart(chart_id: str, title: str, labels: Sequence[str], values: Sequence[Number], *,
              desc: str | None = None, value_format: Callable = _plain,
              horizontal: bool = True, funnel: bool = False) -> Markup:
    """One bar per label. ``funnel=True`` centres horizontal bars (a funnel's shape).

    ``desc`` defaults to the figures in words ("Label: value; ..."), which is what a
    screen reader reads instead of looking.
    """
    if len(labels) != len(values):
        raise ValueError("one value per label")
    chart_id = _safe_id(chart_id)
    labels = [str(label) for label in labels]
    desc = desc if desc is not None else _describe(labels, values, value_format)
    top = max((_amount(v) for v in values), default=0.0) or 1.0
    if horizontal or funnel:
        return _horizontal_bars(chart_id, title, desc, labels, values, top, value_format,
                                funnel)
    return _vertical_bars(chart_id, title, desc, labels, values, top, value_format)


def _horizontal_bars(chart_id, title, desc, labels, values, top, fmt, funnel) -> Markup:
    label_w = _label_width(labels)
    value_w = 90.0
    plot_w = WIDTH - label_w - value_w - 8
    height = 12 + ROW * len(labels) + 8
    out = [_open(chart_id, height, title, desc), '<g class="bars">']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 12 + i * ROW
        width = plot_w * _amount(value) / top
        x = label_w + (plot_w - width) / 2 if funnel else label_w
        text = escape(fmt(value))
        out.append(
            f'<g class="bar-group">'
            f'<text class="category" x="{_num(label_w - 8)}" y="{_num(y + BAR / 2 + 4)}" '
            f'text-anchor="end">{escape(_short(label))}</text>'
            f'<rect class="bar" x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" '
            f'height="{BAR}" fill="{_STYLES[0][0]}" stroke="{INK}" stroke-width="1">'
            f"<title>{escape(label)}: {text}</title></rect>"
            f'<text class="value" x="{_num((x + width if funnel else label_w + width) + 6)}" '
            f'y="{_num(y + BAR / 2 + 4)}">{text}</text></g>')
    out.append("</g></svg>")
    return Markup("".join(out))  # noqa: S704 (every label went through escape())


def _vertical_bars(chart_id, title, desc, labels, values, top, fmt) -> Markup:
    left, bottom_labels = 8.0, 34.0
    plot_w = WIDTH - 2 * left
    column = plot_w / max(1, len(labels))
    bar_w = min(90.0, column * 0.6)
    base = 24 + PLOT_HEIGHT  # the baseline: room above the tallest bar for its value
    height = base + bottom_labels
    chars = max(4, int(column / CHAR_WIDTH))
    out = [_open(chart_id, height, title, desc), '<g class="bars">',
           f'<line x1="{_num(left)}" y1="{_num(base)}" x2="{_num(WIDTH - left)}" '
           f'y2="{_num(base)}" stroke="{INK}" stroke-width="1"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        centre = left + column * i + column / 2
        bar_h = PLOT_HEIGHT * _amount(value) / top
        text = escape(fmt(value))
        out.append(
            f'<g class="bar-group">'
            f'<rect class="bar" x="{_num(centre - bar_w / 2)}" y="{_num(base - bar_h)}" '
            f'width="{_num(bar_w)}" height="{_num(bar_h)}" fill="{_STYLES[0][0]}" '
            f'stroke="{INK}" stroke-width="1"><title>{escape(label)}: {text}</title></rect>'
            f'<text class="value" x="{_num(centre)}" y="{_num(base - bar_h - 6)}" '
            f'text-anchor="middle">{text}</text>'
            f'<text class="category" x="{_num(centre)}" y="{_num(base + 18)}" '
            f'text-anchor="middle">{escape(_short(label, chars))}</text></g>')
    out.append("</g></svg>")
    return Markup("".join(out))  # noqa: S704 (every label went through escape())


def stacked_bar_chart(chart_id: str, title: str, labels: Sequence[str],
                      series: Sequence[Series], *, desc: str | None = None,
                      value_format: Callable = _plain) -> Markup:
    """Horizontal bars, one per label, each split into the series' values (in order).

    A segment's value is written inside it when it fits; each bar's total follows it.
    The legend (patterns + labels) is above the bars.
    """
    chart_id = _safe_id(chart_id)
    labels = [str(label) for label in labels]
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(f"series {one.label!r}: one value per label")
    totals = [sum(_amount(one.values[i]) for one in series) for i in range(len(labels))]
    if desc is None:
        desc = "; ".join(
            f"{label}: " + ", ".join(f"{one.label} {value_format(one.values[i])}"
                                     for one in series)
            for i, label in enumerate(labels))
    top = max(totals, default=0.0) or 1.0
    label_w = _label_width(labels)
    value_w = 60.0
    plot_w = WIDTH - label_w - value_w - 8
    legend_h = 26.0
    height = legend_h + 8 + ROW * len(labels) + 8
    out = [_open(chart_id, height, title, desc), _defs(chart_id, len(series))]

    out.append('<g class="legend">')
    x = label_w
    for index, one in enumerate(series):
        name = escape(_short(one.label, 24))
        out.append(
            f'<rect class="swatch" x="{_num(x)}" y="6" width="14" height="14" '
            f'fill="{_fill(chart_id, index)}" stroke="{INK}" stroke-width="1"/>'
            f'<text x="{_num(x + 19)}" y="17">{name}</text>')
        x += 19 + len(_short(one.label, 24)) * CHAR_WIDTH + 18
    out.append("</g>")

    out.append('<g class="bars">')
    for i, label in enumerate(labels):
        y = legend_h + 8 + i * ROW
        out.append(
            f'<g class="bar-group"><text class="category" x="{_num(label_w - 8)}" '
            f'y="{_num(y + BAR / 2 + 4)}" text-anchor="end">{escape(_short(label))}</text>')
        x = label_w
        for index, one in enumerate(series):
            amount = _amount(one.values[i])
            if not amount:
                continue
            width = plot_w * amount / top
            text = escape(value_format(one.values[i]))
            out.append(
                f'<rect class="segment" x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" '
                f'height="{BAR}" fill="{_fill(chart_id, index)}" stroke="{INK}" '
                f'stroke-width="1"><title>{escape(label)} · {escape(one.label)}: {text}'
                f"</title></rect>")
            if width >= len(str(text)) * CHAR_WIDTH + 14:
                # On a white plate, so the pattern never hides the figure.
                plate_w = len(str(text)) * CHAR_WIDTH + 4
                cx = x + width / 2
                out.append(
                    f'<rect class="plate" x="{_num(cx - plate_w / 2)}" y="{_num(y + 3)}" '
                    f'width="{_num(plate_w)}" height="{BAR - 6}" fill="#ffffff" rx="2"/>'
                    f'<text class="segment-value" x="{_num(cx)}" y="{_num(y + BAR / 2 + 4)}" '
                    f'text-anchor="middle" font-size="11">{text}</text>')
            x += width
        total = totals[i]
        out.append(f'<text class="value" x="{_num(x + 6)}" y="{_num(y + BAR / 2 + 4)}" '
                   f'font-weight="600">{escape(value_format(_total_value(series, i, total)))}'
                   f"</text></g>")
    out.append("</g></svg>")
    return Markup("".join(out))  # noqa: S704 (every label went through escape())


def _total_value(series: Sequence[Series], index: int, total: float):
    """The bar's total in the values' own type (ints stay ints, Decimals stay Decimals)."""
    values = [one.values[index] for one in series]
    if all(isinstance(v, int) for v in values):
        return sum(v for v in values if v > 0)
    if all(isinstance(v, int | Decimal) for v in values):
        return sum((Decimal(v) for v in values if v > 0), Decimal(0))
    return total
