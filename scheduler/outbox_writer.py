"""The dispatcher's outcomes, committed in groups by one thread, each event's fate its own.

Each call's outcome must be recorded right after the call. One transaction per outcome would cost a
worker more than the call itself at a few thousand events a second, so one writer thread commits
whatever outcomes and releases are waiting, together, as soon as the previous commit is done: a
group commit. A group of fewer than ``GROUP_OUTCOMES`` outcomes waits up to ``GATHER_S`` from its
first write for more to join it: a commit costs about as much for ten outcomes as for five, and
without the wait a draining worker committed every three milliseconds with five or six outcomes
each. An outcome is therefore recorded within one short wait and one commit of its own call, never
after the other calls of a batch, and no sender thread waits for it.

The writer also renews the leases of every event the process holds (claimed, not yet recorded or
given back) every quarter of the lease, so a claim lives as long as its worker does, and no longer.

Failures stay with their event: when the database is down the group is tried again (an outcome for
up to a lease; then the event is claimed again, its attempt ``unknown``); when one write in a group
is refused for any other reason, each is tried alone, and only the refused one is dropped (its
event comes back when its lease runs out, and gives up after ``resend_max_claims`` such claims).

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
from store.outbox import AttemptOutcome, release, renew_leases
from store.session import Tx

log = structlog.get_logger("scheduler.outbox_writer")

#: How long a group waits, from its first write, for more outcomes to join it; and how many it waits
#: for. ``bench/resend.py`` (40,000 events, runs alternated, pg_stat_statements on the throw-away
#: cluster): without the wait, 5-6 outcomes per commit and 990-1,034 µs of worker CPU per event; with
#: 10 ms, about 12 per commit and 797-907 µs, the drain 1,176-1,205 → 1,314-1,498 events/s beside the
#: same baseline. 20 ms did no better. An event's next one waits for its outcome, so the wait is short.
GATHER_S = 0.01
GROUP_OUTCOMES = 100

#: Pause before trying a group again after the database did not answer.
RETRY_PAUSE_S = 0.5


@dataclass
class _Write:
    """Outcomes or releases waiting for the writer."""

    outcomes: Sequence[AttemptOutcome] = ()
    releases: Sequence[ClaimedEvent] = ()
    queued: float = field(default_factory=time.monotonic)
    recorded: list[int] = field(default_factory=list)
    failed: bool = False


#: How outcomes are recorded: the attempts and next states, and what they change beyond the outbox
#: (``usecases.onward.record``: a send accepted or failed, a message delivered), in one transaction.
Record = Callable[[Tx, Sequence[AttemptOutcome], datetime], list[int]]


def _apply(tx: Tx, writes: Sequence[_Write], record: Record, now: datetime) -> None:
    """Every write of a group in a handful of statements: all releases, then all outcomes together."""
    releases = [claim for write in writes for claim in write.releases]
    if releases:
        release(tx, releases)
    outcomes = [outcome for write in writes for outcome in write.outcomes]
    if outcomes:
        recorded = set(record(tx, outcomes, now))
        for write in writes:
            write.recorded = [o.claimed.id for o in write.outcomes if o.claimed.id in recorded]


class OutboxWriter:
    """Commits the dispatcher's marks, outcomes and releases in groups; inline until ``start``."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Callable[[], datetime],
        lease: timedelta,
        on_recorded: Callable[[Sequence[AttemptOutcome], set[int]], None],
        record: Record,
    ) -> None:
        self._uow = uow
        self._record = record
        self._clock = clock
        self._lease = lease
        self._on_recorded = on_recorded
        self._queue: list[_Write] = []
        self._held: dict[int, ClaimedEvent] = {}
        self._leases: dict[int, datetime] = {}  # held event -> when its lease runs out, as last written
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- what the dispatcher holds -------------------------------------------------------------------
    def hold(self, claims: Sequence[ClaimedEvent], lease_until: datetime) -> None:
        """Keep the leases of ``claims`` (claimed until ``lease_until``) alive until they are settled."""
        with self._changed:
            for claim in claims:
                self._held[claim.id] = claim
                self._leases[claim.id] = lease_until

    def forget(self, event_ids: Sequence[int]) -> None:
        """Stop renewing these leases (the events are settled, or this process lost them)."""
        with self._changed:
            for event_id in event_ids:
                self._held.pop(event_id, None)
                self._leases.pop(event_id, None)

    def lease_left(self, event_id: int, now: datetime) -> timedelta:
        """How long the event's lease still runs, as this process last wrote it (zero when not held)."""
        with self._changed:
            until = self._leases.get(event_id)
        return max(until - now, timedelta(0)) if until is not None else timedelta(0)

    def _leased(self, event_ids: Sequence[int], until: datetime) -> None:
        with self._changed:
            for event_id in event_ids:
                if event_id in self._leases:
                    self._leases[event_id] = until

    def held(self) -> int:
        with self._changed:
            return len(self._held)

    # -- writes --------------------------------------------------------------------------------------
    def record(self, outcomes: Sequence[AttemptOutcome]) -> None:
        """Record these attempts and the events' next states (in the background once started)."""
        if outcomes:
            self._submit(_Write(outcomes=outcomes))

    def release(self, claims: Sequence[ClaimedEvent]) -> None:
        """Give these events back unsent, their ``sending`` marks taken back (in the background once started)."""
        if claims:
            self._submit(_Write(releases=claims))

    def _submit(self, write: _Write) -> _Write:
        if self._thread is None:  # one cycle at a time: commit now, failures go to the caller
            with self._uow() as tx:
                _apply(tx, [write], self._record, self._clock())
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
                self._gather()
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

    def _gather(self) -> None:
        """Let a small group wait for more outcomes (``GATHER_S``, ``GROUP_OUTCOMES``); the caller holds
        ``_changed``, which ``_submit`` notifies. Stopping commits at once."""
        if not self._queue:
            return
        deadline = self._queue[0].queued + GATHER_S
        while not self._stopping and sum(len(write.outcomes) for write in self._queue) < GROUP_OUTCOMES:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._changed.wait(left)

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
            _apply(tx, writes, self._record, self._clock())

    def _still_worth_trying(self, writes: list[_Write]) -> list[_Write]:
        """Drop writes older than a lease: their claims are gone, the events will be claimed again."""
        now = time.monotonic()
        kept = []
        for write in writes:
            too_old = now - write.queued > self._lease.total_seconds()
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

    def renew_now(self, claim: ClaimedEvent) -> None:
        """Renew one held event's lease at once, in the caller's thread (its call needs more time than
        its lease has left); a failure leaves the lease as it was."""
        try:
            with self._uow() as tx:
                until = self._clock() + self._lease
                renewed = renew_leases(tx, [claim], until)
            self._leased(renewed, until)
        except Exception:  # the caller cuts the call to the time left, or leaves it to the next claim
            log.warning("outbox_lease_renewal_failed", events=1, exc_info=True)

    def _renew(self) -> None:
        with self._changed:
            claims = list(self._held.values())
        if not claims:
            return
        try:
            with self._uow() as tx:
                until = self._clock() + self._lease
                renewed = renew_leases(tx, claims, until)
            self._leased(renewed, until)
        except Exception:  # a missed renewal shortens no call: every call ends before its lease would
            log.warning("outbox_lease_renewal_failed", events=len(claims), exc_info=True)


def _event_ids(write: _Write) -> list[int]:
    return [o.claimed.id for o in write.outcomes] + [c.id for c in write.releases]
