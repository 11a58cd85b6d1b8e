"""How often a schedule fires in the model's month (30 days): ``rate(...)``, ``cron(...)`` and ``at(...)``.

A cron expression (EventBridge's six fields: minutes, hours, day of month, month, day of week, year) is
counted over the days of a 28-year Gregorian cycle (every weekday falls on every date equally often), as
matches per day times 30: a nightly ``cron(0 2 * * ? *)`` fires 30 times, ``cron(* * * * ? *)`` 43,200,
a monthly one on the 1st 0.99 (12 in 365.25 days). The year field is not counted: a schedule is taken to
run every year, and the description says so.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..checks._model import Resource

MONTH_DAYS = 30
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
#: The cycle's first and last days: 28 years, in which each date falls on each weekday equally often.
_CYCLE = (datetime.date(2001, 1, 1), datetime.date(2028, 12, 31))
#: Whether a day is one a schedule fires on.
_DayTest = Callable[[datetime.date], bool]


@dataclass(frozen=True)
class Ticks:
    """A schedule's firings in the model's month, and how the count was made (shown on its lines)."""

    count: float
    how: str


def schedule_ticks(rule: Resource) -> Ticks:
    """The firings a month of a rule's or a schedule's ``ScheduleExpression`` (none for a rule without
    one, or a disabled one)."""
    expression = rule.props.get("ScheduleExpression")
    if not isinstance(expression, str):
        return Ticks(0.0, "no schedule")
    if rule.props.get("State") == "DISABLED":
        return Ticks(0.0, f"{expression}, disabled")
    count = expression_ticks(expression)
    if count is None:
        return Ticks(0.0, f"{expression} is not understood: set events under [resources]")
    if expression.startswith("at("):
        return Ticks(0.0, f"{expression} fires once, not monthly")
    year = _cron_fields(expression)
    note = ", every year assumed" if year is not None and year[5] not in ("*", "?") else ""
    return Ticks(count, f"{expression}: {count_text(count)} a {MONTH_DAYS}-day month{note}")


def count_text(count: float) -> str:
    """``43,200``, ``21.43``, ``0.99``: whole above 100, else to two decimals."""
    return f"{count:,.0f}" if count >= 100 or count == int(count) else f"{count:,.2f}"


def expression_ticks(expression: str) -> float | None:
    """Firings a 30-day month of a schedule expression; None when it cannot be read."""
    expression = expression.strip()
    match = _RATE.match(expression)
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]
        return MONTH_DAYS * 86400 / seconds if seconds else None
    if expression.startswith("at(") and expression.endswith(")"):
        return 0.0
    fields = _cron_fields(expression)
    return None if fields is None else _cron_ticks(fields)


def _cron_fields(expression: str) -> tuple[str, ...] | None:
    if not (expression.startswith("cron(") and expression.endswith(")")):
        return None
    fields = tuple(expression[5:-1].split())
    return fields if len(fields) == 6 else None


@functools.lru_cache(maxsize=256)
def _cron_ticks(fields: tuple[str, ...]) -> float | None:
    minutes_text, hours_text, dom_text, month_text, dow_text, _year = fields
    minutes = _values(minutes_text, 0, 59)
    hours = _values(hours_text, 0, 23)
    months = _values(month_text, 1, 12, _MONTHS)
    days = _day_matcher(dom_text, dow_text)
    if minutes is None or hours is None or months is None or days is None:
        return None
    matching = sum(1 for day in _cycle_days() if day.month in months and days(day))
    return len(minutes) * len(hours) * matching / len(_cycle_days()) * MONTH_DAYS


@functools.lru_cache(maxsize=1)
def _cycle_days() -> tuple[datetime.date, ...]:
    first, last = _CYCLE
    return tuple(first + datetime.timedelta(days=n) for n in range((last - first).days + 1))


def _values(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    """A field's values: ``*``, ``?``, ``5``, ``1-5``, ``*/15``, ``10-50/10`` and lists of them."""
    found: set[int] = set()
    for part in text.upper().split(","):
        base, slash, step_text = part.partition("/")
        if base in ("*", "?"):
            bounds: tuple[int | None, int | None] = (low, high)
        elif "-" in base:
            first, _, last = base.partition("-")
            bounds = (_number(first, names), _number(last, names))
        else:
            start = _number(base, names)
            bounds = (start, high if slash else start)
        step = int(step_text) if step_text.isdigit() else (0 if slash else 1)
        start, end = bounds
        if start is None or end is None or step <= 0 or not low <= start <= end <= high:
            return None
        found.update(range(start, end + 1, step))
    return found


def _number(text: str, names: dict[str, int] | None) -> int | None:
    if text.isdigit():
        return int(text)
    return (names or {}).get(text)


def _day_matcher(dom_text: str, dow_text: str) -> _DayTest | None:
    """Which days a schedule's day-of-month and day-of-week fields select (one of them is ``?``)."""
    if dom_text == "?" or (dom_text == "*" and dow_text not in ("*", "?")):
        return _weekday_matcher(dow_text.upper())
    if dow_text not in ("?", "*"):
        return None  # AWS requires one of the two to be "?"
    return _month_day_matcher(dom_text.upper())


def _month_day_matcher(text: str) -> _DayTest | None:
    if text == "L":
        return lambda day: day.day == _last(day)
    if text == "LW":
        return lambda day: day == _nearest_weekday(day.replace(day=_last(day)))
    if text.endswith("W") and text[:-1].isdigit():
        wanted = int(text[:-1])
        return lambda day: wanted <= _last(day) and day == _nearest_weekday(day.replace(day=wanted))
    values = _values(text, 1, 31)
    return None if values is None else (lambda day: day.day in values)


def _weekday_matcher(text: str) -> _DayTest | None:
    if text == "L":
        return lambda day: _aws_weekday(day) == 7
    if text.endswith("L") and _number(text[:-1], _WEEKDAYS):
        weekday = _number(text[:-1], _WEEKDAYS)
        return lambda day: _aws_weekday(day) == weekday and day.day + 7 > _last(day)
    if "#" in text:
        name, _, nth = text.partition("#")
        weekday = _number(name, _WEEKDAYS)
        if weekday is None or not nth.isdigit() or not 1 <= int(nth) <= 5:
            return None
        return lambda day: _aws_weekday(day) == weekday and (day.day - 1) // 7 + 1 == int(nth)
    values = _values(text, 1, 7, _WEEKDAYS)
    return None if values is None else (lambda day: _aws_weekday(day) in values)


def _aws_weekday(day: datetime.date) -> int:
    """EventBridge's day of week: 1 is Sunday, 7 Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _last(day: datetime.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(day: datetime.date) -> datetime.date:
    """The weekday nearest ``day`` in its month (``W``): Saturday moves back, Sunday forward, never
    across the month's edge."""
    if day.weekday() == 5:
        return day - datetime.timedelta(days=1) if day.day > 1 else day + datetime.timedelta(days=2)
    if day.weekday() == 6:
        return day + datetime.timedelta(days=1) if day.day < _last(day) else day - datetime.timedelta(days=2)
    return day
