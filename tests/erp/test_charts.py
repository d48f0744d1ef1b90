"""The host's SVG charts: valid SVG, accessible, the right bars, labels escaped, stable."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from erp.charts import Series, bar_chart, stacked_bar_chart

NS = "{http://www.w3.org/2000/svg}"


def parse(svg) -> ET.Element:
    root = ET.fromstring(str(svg))  # noqa: S314 (ours; raises unless well-formed)
    assert root.tag == f"{NS}svg"
    return root


def by_class(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}{tag}") if e.get("class") == css]


def texts(root: ET.Element, css: str) -> list[str]:
    return [e.text for e in by_class(root, "text", css)]


def assert_accessible(root: ET.Element, chart_id: str, title: str) -> None:
    assert root.get("role") == "img"
    assert root.get("id") == chart_id
    labelled_by = root.get("aria-labelledby").split()
    assert labelled_by == [f"{chart_id}-title", f"{chart_id}-desc"]
    title_el, desc_el = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title_el.get("id") == labelled_by[0] and title_el.text == title
    assert desc_el.get("id") == labelled_by[1] and desc_el.text


@pytest.mark.parametrize("horizontal", [True, False])
def test_bar_chart_has_one_bar_per_label_with_its_value(horizontal):
    labels = ["Prospecção", "Contato realizado", "Negociação"]
    svg = bar_chart("c1", "Funil", labels, [10, 4, 0], horizontal=horizontal)
    root = parse(svg)
    assert_accessible(root, "c1", "Funil")
    bars = by_class(root, "rect", "bar")
    assert len(bars) == 3
    assert texts(root, "category") == labels
    assert texts(root, "value") == ["10", "4", "0"]
    size = "width" if horizontal else "height"
    lengths = [float(bar.get(size)) for bar in bars]
    assert lengths[0] > lengths[1] > lengths[2] == 0
    assert lengths[1] == pytest.approx(lengths[0] * 4 / 10, abs=0.1)
    # Every bar has a dark outline (light print) and its own tooltip.
    assert all(bar.get("stroke") == "#212529" for bar in bars)
    assert [bar.find(f"{NS}title").text for bar in bars] == [
        "Prospecção: 10", "Contato realizado: 4", "Negociação: 0"]
    # The description says the figures in words (what a screen reader reads).
    assert root.find(f"{NS}desc").text == "Prospecção: 10; Contato realizado: 4; Negociação: 0"


def test_funnel_bars_are_centred():
    root = parse(bar_chart("f", "Funnel", ["a", "b"], [8, 2], funnel=True))
    first, second = (float(b.get("x")) + float(b.get("width")) / 2
                     for b in by_class(root, "rect", "bar"))
    assert first == pytest.approx(second, abs=0.11)


def test_labels_and_title_are_escaped():
    evil = '<script>"x"</script> & Cia'
    svg = bar_chart("e", 'Title <b>"bold"</b>', [evil], [3], desc="d & <i>")
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    root = parse(svg)
    assert root.find(f"{NS}title").text == 'Title <b>"bold"</b>'
    assert root.find(f"{NS}desc").text == "d & <i>"
    assert texts(root, "category") == ['<script>"x"</script> & Cia']
    stacked = stacked_bar_chart("s", "t", [evil], [Series("<em>", [1])])
    assert "<script>" not in stacked and "<em>" not in stacked
    parse(stacked)


def test_long_labels_are_shortened_but_kept_whole_in_the_tooltip():
    label = "Condição de pagamento não facilitada pelo cliente final"
    root = parse(bar_chart("l", "t", [label], [1]))
    shown = texts(root, "category")[0]
    assert shown.endswith("…") and len(shown) <= 32
    assert by_class(root, "rect", "bar")[0].find(f"{NS}title").text == f"{label}: 1"


def test_value_format_writes_the_labels():
    root = parse(bar_chart("m", "t", ["a"], [Decimal("1234.5")],
                           value_format=lambda v: f"R$ {v:.2f}"))
    assert texts(root, "value") == ["R$ 1234.50"]


def test_stacked_chart_segments_legend_and_totals():
    labels = ["Call", "E-mail", "Visit"]
    series = [Series("Done", [5, 0, 1]), Series("Planned", [2, 1, 0]),
              Series("Overdue", [1, 0, 0])]
    root = parse(stacked_bar_chart("act", "Actions", labels, series))
    assert_accessible(root, "act", "Actions")
    segments = by_class(root, "rect", "segment")
    assert len(segments) == 5  # one per non-zero value
    assert len(by_class(root, "rect", "swatch")) == 3
    legend = [e.text for e in root.find(f"{NS}g[@class='legend']").iter(f"{NS}text")]
    assert legend == ["Done", "Planned", "Overdue"]
    assert texts(root, "category") == labels
    assert texts(root, "value") == ["8", "1", "1"]  # each bar's total
    # Series are told apart by pattern, not colour alone: every segment is outlined and
    # the second and third series are filled with patterns defined in the chart.
    fills = [s.get("fill") for s in segments]
    assert fills[0].startswith("#") and fills[1] == "url(#act-p1)" and fills[2] == "url(#act-p2)"
    pattern_ids = {p.get("id") for p in root.iter(f"{NS}pattern")}
    assert {"act-p1", "act-p2"} <= pattern_ids
    # Segments of one bar are laid end to end, in the series' order.
    first_bar = segments[:3]
    for left, right in zip(first_bar, first_bar[1:], strict=False):
        assert float(right.get("x")) == pytest.approx(
            float(left.get("x")) + float(left.get("width")), abs=0.11)
    assert root.find(f"{NS}desc").text.startswith("Call: Done 5, Planned 2, Overdue 1; ")


def test_stacked_totals_keep_the_values_type():
    series = [Series("a", [Decimal("1.50")]), Series("b", [Decimal("2.25")])]
    root = parse(stacked_bar_chart("d", "t", ["x"], series, value_format=lambda v: f"{v}"))
    assert texts(root, "value") == ["3.75"]


def test_all_zero_and_empty_charts_are_still_valid():
    root = parse(bar_chart("z", "t", ["a", "b"], [0, 0]))
    assert [b.get("width") for b in by_class(root, "rect", "bar")] == ["0", "0"]
    assert by_class(parse(bar_chart("n", "t", [], [])), "rect", "bar") == []
    assert by_class(parse(stacked_bar_chart("s", "t", ["a"], [Series("x", [0])])),
                    "rect", "segment") == []


def test_output_is_deterministic_and_ids_are_the_callers():
    args = ("same", "t", ["a", "b"], [3, 1])
    assert bar_chart(*args) == bar_chart(*args)
    series = [Series("x", [1, 2]), Series("y", [3, 0])]
    assert stacked_bar_chart("s", "t", ["a", "b"], series) == stacked_bar_chart(
        "s", "t", ["a", "b"], series)
    other = parse(stacked_bar_chart("other chart!", "t", ["a", "b"], series))
    assert other.get("id") == "other-chart-"
    assert {p.get("id") for p in other.iter(f"{NS}pattern")} == {"other-chart--p1"}


def test_mismatched_values_are_refused():
    with pytest.raises(ValueError):
        bar_chart("x", "t", ["a", "b"], [1])
    with pytest.raises(ValueError):
        stacked_bar_chart("x", "t", ["a"], [Series("s", [1, 2])])
