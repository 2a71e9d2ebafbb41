"""Pure parts of the report's view-model: dates, text layout, cleaning, the chart."""
from __future__ import annotations

from datetime import date

import pytest

from cbom._report_view import age_years, clean, parse_date, protocol_chart, text_lines


@pytest.mark.parametrize("text, expected", [
    ("04/01/2014", date(2014, 4, 1)),          # dmidecode / sysfs bios_date (SeaBIOS on this VM's kind)
    ("2019-11-05", date(2019, 11, 5)),
    ("20190415000000.000000+000", date(2019, 4, 15)),  # WMI Win32_BIOS.ReleaseDate
    ("2023-06-01T00:00:00Z", date(2023, 6, 1)),
    ("20210930", date(2021, 9, 30)),
    ("", None), ("unknown", None), ("13/45/2020", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_age_is_measured_on_the_scan_date():
    assert age_years(date(2014, 4, 1), date(2025, 3, 14)) == 11.0
    assert age_years(date(2024, 3, 14), date(2025, 3, 14)) == 1.0


def test_clean_makes_controls_visible():
    assert clean("a\x07b\u202ec\x9b") == "a<U+0007>b<U+202E>c<U+009B>"
    assert clean("tab\tnewline\n") == "tab\tnewline\n"
    assert clean(None) == "" and clean(3) == "3"
    assert clean("שלום 😀") == "שלום 😀"


def test_text_lines_keep_names_whole_and_columns_aligned():
    rows = [["bash", "5.2.15-2+b8", "amd64"], ["n" * 130, "1.0", "all"], ["libx", "v" * 50, "amd64"]]
    spec, out = text_lines(rows, [38, 30, 7], ["Name", "Version", "Arch"], width=60)
    head = spec.format("Name", "Version", "Arch")
    assert head.index("Version") == out[0][0].index("5.2.15")
    assert out[0] == [out[0][0]] and out[0][0].split() == ["bash", "5.2.15-2+b8", "amd64"]
    # A name longer than the whole line wraps; a shorter over-long name gets its own line.
    assert "".join(out[1][:3]) == "n" * 130 and out[1][3].split() == ["1.0", "all"]
    assert all(len(line) <= 60 for lines in out for line in lines)
    assert "".join(line[head.index("Version"):head.index("Arch")].strip() for line in out[2]) == "v" * 50


def test_chart_scales_to_the_largest_and_groups_the_rest():
    chart = protocol_chart([(f"p{i}", 100 - i) for i in range(20)], top=3, width=200)
    assert [b["label"] for b in chart["bars"]] == ["p0", "p1", "p2", "(17 others)"]
    assert chart["bars"][0]["width"] == 200 and chart["height"] == 64
    assert protocol_chart([])["bars"] == []
