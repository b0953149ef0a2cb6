"""The SVG charts: well-formed, escaped, no inline style, and saying what they show."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from handrail.progress.adherence import PainPoint, WeekAdherence
from handrail.progress.charts import adherence_svg, pain_svg

SVG = "{http://www.w3.org/2000/svg}"
START = date(2026, 11, 2)


def week(number: int, done: int, prescribed: int) -> WeekAdherence:
    start = START + timedelta(days=7 * (number - 1))
    return WeekAdherence(number, start, start + timedelta(days=6), done, prescribed)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert "style" not in svg  # the CSP forbids inline styles
    assert "<script" not in svg
    return root


class AdherenceChartTests:
    def test_it_draws_one_bar_pair_per_week_with_its_figures(self) -> None:
        root = parse(adherence_svg([week(1, 3, 5), week(2, 5, 5), week(3, 0, 4)]))
        groups = root.findall(f"{SVG}g[@class='week']")
        assert [
            (g.get("data-week"), g.get("data-done"), g.get("data-prescribed")) for g in groups
        ] == [
            ("1", "3", "5"),
            ("2", "5", "5"),
            ("3", "0", "4"),
        ]
        done_heights = [float(g.find(f"{SVG}rect[@class='done']").get("height")) for g in groups]  # type: ignore[union-attr]
        assert done_heights[1] > done_heights[0] > done_heights[2] == 0
        description = root.find(f"{SVG}desc").text  # type: ignore[union-attr]
        assert "Week 1 (2026-11-02 to 2026-11-08): 3 of 5 sessions (60%)" in (description or "")

    def test_it_labels_weeks_sparsely_when_there_are_many(self) -> None:
        root = parse(adherence_svg([week(n, 1, 2) for n in range(1, 41)]))
        labels = [t.text for t in root.findall(f"{SVG}text") if (t.text or "").startswith("W")]
        assert labels[0] == "W1"
        assert 10 <= len(labels) < 40

    def test_it_says_so_when_there_is_nothing_to_show(self) -> None:
        root = parse(adherence_svg([]))
        assert "No weeks to show yet." in ET.tostring(root, encoding="unicode")

    def test_it_escapes_the_title(self) -> None:
        svg = adherence_svg([week(1, 1, 1)], title='Hip <b>"ADLs"</b> & more', chart_id='a"b')
        root = parse(svg)
        assert root.find(f"{SVG}title").text == 'Hip <b>"ADLs"</b> & more'  # type: ignore[union-attr]
        assert root.get("id") == 'a"b'


class PainChartTests:
    def test_it_draws_before_and_after_lines_on_a_0_to_10_scale(self) -> None:
        points = [
            PainPoint(START, 2, 3),
            PainPoint(START + timedelta(days=3), 4, None),
            PainPoint(START + timedelta(days=10), 6, 8),
        ]
        root = parse(pain_svg(points))
        before = root.find(f"{SVG}polyline[@class='pain-before']")
        after = root.find(f"{SVG}polyline[@class='pain-after']")
        assert before is not None and after is not None
        assert len(before.get("points", "").split()) == 3
        assert len(after.get("points", "").split()) == 2
        # Higher pain is drawn higher (smaller y); 10 days span the plot's width.
        ys = [float(p.split(",")[1]) for p in before.get("points", "").split()]
        assert ys[0] > ys[1] > ys[2]
        xs = [float(p.split(",")[0]) for p in after.get("points", "").split()]
        assert xs[0] < xs[1]
        description = root.find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
        assert "2026-11-05: pain before 4" in description
        assert "2026-11-12: pain before 6, after 8" in description

    def test_it_draws_a_single_day_in_the_middle(self) -> None:
        root = parse(pain_svg([PainPoint(START, 5, 5)]))
        circles = root.findall(f"{SVG}circle")
        assert len(circles) == 2
        assert {c.get("cx") for c in circles} == {"312.0"}

    def test_it_says_so_without_readings(self) -> None:
        assert "No pain readings yet." in pain_svg([])
