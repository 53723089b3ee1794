"""The outbox dispatcher: claims due events of every contract, has ``outbound`` deliver each, records each alone.

One ``Dispatcher`` per worker process. Its threads:

* **the claimer**, in one short transaction: claims due events with a lease (``store.outbox.claims``),
  reads what delivering them needs and has ``outbound.deliver`` prepare each one (a status update,
  or an onward call to a recipient or the archive: the contract is the event's, the engine is the
  same); records at once the attempt of an event that cannot be sent (unit not integrated, message
  unbuildable, an onward delivery cancelled, any failure of our own code for that event) or
  addressed by our routing catalogue (no call); and commits a ``sending`` attempt for each ready
  call. After the commit the marked calls join their receiver's lane (``scheduler.lanes``: one per
  endpoint, a journal system's or a recipient's). It claims again when the lanes run low (never more
  than ``batch_size`` waiting ahead of the senders), gives back the events whose lane is full, and
  skips those units and destinations in the next claims;
* **the sender threads** (``threads``) each take the next marked call of a journal with a free slot
  (at most ``journal_concurrency`` calls in flight per journal system), make it within a deadline
  that ends before the lease does, and hand the outcome to the writer;
* **the writer** (``scheduler.outbox_writer``) commits the outcomes in groups, as they come, with
  what they change beyond the outbox (``usecases.onward.record``: a send accepted is SENT and its
  SKICKA queued in the same commit), and keeps the leases of held events alive.

So every event's fate is its own: one event's failure, slowness or crash never repeats or delays
another's, and each outcome is committed right after its own call. After a crash only the calls
that were in flight (or marked and about to be made: at most ``batch_size`` per worker) are unknown,
and only those can reach a journal twice; each shows as an ``unknown`` attempt in the event's history.
An event claimed ``max_claims`` times without any outcome being recorded (its holders kept dying,
or its outcome could not be stored) is failed with the class ``claim-limit``.

``run_batch`` runs one cycle in the calling thread (claim, then send and record every claimed call,
one at a time), for tests and tools; ``start`` runs the threads.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from domain.delivery import Attempt, OutcomeClass, clip, decide
from domain.events import ClaimedEvent, EventContext
from domain.resend_policy import Schedules, Verdict, after_attempt
from outbound import Addressed, Delivery, DeliveryPaused, Ready, RoutingSnapshot, Timeouts, Unsendable
from scheduler.lanes import Lanes
from scheduler.outbox_writer import OutboxWriter
from store import UnitOfWork
from store.errors import StoreError
from store.outbox import (
    AttemptOutcome,
    SendingMark,
    claim_due,
    delivery_contexts,
    mark_sending,
    release,
)
from usecases import onward

log = structlog.get_logger("scheduler.dispatcher")

#: Claimer threads: two, so that one builds messages while the other waits for the database.
CLAIMERS = 2
#: Kept free at the end of a lease: a call's deadline ends this long before the lease would run out.
LEASE_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """How the dispatcher works; ``check`` refuses timeouts that could outlast the lease."""

    schedules: Schedules
    timeouts: Timeouts
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 50
    threads: int = 8
    poll_seconds: float = 1.0
    hold: timedelta = timedelta(0)
    journal_concurrency: int = 4
    max_claims: int = 5

    def check(self) -> None:
        """Raise ``ValueError`` for values that cannot work (a default call that would outlast its lease)."""
        needed = timedelta(seconds=self.timeouts.deadline_s) + LEASE_MARGIN
        if needed >= self.lease:
            raise ValueError(f"the call's deadline (connect + read timeout) + {LEASE_MARGIN.seconds}s margin "
                             f"({needed}) must stay below the claim lease ({self.lease})")
        if self.batch_size < 1 or self.threads < 1 or self.poll_seconds <= 0:
            raise ValueError("batch size, threads and poll interval must be positive")
        if self.journal_concurrency < 1 or self.max_claims < 1:
            raise ValueError("calls per journal system and claims per event must be at least 1")

    @property
    def call_seconds(self) -> float:
        """The longest a call may take from its ``sending`` mark: within the lease that mark renewed."""
        return (self.lease - LEASE_MARGIN).total_seconds()


class Dispatcher:
    """Sends due outbox events; see the module docstring for the threads and their steps."""

    def __init__(
        self,
        uow: UnitOfWork,
        delivery: Delivery,
        config: DispatchConfig,
        clock: Callable[[], datetime],
        name: str | None = None,
    ) -> None:
        config.check()
        self._uow = uow
        self._delivery = delivery
        self._config = config
        self._clock = clock
        self._name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._claims = itertools.count(1)
        per_lane = max(config.batch_size, config.journal_concurrency)
        # The calls waiting ahead of the senders, all journals together.
        room = max(config.batch_size, config.threads)
        self._lanes: Lanes[Ready] = Lanes(config.journal_concurrency, per_lane, room)
        self._writer = OutboxWriter(uow, clock, config.lease, self._recorded, onward.record)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- claiming ----------------------------------------------------------------------------------
    def claim(self, limit: int | None = None) -> int:
        """Claim due events and, in the same transaction, settle those that need no call and mark each
        ready call ``sending``; then queue the calls on their lanes. How many events were claimed."""
        config = self._config
        token = f"{self._name}:{next(self._claims)}"
        try:
            # Before the transaction: reloading the snapshot reads the database, which on SQLite would
            # wait for this very transaction's write lock.
            catalogue = self._delivery.catalogue()
        except DeliveryPaused:  # no routing table loaded yet: claim nothing, try later
            log.warning("outbox_catalogue_unavailable")
            return 0
        now = self._clock()
        hold_until = now - config.hold if config.hold > timedelta(0) else None
        with self._uow() as tx:
            claimed = claim_due(tx, token, now, config.lease, limit or config.batch_size, hold_until,
                                self._lanes.busy_units())
            if not claimed:
                return 0
            settled, ready, unsent = self._prepare(delivery_contexts(tx, claimed), catalogue, now)
            recorded = set(onward.record(tx, settled, now))
            release(tx, unsent)
            mark_sending(tx, [SendingMark(r.claimed, r.call.url, now) for r in ready])
        self._writer.hold([r.claimed for r in ready], now + config.lease)
        # The room was counted before the marks and only this thread adds, so a call is refused only
        # when the dispatcher is stopping: then it goes back unsent, its mark taken back.
        self._writer.release([r.claimed for r in ready if not self._lanes.put(r)])
        self._recorded(settled, recorded)
        return len(claimed)

    def _prepare(self, contexts: Sequence[EventContext], catalogue: RoutingSnapshot, now: datetime) -> tuple[
            list[AttemptOutcome], list[Ready], list[ClaimedEvent]]:
        """What comes of each claimed event: an attempt to record now (no call), a call, or nothing yet."""
        config = self._config
        settled = [self._outcome(c.claimed, _claim_limit(c.claimed, now, config.max_claims))
                   for c in contexts if c.claimed.claims > config.max_claims]
        contexts = [c for c in contexts if c.claimed.claims <= config.max_claims]
        prepared = self._delivery.prepare(contexts, catalogue)
        ready: list[Ready] = []
        unsent: list[ClaimedEvent] = []
        room: dict[str, int] = {}
        for item in prepared:
            if isinstance(item, Unsendable):
                if item.attempt.outcome is OutcomeClass.CANCELLED:
                    log.info("onward_delivery_cancelled", event_id=item.claimed.id,
                             contract=item.claimed.event.contract.value, reason=item.reason)
                else:
                    log.error("outbox_event_not_sendable", event_id=item.claimed.id,
                              contract=item.claimed.event.contract.value, outcome=item.attempt.outcome.value,
                              reason=item.reason)
                settled.append(self._outcome(item.claimed, item.attempt))
            elif isinstance(item, Addressed):
                settled.append(self._outcome(item.claimed, item.attempt))
            else:
                left = room.setdefault(item.journal, self._lanes.room(item.journal))
                if left > 0:
                    room[item.journal] = left - 1
                    ready.append(item)
                else:  # its journal's lane is full: back unsent, and its unit skipped by the next claims
                    unsent.append(item.claimed)
                    self._lanes.note(item.unit_key, item.journal)
        return settled, ready, unsent

    # -- sending -----------------------------------------------------------------------------------
    def send(self, ready: Ready) -> None:
        """Make the marked call within the event's lease and hand its outcome to the writer.

        The call's deadline ends ``LEASE_MARGIN`` before the event's lease does. The writer renews the
        leases of held events every quarter of a lease; an event whose lease has less time left than
        its call may take has it renewed here first (and the call cut to what is left if that fails).
        """
        started = self._clock()
        try:
            wanted = self._delivery.timeouts_for(ready.route, self._config.call_seconds).deadline_s
            left = (self._writer.lease_left(ready.claimed.id, started) - LEASE_MARGIN).total_seconds()
            if left < wanted:  # waited long (or renewals failed): renew before the call, not during it
                self._writer.renew_now(ready.claimed)
                left = (self._writer.lease_left(ready.claimed.id, self._clock()) - LEASE_MARGIN).total_seconds()
            if left <= 0:  # the renewals failed and the claim may be gone: not called, the lease brings it back
                log.warning("status_update_lease_too_short", event_id=ready.claimed.id)
                self._writer.forget([ready.claimed.id])
                return
            attempt = self._delivery.send(ready, self._delivery.timeouts_for(ready.route, left))
        except Exception as broken:  # our own code failed for this event: its outcome, not the thread's end
            log.error("status_update_send_crashed", event_id=ready.claimed.id, error=type(broken).__name__,
                      exc_info=True)
            attempt = _no_call(ready.claimed, OutcomeClass.UNBUILDABLE, started,
                               f"sending failed in the gateway: {type(broken).__name__}", url=ready.call.url)
        self._writer.record([self._outcome(ready.claimed, attempt, marked=True)])

    def run_batch(self) -> int:
        """One cycle in this thread: claim, then send every claimed call one by one; how many were claimed."""
        claimed = self.claim()
        while (item := self._lanes.take(0)) is not None:
            try:
                self.send(item)
            finally:
                self._lanes.done(item)
        return claimed

    # -- recording ---------------------------------------------------------------------------------
    def _outcome(self, claimed: ClaimedEvent, attempt: Attempt, marked: bool = False) -> AttemptOutcome:
        return AttemptOutcome(claimed, attempt, after_attempt(attempt, claimed.series, self._config.schedules),
                              marked)

    def _recorded(self, outcomes: Sequence[AttemptOutcome], recorded: set[int]) -> None:
        """Log what the writer committed: lost claims, and events that failed for good."""
        for outcome in outcomes:
            event_id = outcome.claimed.id
            if event_id not in recorded:
                log.warning("status_update_lease_lost", event_id=event_id, outcome=outcome.attempt.outcome.value)
                continue
            verdict = outcome.state.verdict
            attempt = outcome.attempt
            event = outcome.claimed.event
            if attempt.outcome is OutcomeClass.REPEAT:
                log.info("onward_repeat", event_id=event_id, contract=event.contract.value, text=attempt.text,
                         correlation_id=attempt.correlation_id)
            if verdict in (Verdict.FAILED, Verdict.GAVE_UP):
                log.error("onward_failed" if event.is_onward else "status_update_failed", event_id=event_id,
                          contract=event.contract.value, verdict=verdict.value,
                          outcome=attempt.outcome.value, http_status=attempt.http_status,
                          result_code=attempt.result_code, error_id=attempt.error_id, text=attempt.text,
                          url=attempt.url, schedule=outcome.state.series.kind.value,
                          tries=outcome.state.series.failed_tries, correlation_id=attempt.correlation_id)

    # -- threads -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer, the claimer and the sender threads (daemons: a stopping process waits for no call)."""
        self._writer.start()
        targets = [(f"outbox-claimer-{n}", self._claim_loop) for n in range(CLAIMERS)] + [
            (f"outbox-sender-{n}", self._send_loop) for n in range(self._config.threads)]
        for name, target in targets:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, give back the calls not begun, let the calls in flight end and be recorded."""
        self._stop.set()
        unsent = self._lanes.close()  # marked, never called: given back, their marks taken back
        self._writer.release([ready.claimed for ready in unsent])
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        self._writer.stop(timeout)

    def _claim_loop(self) -> None:
        config = self._config
        while not self._stop.is_set():
            # The room is reserved before the claim, so the two claimers never claim the same room twice.
            wanted = self._lanes.reserve(config.batch_size, config.poll_seconds)
            if not wanted:
                continue
            try:
                claimed = self.claim(wanted)
            except StoreError as failure:  # database down: wait, the rows are safe
                log.warning("outbox_database_unavailable", error=type(failure).__name__)
                claimed = 0
            except Exception:  # a bug must not end the thread silently; leases bring the rows back
                log.exception("outbox_claim_crashed")
                claimed = 0
            finally:
                self._lanes.unreserve(wanted)
            if claimed < wanted:
                self._stop.wait(config.poll_seconds)

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            item = self._lanes.take(self._config.poll_seconds)
            if item is None:
                continue
            try:
                self.send(item)
            except Exception:  # a bug: the lease brings the event back
                log.exception("outbox_send_crashed", event_id=item.claimed.id)
            finally:
                self._lanes.done(item)


def _claim_limit(claimed: ClaimedEvent, now: datetime, limit: int) -> Attempt:
    return _no_call(claimed, OutcomeClass.CLAIM_LIMIT, now,
                    f"claimed {claimed.claims} times without an outcome being recorded (limit {limit})")


def _no_call(claimed: ClaimedEvent, outcome: OutcomeClass, at: datetime, text: str, url: str | None = None) -> Attempt:
    return Attempt(at=at, outcome=outcome, decision=decide(outcome), url=url, http_status=None, result_code=None,
                   error_id=None, text=clip(text), correlation_id=claimed.correlation_id, duration_ms=0.0)
