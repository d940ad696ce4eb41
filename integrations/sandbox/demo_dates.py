"""Dates in demo data: absolute, or counted from the day the sandbox starts.

Grammar (spaces around the sign are allowed, case does not matter)::

    demo-date := YYYY-MM-DD          an absolute calendar date, e.g. 2026-03-05
               | today               the day the sandbox was started
               | today+N | today-N   N whole days after / before that day

Relative dates keep the bundled demo alive: an order "promised: today-3" is three days late whenever you
run it, while an absolute date slowly turns every case into "very late".
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

_RELATIVE = re.compile(r"today\s*(?:(?P<sign>[+-])\s*(?P<days>\d{1,5}))?", re.IGNORECASE)
_ABSOLUTE = re.compile(r"\d{4}-\d{2}-\d{2}")

HINT = "use YYYY-MM-DD or today±N"


def parse_demo_date(value: object, *, today: date) -> date:
    """The calendar date ``value`` stands for; ValueError naming the accepted forms otherwise."""
    # datetime is a date subclass: a timestamp would silently drop its time and zone, so refuse it.
    if isinstance(value, datetime):
        raise ValueError(f"{value.isoformat()!r} is a timestamp, not a date ({HINT})")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        relative = _RELATIVE.fullmatch(text)
        if relative is not None:
            days = int(relative["days"] or 0)
            return today - timedelta(days=days) if relative["sign"] == "-" else today + timedelta(days=days)
        if _ABSOLUTE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{value!r} is not a date on the calendar ({HINT})") from None
    raise ValueError(f"{value!r} is not a date ({HINT})")
