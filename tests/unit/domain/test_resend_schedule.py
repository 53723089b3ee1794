"""Tests for domain.resend_schedule: parsing the compact form, and the tries it gives over 30 days."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from domain.resend_schedule import (
    DEFAULT_ADDRESS,
    DEFAULT_MAX_AGE,
    DEFAULT_TECHNICAL,
    Schedule,
    ScheduleError,
    ScheduleProblem,
    parse_duration,
    parse_schedule,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _tries_until_given_up(schedule: Schedule, latency: timedelta) -> list[datetime]:
    """Attempt times of an event whose every try fails, with a clock the test moves.

    Each try is made ``latency`` after it falls due (a busy engine), and the next one is asked
    for from that actual time. Bounded: a schedule that never gives up fails the test.
    """
    clock = T0
    tries = [clock]
    for retries_done in range(1, 10_000):
        due = schedule.next_attempt(T0, retries_done, last_attempt_at=clock)
        if due is None:
            return tries
        clock = due + latency
        tries.append(clock)
    raise AssertionError("the schedule never gave up")


def test_default_technical_schedule_from_first_try_to_day_30() -> None:
    """1, 5, 30 min, 1, 2, 6, 12 h, then daily until 30 days after the event, then given up."""
    tries = _tries_until_given_up(parse_schedule(DEFAULT_TECHNICAL), latency=timedelta(0))
    gaps = [later - earlier for earlier, later in itertools.pairwise(tries)]
    minutes = timedelta(minutes=1)
    assert gaps[:7] == [1 * minutes, 5 * minutes, 30 * minutes, 60 * minutes, 120 * minutes,
                        360 * minutes, 720 * minutes]  # fmt: skip
    assert set(gaps[7:]) == {timedelta(days=1)}
    first_daily = tries[7]
    assert first_daily - T0 == timedelta(hours=21, minutes=36)
    # The last try is the last daily one not later than day 30; the one after would be.
    assert tries[-1] <= T0 + DEFAULT_MAX_AGE < tries[-1] + timedelta(days=1)
    assert len(tries) == 8 + 29


def test_next_try_counts_from_the_actual_attempt_time() -> None:
    """A try made late (backlog, slow journal system) pushes the following ones: no bunching."""
    schedule = parse_schedule(DEFAULT_TECHNICAL)
    late = T0 + timedelta(minutes=47)
    assert schedule.next_attempt(T0, 2, last_attempt_at=late) == late + timedelta(minutes=5)
    tries = _tries_until_given_up(schedule, latency=timedelta(seconds=30))
    assert all(b - a >= timedelta(minutes=1, seconds=30) for a, b in itertools.pairwise(tries))
    assert tries[2] - tries[1] == timedelta(minutes=5, seconds=30)
    assert tries[-1] <= T0 + DEFAULT_MAX_AGE


def test_default_address_schedule_is_slower() -> None:
    """Missing routes wait an hour, six hours, then a day: they are fixed by hand."""
    tries = _tries_until_given_up(parse_schedule(DEFAULT_ADDRESS), latency=timedelta(0))
    assert tries[1] - tries[0] == timedelta(hours=1)
    assert tries[2] - tries[1] == timedelta(hours=6)
    assert tries[3] - tries[2] == timedelta(days=1)
    assert tries[-1] <= T0 + DEFAULT_MAX_AGE


def test_schedule_without_repeat_gives_up_when_steps_are_spent() -> None:
    """Without ``*`` there is one try per step and then none, whatever the age."""
    schedule = parse_schedule("10s,1m")
    assert schedule == Schedule((timedelta(seconds=10), timedelta(minutes=1)), False, DEFAULT_MAX_AGE)
    assert schedule.next_attempt(T0, 1, T0) == T0 + timedelta(seconds=10)
    assert schedule.next_attempt(T0, 2, T0) == T0 + timedelta(minutes=1)
    assert schedule.next_attempt(T0, 3, T0) is None


def test_max_age_is_counted_from_the_event_not_the_last_try() -> None:
    """An event's own time bounds it: a try due exactly at max age is made, a second later is not."""
    schedule = parse_schedule("1h*", max_age=timedelta(hours=2))
    assert schedule.next_attempt(T0, 2, T0 + timedelta(hours=1)) == T0 + timedelta(hours=2)
    assert schedule.next_attempt(T0, 3, T0 + timedelta(hours=1, seconds=1)) is None


def test_retries_done_starts_at_one() -> None:
    """next_attempt is asked after a failed try; zero failed tries is a caller's mistake."""
    with pytest.raises(ValueError, match="starts at 1"):
        parse_schedule(DEFAULT_TECHNICAL).next_attempt(T0, 0, T0)


def test_spaces_and_unit_case_are_tolerated() -> None:
    """Operators write ``1M, 2H , 1D*``; that is the same as ``1m,2h,1d*``."""
    assert parse_schedule(" 1M, 2H , 1D* ") == parse_schedule("1m,2h,1d*")


@pytest.mark.parametrize(
    ("text", "problem", "item", "position"),
    [
        ("", ScheduleProblem.EMPTY, None, None),
        ("   ", ScheduleProblem.EMPTY, None, None),
        ("1m,,5m", ScheduleProblem.NOT_A_DELAY, "", 2),
        ("1m,five minutes", ScheduleProblem.NOT_A_DELAY, "five minutes", 2),
        ("1m,-5m", ScheduleProblem.NOT_A_DELAY, "-5m", 2),
        ("1.5h", ScheduleProblem.NOT_A_DELAY, "1.5h", 1),
        ("1m,5", ScheduleProblem.UNKNOWN_UNIT, "5", 2),
        ("1m,2w", ScheduleProblem.UNKNOWN_UNIT, "2w", 2),
        ("30:m", ScheduleProblem.NOT_A_DELAY, "30:m", 1),
        ("0s,1m", ScheduleProblem.ZERO, "0s", 1),
        ("1m*,5m", ScheduleProblem.REPEAT_NOT_LAST, "1m*", 1),
    ],
)
def test_parse_errors_name_the_item(
    text: str, problem: ScheduleProblem, item: str | None, position: int | None
) -> None:
    """Every mistake is refused with the problem, the item and its position as fields."""
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(text)
    assert (raised.value.problem, raised.value.item, raised.value.position) == (problem, item, position)
    assert raised.value.text == text


def test_max_age_must_be_positive() -> None:
    """A zero max age would give up every event before its first retry."""
    with pytest.raises(ScheduleError) as raised:
        parse_schedule("1m", max_age=timedelta(0))
    assert raised.value.problem is ScheduleProblem.MAX_AGE_NOT_POSITIVE


def test_duration_uses_the_item_syntax() -> None:
    """A max age in configuration is written like one schedule item."""
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration(" 90S ") == timedelta(seconds=90)
    for text in ("1d*", "1d,2d", "x"):
        with pytest.raises(ScheduleError):
            parse_duration(text)
