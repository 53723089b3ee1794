"""Resend schedules: how long to wait before the next try of an undelivered status update.

A schedule is written compactly, as operators write it in configuration: delays separated by
commas, each a whole number and a unit (``s``, ``m``, ``h``, ``d``), the last optionally marked
``*`` to repeat it until the maximum age. ``1m,5m,30m,1h,2h,6h,12h,1d*`` waits 1 minute after the
first failed try, 5 minutes after the second, ..., 12 hours after the seventh, then a day after
each one, until 30 days after the event. The incumbent parses a similar template in which an
unknown unit silently means days; here every mistake is a ``ScheduleError`` naming the item.

The delay is counted from the time the failed attempt was actually made, not from when it was
due, so a backlog or a slow journal system never makes tries bunch up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_TECHNICAL = "1m,5m,30m,1h,2h,6h,12h,1d*"
#: Routing and access-right problems are fixed by hand in the catalogue: hours or days.
DEFAULT_ADDRESS = "1h,6h,1d*"
DEFAULT_MAX_AGE = timedelta(days=30)

_UNITS = {"s": timedelta(seconds=1), "m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_ITEM = re.compile(r"(?P<number>\d+)(?P<unit>[a-zA-Z]*)(?P<repeat>\*?)")


class ScheduleProblem(StrEnum):
    """What is wrong with a schedule's text."""

    EMPTY = "empty"  # no delays at all
    NOT_A_DELAY = "not-a-delay"  # an item is not a number followed by a unit
    UNKNOWN_UNIT = "unknown-unit"  # the unit is not one of s, m, h, d (or is missing)
    ZERO = "zero"  # a delay of zero would resend in a tight loop
    REPEAT_NOT_LAST = "repeat-not-last"  # only the last delay may be marked "*"
    MAX_AGE_NOT_POSITIVE = "max-age-not-positive"


class ScheduleError(ValueError):
    """Raised when a schedule (or a duration) cannot be parsed; says which item and why."""

    def __init__(self, text: str, problem: ScheduleProblem, item: str | None = None, position: int | None = None):
        self.text = text
        self.problem = problem
        self.item = item
        self.position = position  # 1-based index of the item, None for the whole text
        where = f" at item {position} ({item!r})" if position is not None else ""
        super().__init__(f"resend schedule {text!r}{where}: {problem.value}")


@dataclass(frozen=True)
class Schedule:
    """Delays between tries, whether the last one repeats, and how old an event may get."""

    steps: tuple[timedelta, ...]
    repeat_last: bool
    max_age: timedelta = DEFAULT_MAX_AGE

    def delay_after(self, retries_done: int) -> timedelta | None:
        """The wait after the ``retries_done``-th failed attempt (1 = the first try failed).

        None when the schedule has no more steps (it does not repeat and all are used).
        """
        if retries_done < 1:
            raise ValueError(f"retries_done counts failed attempts and starts at 1, not {retries_done}")
        if retries_done <= len(self.steps):
            return self.steps[retries_done - 1]
        return self.steps[-1] if self.repeat_last else None

    def next_attempt(self, occurred_at: datetime, retries_done: int, last_attempt_at: datetime) -> datetime | None:
        """When to try again after ``retries_done`` failed attempts, the last made at ``last_attempt_at``.

        Returns None when the event should be given up: the steps are spent, or the next try would
        come later than ``occurred_at + max_age`` (the event's own time, kept through every resend).
        """
        delay = self.delay_after(retries_done)
        if delay is None:
            return None
        due = last_attempt_at + delay
        return due if due <= occurred_at + self.max_age else None


def parse_duration(text: str) -> timedelta:
    """Parse one positive delay such as ``30d`` or ``90s`` (the schedule's item syntax, no ``*``)."""
    schedule = parse_schedule(text)
    if schedule.repeat_last or len(schedule.steps) != 1:
        raise ScheduleError(text, ScheduleProblem.NOT_A_DELAY, text.strip(), 1)
    return schedule.steps[0]


def parse_schedule(text: str, max_age: timedelta = DEFAULT_MAX_AGE) -> Schedule:
    """Parse the compact form (``1m,5m,30m,1h,2h,6h,12h,1d*``); raise ``ScheduleError`` on any mistake.

    Spaces around items are allowed. Units are case-insensitive (``1D`` is a day); months and years
    are not units, so nobody has to guess their length.
    """
    if max_age <= timedelta(0):
        raise ScheduleError(text, ScheduleProblem.MAX_AGE_NOT_POSITIVE)
    items = [item.strip() for item in text.split(",")]
    if items == [""]:
        raise ScheduleError(text, ScheduleProblem.EMPTY)
    steps: list[timedelta] = []
    repeat_last = False
    for position, item in enumerate(items, start=1):
        match = _ITEM.fullmatch(item)
        if match is None:
            raise ScheduleError(text, ScheduleProblem.NOT_A_DELAY, item, position)
        unit = _UNITS.get(match["unit"].lower())
        if unit is None:
            raise ScheduleError(text, ScheduleProblem.UNKNOWN_UNIT, item, position)
        if int(match["number"]) == 0:
            raise ScheduleError(text, ScheduleProblem.ZERO, item, position)
        if match["repeat"] and position != len(items):
            raise ScheduleError(text, ScheduleProblem.REPEAT_NOT_LAST, item, position)
        repeat_last = bool(match["repeat"])
        steps.append(int(match["number"]) * unit)
    return Schedule(tuple(steps), repeat_last, max_age)
