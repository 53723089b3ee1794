"""Group commit: concurrent requests of one process share transactions.

Each request of a write-heavy contract (StoreLog, SendMessageToCare) costs a transaction: a BEGIN,
its statements and a COMMIT, each a round trip, plus the database driver's per-statement overhead
in Python. Under load several requests of one process wait for the database at the same time.
``GroupCommit`` stores whatever is waiting together, so the round trips and the per-statement
overhead are paid once per group instead of once per request.

There is no committer thread. The request that finds nobody committing becomes the leader: it
stores itself together with everything queued behind it (up to ``max_size``), hands the lead to
the first request that queued meanwhile, and returns. So a lone request runs at once on its own
thread, exactly as without grouping, and under load each group costs one thread wake-up fewer than
handing every job to a separate committer.

What "store together" means, and what happens when a group cannot be stored whole, belongs to the
use case: it passes ``commit``, which receives the jobs in arrival order and returns one outcome
per job, in the same order. An exception from ``commit`` reaches every job of that group. A caller
that waits longer than ``wait_seconds`` gets the ``on_timeout`` outcome; the use cases make that a
"try again" answer, which is safe because their resends are idempotent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger("usecases.group_commit")

J = TypeVar("J")
R = TypeVar("R")


@dataclass(slots=True)
class _Waiting(Generic[J, R]):
    job: J
    wake: threading.Event = field(default_factory=threading.Event)  # done, or made the leader
    lead: bool = False
    done: bool = False
    outcome: R | None = None
    error: BaseException | None = None


class GroupCommit(Generic[J, R]):
    """Stores concurrent jobs of one process in groups, led by the callers themselves (module doc).

    ``size`` weighs a job (StoreLog counts its records) and a group stops growing once it reaches
    ``max_size``; a single job heavier than that still forms a group of its own.
    """

    def __init__(
        self,
        commit: Callable[[Sequence[J]], Sequence[R]],
        *,
        on_timeout: R,
        name: str,
        max_size: int,
        size: Callable[[J], int] = lambda _job: 1,
        wait_seconds: float = 30.0,
    ) -> None:
        self._commit = commit
        self._on_timeout = on_timeout
        self._name = name
        self._max_size = max_size
        self._size = size
        self._wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._pending: list[_Waiting[J, R]] = []  # queued, oldest first; the leader is first
        self._leading = False  # invariant: False only while nothing is pending

    def submit(self, job: J) -> R:
        """Store ``job`` with whatever else is waiting; block until its group is committed."""
        me: _Waiting[J, R] = _Waiting(job)
        with self._lock:
            self._pending.append(me)
            if not self._leading:
                self._leading = me.lead = True
        if not me.lead and not me.wake.wait(self._wait_seconds):
            with self._lock:
                if not me.lead and not me.done:
                    if me in self._pending:
                        self._pending.remove(me)
                    log.warning("group_commit_slow", committer=self._name, wait_seconds=self._wait_seconds)
                    return self._on_timeout
        if me.lead:
            self._lead()
        if me.error is not None:
            raise me.error
        return me.outcome  # type: ignore[return-value]  # set together with done

    def _lead(self) -> None:
        """Store the group at the head of the queue (the leader's own job first), then pass the lead on."""
        with self._lock:
            group = [self._pending.pop(0)]
            weight = self._size(group[0].job)
            while self._pending and weight < self._max_size:
                group.append(self._pending.pop(0))
                weight += self._size(group[-1].job)
        try:
            self._store(group)
        finally:
            with self._lock:
                if self._pending:
                    self._pending[0].lead = True
                    self._pending[0].wake.set()
                else:
                    self._leading = False

    def _store(self, group: list[_Waiting[J, R]]) -> None:
        try:
            outcomes = list(self._commit([waiting.job for waiting in group]))
            if len(outcomes) != len(group):
                raise RuntimeError(f"{self._name}: {len(outcomes)} outcomes for {len(group)} jobs")
        except Exception as error:  # noqa: BLE001 - each waiting request answers it
            for waiting in group:
                waiting.error = error
                waiting.done = True
                waiting.wake.set()
            return
        for waiting, outcome in zip(group, outcomes, strict=True):
            waiting.outcome = outcome
            waiting.done = True
            waiting.wake.set()
