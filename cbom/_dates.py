"""Dates as the report reads and prints them: firmware release dates, ages, scan times.

The report is a pure function of the CBOM: ages are counted to the scan date, never to today.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Optional

__all__ = ["parse_date", "age_years", "fmt_time"]

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d", "%d.%m.%Y", "%Y/%m/%d", "%m/%d/%y")


def parse_date(text: str) -> Optional[date]:
    """A calendar date from the forms firmware reports (dmidecode `MM/DD/YYYY`, ISO, `YYYYMMDD`, WMI)."""
    text = text.strip()
    if not text:
        return None
    # WMI CIM_DATETIME "20190415000000.000000+000" and ISO timestamps: keep the date part.
    m = re.match(r"^(\d{8})\d{6}\.", text) or re.match(r"^(\d{4}-\d{2}-\d{2})[T ]", text)
    if m:
        text = m.group(1)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def age_years(released: date, at: date) -> float:
    """Age in years (one decimal) on the scan date: the report never looks at today's clock."""
    return round((at - released).days / 365.25, 1)


def fmt_time(when: Optional[datetime]) -> str:
    """`when` as printed in the report: UTC, to the second ("" when unknown)."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if when else ""
