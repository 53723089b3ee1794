"""What happens to an outbox event after one delivery attempt: delivered, failed, or when to retry.

The decision of one attempt (``domain.delivery.decide``) says *whether* to retry and on which
schedule; this module turns it into the event's next state. An event keeps one "series" of tries: the
schedule it follows (technical or address), how many tries of that schedule failed, and when the
series began (the event's own time; a manual resend starts a new series). Switching schedule (a
journal system that was down now answers "no route") restarts the count on the new schedule but not
the clock: the maximum age still runs from the start of the series, so an event is never retried for
longer than the maximum age, however its errors change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.delivery import Attempt, Decision
from domain.resend_schedule import Schedule


class ScheduleKind(StrEnum):
    """Which schedule an event's current series of tries follows."""

    TECHNICAL = "technical"  # the journal system or the network is down: minutes, then hours, then daily
    ADDRESS = "address"  # no route or access right: fixed by hand in the catalogue, so hours and days


class Verdict(StrEnum):
    """Where the event stands after the attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"  # refused for good
    GAVE_UP = "gave-up"  # every try of the schedule within the maximum age failed
    CANCELLED = "cancelled"  # never to be made (an onward delivery of a revoked or test certificate)


@dataclass(frozen=True, slots=True)
class Series:
    """The event's current series of tries, as stored with it."""

    kind: ScheduleKind
    failed_tries: int
    started_at: datetime


@dataclass(frozen=True, slots=True)
class Schedules:
    """The two configured schedules."""

    technical: Schedule
    address: Schedule

    def of(self, kind: ScheduleKind) -> Schedule:
        return self.technical if kind is ScheduleKind.TECHNICAL else self.address


@dataclass(frozen=True, slots=True)
class NextState:
    """The event's state after an attempt; ``next_attempt_at`` is set exactly when it retries."""

    verdict: Verdict
    series: Series
    next_attempt_at: datetime | None


def after_attempt(attempt: Attempt, series: Series, schedules: Schedules) -> NextState:
    """The event's next state after ``attempt``, given the series it was part of.

    Raises ``ValueError`` for an attempt still in flight (``Decision.PENDING``): it has no outcome yet.
    """
    if attempt.decision is Decision.PENDING:
        raise ValueError("an attempt in flight has no next state yet")
    if attempt.decision is Decision.DELIVERED:
        return NextState(Verdict.DELIVERED, series, None)
    if attempt.decision is Decision.FAILED:
        return NextState(Verdict.FAILED, series, None)
    if attempt.decision is Decision.CANCELLED:
        return NextState(Verdict.CANCELLED, series, None)
    kind = ScheduleKind.ADDRESS if attempt.decision is Decision.RETRY_ADDRESS else ScheduleKind.TECHNICAL
    failed = series.failed_tries + 1 if kind is series.kind else 1
    now = Series(kind, failed, series.started_at)
    due = schedules.of(kind).next_attempt(series.started_at, failed, attempt.at)
    if due is None:
        return NextState(Verdict.GAVE_UP, now, None)
    return NextState(Verdict.RETRY, now, due)
