"""An event's next state after each attempt: delivered, failed, or the next try on the right schedule."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from domain.delivery import Attempt, OutcomeClass, decide
from domain.resend_policy import (
    NextState,
    ScheduleKind,
    Schedules,
    Series,
    Verdict,
    after_attempt,
)
from domain.resend_schedule import DEFAULT_ADDRESS, DEFAULT_TECHNICAL, parse_schedule

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SCHEDULES = Schedules(parse_schedule(DEFAULT_TECHNICAL), parse_schedule(DEFAULT_ADDRESS))
START = Series(ScheduleKind.TECHNICAL, 0, T0)


def attempt(outcome: OutcomeClass, at: datetime) -> Attempt:
    return Attempt(at=at, outcome=outcome, decision=decide(outcome), url=None, http_status=None,
                   result_code=None, error_id=None, text=None, correlation_id="c", duration_ms=1.0)


def run_until_final(outcome: OutcomeClass, late: timedelta = timedelta(0)) -> tuple[list[datetime], NextState]:
    """Try at every due time (``late`` after it, as a busy engine would) until the event is final."""
    series, at, tries = START, T0, []
    for _ in range(100):
        tries.append(at)
        state = after_attempt(attempt(outcome, at), series, SCHEDULES)
        if state.next_attempt_at is None:
            return tries, state
        series, at = state.series, state.next_attempt_at + late
    raise AssertionError("never final")


@pytest.mark.parametrize("outcome", [OutcomeClass.OK, OutcomeClass.INFO])
def test_ok_and_info_are_delivered(outcome: OutcomeClass) -> None:
    assert after_attempt(attempt(outcome, T0), START, SCHEDULES).verdict is Verdict.DELIVERED


@pytest.mark.parametrize("outcome", [OutcomeClass.VALIDATION_ERROR, OutcomeClass.APPLICATION_ERROR,
                                     OutcomeClass.REVOKED])
def test_refusals_fail_at_once(outcome: OutcomeClass) -> None:
    state = after_attempt(attempt(outcome, T0), START, SCHEDULES)
    assert state == NextState(Verdict.FAILED, START, None)


def test_technical_errors_follow_the_schedule_from_the_first_try_to_day_30() -> None:
    """1m, 5m, 30m, 1h, 2h, 6h, 12h, then daily; the last try is on or before day 30, then gave up."""
    tries, final = run_until_final(OutcomeClass.CONNECT_ERROR)
    delays = [later - earlier for earlier, later in itertools.pairwise(tries)]
    minutes = [timedelta(minutes=m) for m in (1, 5, 30, 60, 120, 360, 720)]
    assert delays[:7] == minutes
    assert set(delays[7:]) == {timedelta(days=1)}
    assert tries[-1] <= T0 + timedelta(days=30) < tries[-1] + timedelta(days=1)
    assert final.verdict is Verdict.GAVE_UP and final.series.failed_tries == len(tries)


def test_the_next_try_counts_from_the_actual_attempt_time() -> None:
    """A busy engine that tries 10 minutes late shifts every later try, never bunches them."""
    tries, _ = run_until_final(OutcomeClass.TIMEOUT, late=timedelta(minutes=10))
    assert tries[1] - tries[0] == timedelta(minutes=11)  # 1 minute due + 10 late
    assert tries[2] - tries[1] == timedelta(minutes=15)  # 5 minutes after the late try + 10 late
    assert tries[-1] <= T0 + timedelta(days=30)


def test_routing_problems_use_the_address_schedule() -> None:
    tries, final = run_until_final(OutcomeClass.PLATFORM_NO_ROUTE)
    assert tries[1] - tries[0] == timedelta(hours=1) and tries[2] - tries[1] == timedelta(hours=6)
    assert final.series.kind is ScheduleKind.ADDRESS and final.verdict is Verdict.GAVE_UP


def test_switching_schedule_restarts_the_count_not_the_clock() -> None:
    """Three technical failures, then no route: the address schedule starts at its first step,
    and the maximum age still runs from the event."""
    series = Series(ScheduleKind.TECHNICAL, 3, T0)
    at = T0 + timedelta(days=29, hours=23, minutes=30)
    state = after_attempt(attempt(OutcomeClass.PLATFORM_NO_ACCESS, at), series, SCHEDULES)
    assert state.series == Series(ScheduleKind.ADDRESS, 1, T0)
    assert state.verdict is Verdict.GAVE_UP  # an hour later would be past day 30
    early = after_attempt(attempt(OutcomeClass.PLATFORM_NO_ACCESS, T0 + timedelta(hours=2)), series, SCHEDULES)
    assert early.next_attempt_at == T0 + timedelta(hours=3)
