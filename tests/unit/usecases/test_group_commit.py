"""Group commit on its own: grouping, outcomes in order, the lead handed on, errors and time-outs."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import partial

import pytest

from tests.concurrency import at_once
from usecases.group_commit import GroupCommit


def test_waiting_jobs_share_a_group_and_each_gets_its_own_outcome() -> None:
    """While one group is stored, the next callers queue up and go in together, up to max_size."""
    groups: list[list[int]] = []
    release = threading.Event()

    def commit(jobs: Sequence[int]) -> list[str]:
        groups.append(list(jobs))
        if len(groups) == 1:
            release.wait(10)  # hold the first group until the others are queued
        return [f"stored {job}" for job in jobs]

    group: GroupCommit[int, str] = GroupCommit(commit, on_timeout="late", name="t", max_size=3)
    first = threading.Thread(target=group.submit, args=(0,))
    first.start()
    while not groups:
        threading.Event().wait(0.01)
    results: dict[int, str] = {}
    waiting = threading.Thread(
        target=lambda: results.update(at_once({job: partial(group.submit, job) for job in (1, 2, 3, 4, 5)}))
    )
    waiting.start()
    for _ in range(1000):  # bounded: until all five are queued behind the held group
        if len(group._pending) == 5:
            break
        threading.Event().wait(0.01)
    release.set()
    waiting.join(30)
    first.join(30)
    assert results == {job: f"stored {job}" for job in (1, 2, 3, 4, 5)}
    assert groups[0] == [0]
    assert sorted(job for g in groups[1:] for job in g) == [1, 2, 3, 4, 5]
    assert max(len(g) for g in groups) == 3
    assert len(groups) == 3  # five waiting jobs in groups of at most three


def test_an_error_reaches_the_caller_and_the_next_caller_leads_again() -> None:
    calls: list[int] = []

    def commit(jobs: Sequence[int]) -> list[str]:
        calls.append(len(jobs))
        if len(calls) == 1:
            raise RuntimeError("driver failed")
        return ["ok" for _ in jobs]

    group: GroupCommit[int, str] = GroupCommit(commit, on_timeout="late", name="t", max_size=10)
    with pytest.raises(RuntimeError, match="driver failed"):
        group.submit(1)
    assert group.submit(2) == "ok"


def test_a_wrong_number_of_outcomes_is_an_error_not_a_mix_up() -> None:
    group: GroupCommit[int, str] = GroupCommit(
        lambda jobs: ["one"] * (len(jobs) + 1), on_timeout="late", name="t", max_size=10
    )
    with pytest.raises(RuntimeError, match="2 outcomes for 1 jobs"):
        group.submit(1)


def test_a_caller_that_waits_too_long_gets_the_timeout_outcome_and_is_not_stored_later() -> None:
    """The leader is stuck in its commit; a caller queued behind it gives up, and its job is dropped."""
    release = threading.Event()
    stored: list[int] = []

    def commit(jobs: Sequence[int]) -> list[str]:
        if jobs[0] == 1:
            release.wait(10)
        stored.extend(jobs)
        return ["ok" for _ in jobs]

    group: GroupCommit[int, str] = GroupCommit(commit, on_timeout="try again", name="t", max_size=10, wait_seconds=0.2)
    leader = threading.Thread(target=group.submit, args=(1,))
    leader.start()
    try:
        while group._pending:  # the leader has taken its own job off the queue once it commits
            threading.Event().wait(0.01)
        assert group.submit(2) == "try again"
    finally:
        release.set()
        leader.join(10)
    assert stored == [1]
    assert group.submit(3) == "ok"  # the lead was handed back: the next caller leads at once
    assert stored == [1, 3]


def test_a_lone_caller_commits_on_its_own_thread() -> None:
    """No hand-off when nobody else is waiting: the caller's thread runs the commit itself."""
    threads: list[str] = []

    def commit(jobs: Sequence[int]) -> list[str]:
        threads.append(threading.current_thread().name)
        return ["ok" for _ in jobs]

    group: GroupCommit[int, str] = GroupCommit(commit, on_timeout="late", name="t", max_size=10)
    assert group.submit(1) == "ok"
    assert threads == [threading.current_thread().name]
