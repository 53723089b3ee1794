"""The dispatcher's writes to the outbox, committed in groups by one thread, each event's fate its own.

Each event needs two writes around its call: the ``sending`` mark before it (committed before the
call is made) and the outcome after it. One transaction per write would cost a worker more than the
call itself at a few thousand events a second, so one writer thread commits whatever marks,
outcomes and releases are waiting, together, as soon as the previous commit is done: a group commit.
An outcome is therefore recorded within one commit of its own call, never after the other calls of a
batch; a sender that asks for a mark waits for that commit only.

The writer also renews the leases of every event the process holds (claimed, not yet recorded or
given back) every quarter of the lease, so a claim lives as long as its worker does, and no longer.

Failures stay with their event: when the database is down the group is tried again (a mark gives up
after ``mark_wait`` and its call is not made; an outcome after a lease, and the event is claimed
again); when one write in a group is refused for any other reason, each is tried alone, and only the
refused one is dropped (its event comes back when its lease runs out, and gives up after
``resend_max_claims`` such claims).

Before ``start`` (the dispatcher's tests run one cycle at a time) every write is committed at once in
the caller's thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from domain.events import ClaimedEvent
from store import UnitOfWork
from store.errors import DatabaseUnavailable
from store.outbox import AttemptOutcome, SendingMark, mark_sending, record_outcomes, release, renew_leases
from store.session import Tx

log = structlog.get_logger("scheduler.outbox_writer")

#: Pause before trying a group again after the database did not answer.
RETRY_PAUSE_S = 0.5


@dataclass
class _Write:
    """One write waiting for the writer: marks, outcomes or releases; ``done`` is set once settled."""

    marks: Sequence[SendingMark] = ()
    outcomes: Sequence[AttemptOutcome] = ()
    releases: Sequence[ClaimedEvent] = ()
    queued: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    attempt_ids: dict[int, int] = field(default_factory=dict)
    recorded: list[int] = field(default_factory=list)
    failed: bool = False

    def apply(self, tx: Tx, lease_until: datetime) -> None:
        if self.releases:
            release(tx, self.releases)
        if self.outcomes:
            self.recorded = record_outcomes(tx, self.outcomes)
        if self.marks:
            self.attempt_ids = mark_sending(tx, self.marks, lease_until)


class OutboxWriter:
    """Commits the dispatcher's marks, outcomes and releases in groups; inline until ``start``."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Callable[[], datetime],
        lease: timedelta,
        on_recorded: Callable[[Sequence[AttemptOutcome], set[int]], None],
        mark_wait: float = 10.0,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._lease = lease
        self._on_recorded = on_recorded
        self._mark_wait = mark_wait
        self._queue: list[_Write] = []
        self._held: dict[int, ClaimedEvent] = {}
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- what the dispatcher holds -------------------------------------------------------------------
    def hold(self, claims: Sequence[ClaimedEvent]) -> None:
        """Keep the leases of ``claims`` alive until they are recorded, released or forgotten."""
        with self._changed:
            for claim in claims:
                self._held[claim.id] = claim

    def forget(self, event_ids: Sequence[int]) -> None:
        """Stop renewing these leases (the events are settled, or this process lost them)."""
        with self._changed:
            for event_id in event_ids:
                self._held.pop(event_id, None)

    def held(self) -> int:
        with self._changed:
            return len(self._held)

    # -- writes --------------------------------------------------------------------------------------
    def mark(self, marks: Sequence[SendingMark]) -> dict[int, int]:
        """Commit ``sending`` attempts for these calls; event id -> attempt id for those still held.

        Blocks until committed. An event missing from the answer must not be called: its claim is
        gone, or the database did not answer within ``mark_wait``.
        """
        write = self._submit(_Write(marks=marks))
        if not write.done.wait(self._mark_wait) or write.failed:
            write.failed = True  # a late commit is ignored: the call was not made
            self.forget([mark.claimed.id for mark in marks])
            return {}
        lost = [mark.claimed.id for mark in marks if mark.claimed.id not in write.attempt_ids]
        self.forget(lost)
        return write.attempt_ids

    def record(self, outcomes: Sequence[AttemptOutcome]) -> None:
        """Record these attempts and the events' next states (in the background once started)."""
        if outcomes:
            self._submit(_Write(outcomes=outcomes))

    def release(self, claims: Sequence[ClaimedEvent]) -> None:
        """Give these events back unsent (in the background once started)."""
        if claims:
            self._submit(_Write(releases=claims))

    def _submit(self, write: _Write) -> _Write:
        if self._thread is None:  # one cycle at a time: commit now, failures go to the caller
            self._transaction([write])
            self._settled(write)
            return write
        with self._changed:
            self._queue.append(write)
            self._changed.notify()
        return write

    # -- the thread ----------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="outbox-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is waiting, then stop."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        renew_every = self._lease.total_seconds() / 4
        next_renewal = time.monotonic() + renew_every
        while True:
            with self._changed:
                while not self._queue and not self._stopping:
                    left = next_renewal - time.monotonic()
                    if left <= 0:
                        break
                    self._changed.wait(left)
                writes, self._queue = self._queue, []
                stopping = self._stopping
            if writes:
                self._commit(writes)
            if time.monotonic() >= next_renewal:
                self._renew()
                next_renewal = time.monotonic() + renew_every
            if stopping and not writes:
                with self._changed:
                    if not self._queue:
                        return

    def _commit(self, writes: list[_Write]) -> None:
        """Commit ``writes`` together; on a refusal, each alone; on an outage, again until it passes."""
        pending = [write for write in writes if not write.failed]
        while pending:
            try:
                self._transaction(pending)
                break
            except DatabaseUnavailable as down:
                pending = self._still_worth_trying(pending)
                log.warning("outbox_writer_database_unavailable", error=str(down), waiting=len(pending))
                if pending:
                    time.sleep(RETRY_PAUSE_S)
            except Exception:  # one write the database refuses must not keep the others from committing
                if len(pending) == 1:
                    log.exception("outbox_write_refused", events=_event_ids(pending[0]))
                    pending[0].failed = True
                    break
                for write in pending:
                    self._commit([write])
                return
        for write in writes:
            self._settled(write)

    def _transaction(self, writes: list[_Write]) -> None:
        with self._uow() as tx:
            lease_until = self._clock() + self._lease
            for write in writes:
                write.apply(tx, lease_until)

    def _still_worth_trying(self, writes: list[_Write]) -> list[_Write]:
        """Drop marks whose sender stopped waiting and outcomes older than a lease (their claim is gone)."""
        now = time.monotonic()
        kept = []
        for write in writes:
            too_old = now - write.queued > (self._mark_wait if write.marks else self._lease.total_seconds())
            if write.failed or too_old:
                write.failed = True
                if write.outcomes:
                    log.warning("status_update_outcome_not_recorded", events=_event_ids(write))
            else:
                kept.append(write)
        return kept

    def _settled(self, write: _Write) -> None:
        if write.outcomes and not write.failed:
            recorded = set(write.recorded)
            self.forget([o.claimed.id for o in write.outcomes])
            self._on_recorded(write.outcomes, recorded)
        if write.releases:
            self.forget([claim.id for claim in write.releases])
        write.done.set()

    def _renew(self) -> None:
        with self._changed:
            claims = list(self._held.values())
        if not claims:
            return
        try:
            with self._uow() as tx:
                renew_leases(tx, claims, self._clock() + self._lease)
        except Exception:  # a missed renewal shortens no call: every call ends before its lease would
            log.warning("outbox_lease_renewal_failed", events=len(claims), exc_info=True)


def _event_ids(write: _Write) -> list[int]:
    return [m.claimed.id for m in write.marks] + [o.claimed.id for o in write.outcomes] + \
        [c.id for c in write.releases]
