"""The outcome writer's groups, as plain Python: a stand-in unit of work and record function, real threads."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from scheduler.outbox_writer import GATHER_S, OutboxWriter
from store.outbox import AttemptOutcome


class Recorder:
    """The writer's ``record``: keeps each group it is given; ``on_recorded`` counts what came back."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.settled: list[tuple[int, float]] = []
        self.lock = threading.Lock()

    def record(self, _tx: Any, outcomes: Sequence[AttemptOutcome], _now: datetime) -> list[int]:
        ids = [outcome.claimed.id for outcome in outcomes]
        with self.lock:
            self.groups.append(ids)
        return ids

    def on_recorded(self, outcomes: Sequence[AttemptOutcome], recorded: set[int]) -> None:
        with self.lock:
            self.settled.extend((outcome.claimed.id, time.monotonic()) for outcome in outcomes
                                if outcome.claimed.id in recorded)


def _outcome(event_id: int) -> AttemptOutcome:
    return cast(AttemptOutcome, SimpleNamespace(claimed=SimpleNamespace(id=event_id)))


def _writer(recorder: Recorder) -> OutboxWriter:
    return OutboxWriter(lambda: contextlib.nullcontext(None), lambda: datetime.now(UTC),  # type: ignore[arg-type]
                        timedelta(seconds=60), recorder.on_recorded, recorder.record)


def _wait_for(recorder: Recorder, count: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(recorder.settled) < count:
        time.sleep(0.001)


def test_outcomes_arriving_one_by_one_are_committed_in_groups() -> None:
    """Three sender threads, an outcome each every millisecond: without the wait for more, each
    outcome found the writer idle and was a commit of its own."""
    recorder = Recorder()
    writer = _writer(recorder)
    writer.start()

    def send(first: int) -> None:
        for event_id in range(first, first + 20):
            writer.record([_outcome(event_id)])
            time.sleep(0.001)

    senders = [threading.Thread(target=send, args=(first,)) for first in (0, 100, 200)]
    try:
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        _wait_for(recorder, 60)
    finally:
        writer.stop()
    assert sorted(event_id for event_id, _ in recorder.settled) == [*range(20), *range(100, 120), *range(200, 220)]
    assert len(recorder.groups) <= 15, [len(group) for group in recorder.groups]


def test_a_lone_outcome_waits_no_longer_than_the_gathering_time() -> None:
    recorder = Recorder()
    writer = _writer(recorder)
    writer.start()
    try:
        sent = time.monotonic()
        writer.record([_outcome(1)])
        _wait_for(recorder, 1)
    finally:
        writer.stop()
    [(event_id, at)] = recorder.settled
    assert event_id == 1 and GATHER_S * 0.5 <= at - sent < GATHER_S + 1.0


def test_stopping_commits_what_waits_at_once() -> None:
    recorder = Recorder()
    writer = _writer(recorder)
    writer.start()
    writer.record([_outcome(1)])
    started = time.monotonic()
    writer.stop()
    assert [event_id for event_id, _ in recorder.settled] == [1]
    assert time.monotonic() - started < 1.0
