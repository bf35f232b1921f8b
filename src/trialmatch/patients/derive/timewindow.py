"""Durations as rules write them (``28d``, ``4w``, ``6mo``, ``5y``) and the windows they open before as-of.

Months and years are calendar arithmetic with the day clamped at month end (31 March minus one month is
28 or 29 February), so "within 6 months" means the same calendar span a coordinator would count. Windows
are inclusive: ``within 28d`` of 2024-03-29 admits 2024-03-01 onwards.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from trialmatch.errors import RuleError
from trialmatch.rules.ast import Duration

_DURATION = re.compile(r"^\s*(\d+)\s*(d|w|mo|y)\s*$")


def parse_duration(text: str) -> Duration:
    """``"28d"`` → Duration(28, "d"); raises RuleError naming the text when it is not a duration."""
    match = _DURATION.match(text)
    if match is None:
        raise RuleError(f"not a duration: {text!r} (expected a number followed by d, w, mo or y, e.g. 28d)")
    return Duration(amount=int(match.group(1)), unit=match.group(2))


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months, the day clamped to the target month's length."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def shift(day: dt.date, duration: Duration, sign: int = 1) -> dt.date:
    """``day`` plus (``sign`` = 1) or minus (``sign`` = -1) ``duration``."""
    if duration.unit == "d":
        return day + dt.timedelta(days=sign * duration.amount)
    if duration.unit == "w":
        return day + dt.timedelta(weeks=sign * duration.amount)
    months = duration.amount * (12 if duration.unit == "y" else 1)
    return add_months(day, sign * months)


def window_start(as_of: dt.date, duration: Duration | str) -> dt.date:
    """First date inside the window ``duration`` before ``as_of`` (inclusive)."""
    span = parse_duration(duration) if isinstance(duration, str) else duration
    return shift(as_of, span, -1)


def expires_on(observed: dt.date, duration: Duration) -> dt.date:
    """First as-of date whose ``duration`` window no longer contains a fact dated ``observed``."""
    day = shift(observed, duration) + dt.timedelta(days=1)
    # Month-end clamping can make the plain sum land a day or two off; step to the exact boundary.
    while window_start(day - dt.timedelta(days=1), duration) > observed:
        day -= dt.timedelta(days=1)
    while window_start(day, duration) <= observed:
        day += dt.timedelta(days=1)
    return day


def describe(duration: Duration) -> str:
    """Plain words for a duration: ``28 days``, ``6 months``."""
    word = {"d": "day", "w": "week", "mo": "month", "y": "year"}[duration.unit]
    return f"{duration.amount} {word}{'' if duration.amount == 1 else 's'}"
