"""The outbox dispatcher: claims due status-update events, has ``outbound`` deliver them, records what happened.

One ``Dispatcher`` per worker process runs ``threads`` sender threads. Each thread repeats one cycle:

1. **claim** a batch of due events with a lease, in one short transaction (``store.outbox.claims``),
   and read what delivering them needs (is the unit integrated, the certificate as it is now);
2. **prepare** the batch in ``outbound.deliver``: each event is unsendable (failed at once with the
   reason), unaddressed by our routing catalogue (an attempt without any network call, which puts it
   on the address schedule), or ready to send;
3. **send** each ready event through ``outbound``, outside any transaction, with connect and read
   timeouts that end before the lease does (an event whose turn would come too late is released
   unsent instead);
4. **record** every attempt with the event's next state (``domain.resend_policy``) in one
   transaction, guarded by the claim token.

A thread that found nothing to do sleeps ``poll_seconds``; a thread that found a full batch goes
on at once, so a backlog drains at full speed and a new event goes out within a poll interval.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from domain.delivery import Attempt
from domain.events import ClaimedEvent
from domain.resend_policy import Schedules, Verdict, after_attempt
from outbound import (
    Addressed,
    DeliveryPaused,
    Ready,
    StatusUpdateDelivery,
    Timeouts,
    Unsendable,
)
from store import UnitOfWork
from store.errors import StoreError
from store.outbox import (
    AttemptOutcome,
    claim_due,
    delivery_contexts,
    finish_unsent,
    record_outcomes,
    release,
)

log = structlog.get_logger("scheduler.dispatcher")

#: Kept free at the end of a lease: recording the outcome must happen while the lease still holds.
LEASE_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """How the dispatcher works; ``check`` refuses timeouts that could outlast the lease."""

    schedules: Schedules
    timeouts: Timeouts
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 50
    threads: int = 4
    poll_seconds: float = 1.0
    hold: timedelta = timedelta(0)

    def check(self) -> None:
        """Raise ``ValueError`` when a send with the default timeouts would not fit in a lease."""
        needed = timedelta(seconds=self.timeouts.connect_s + self.timeouts.read_s) + LEASE_MARGIN
        if needed >= self.lease:
            raise ValueError(f"connect + read timeout + {LEASE_MARGIN.seconds}s margin ({needed}) must stay "
                             f"below the claim lease ({self.lease})")
        if self.batch_size < 1 or self.threads < 1 or self.poll_seconds <= 0:
            raise ValueError("batch size, threads and poll interval must be positive")


class Dispatcher:
    """Sends due outbox events from worker threads; see the module docstring for the cycle."""

    def __init__(
        self,
        uow: UnitOfWork,
        delivery: StatusUpdateDelivery,
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
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- one cycle ---------------------------------------------------------------------------------
    def run_batch(self) -> int:
        """Claim, send and record one batch; return how many events were claimed."""
        token = f"{self._name}:{threading.get_ident()}:{next(self._claims)}"
        now = self._clock()
        hold_until = now - self._config.hold if self._config.hold > timedelta(0) else None
        with self._uow() as tx:
            claimed = claim_due(tx, token, now, self._config.lease, self._config.batch_size, hold_until)
            contexts = delivery_contexts(tx, claimed) if claimed else []
        if not claimed:
            return 0
        lease_until = now + self._config.lease
        try:
            prepared = self._delivery.prepare(contexts)
        except DeliveryPaused:  # no routing table loaded yet: give the events back, try later
            log.warning("outbox_catalogue_unavailable", events=len(claimed))
            self._record(token, [], [c.id for c in claimed])
            return 0
        self._finish_unsendable(token, [p for p in prepared if isinstance(p, Unsendable)])
        outcomes: list[AttemptOutcome] = []
        unsent: list[int] = []
        seconds_left = (self._config.lease - LEASE_MARGIN).total_seconds()
        for item in prepared:
            if isinstance(item, Addressed):
                outcomes.append(self._outcome(item.claimed, item.attempt))
            elif isinstance(item, Ready):
                timeouts = self._delivery.timeouts_for(item.route, seconds_left)
                send_by = lease_until - LEASE_MARGIN - timedelta(seconds=timeouts.connect_s + timeouts.read_s)
                if unsent or self._clock() > send_by:
                    unsent.append(item.claimed.id)
                    continue
                outcomes.append(self._outcome(item.claimed, self._delivery.send(item, timeouts)))
        self._record(token, outcomes, unsent)
        return len(claimed)

    def _finish_unsendable(self, token: str, unsendable: list[Unsendable]) -> None:
        """Fail the events that cannot be sent at all, each with its reason."""
        if not unsendable:
            return
        now = self._clock()
        reasons = sorted({item.reason for item in unsendable})
        with self._uow() as tx:
            for reason in reasons:
                finish_unsent(tx, token, [item.claimed.id for item in unsendable if item.reason == reason], now, reason)
        for item in unsendable:
            log.error("status_update_not_sendable", event_id=item.claimed.id, reason=item.reason)

    def _outcome(self, claimed: ClaimedEvent, attempt: Attempt) -> AttemptOutcome:
        return AttemptOutcome(claimed.id, attempt, after_attempt(attempt, claimed.series, self._config.schedules))

    def _record(self, token: str, outcomes: list[AttemptOutcome], unsent: list[int]) -> None:
        with self._uow() as tx:
            recorded = set(record_outcomes(tx, token, outcomes))
            release(tx, token, unsent)
        for outcome in outcomes:
            event_id = outcome.event_id
            if event_id not in recorded:
                log.warning("status_update_lease_lost", event_id=event_id, outcome=outcome.attempt.outcome.value)
                continue
            verdict = outcome.state.verdict
            if verdict in (Verdict.FAILED, Verdict.GAVE_UP):
                attempt = outcome.attempt
                log.error("status_update_failed", event_id=event_id, verdict=verdict.value,
                          outcome=attempt.outcome.value, http_status=attempt.http_status,
                          result_code=attempt.result_code, error_id=attempt.error_id, text=attempt.text,
                          url=attempt.url, schedule=outcome.state.series.kind.value,
                          tries=outcome.state.series.failed_tries)

    # -- threads -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the sender threads (daemon threads: a stopping process does not wait for a send)."""
        for number in range(self._config.threads):
            thread = threading.Thread(target=self._loop, name=f"outbox-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the threads to stop after their current batch and wait up to ``timeout`` seconds."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.run_batch()
            except StoreError as failure:  # database down: wait, the rows are safe
                log.warning("outbox_database_unavailable", error=type(failure).__name__)
                claimed = 0
            except Exception:  # a bug must not end the thread silently; leases bring the rows back
                log.exception("outbox_batch_crashed")
                claimed = 0
            if claimed < self._config.batch_size:
                self._stop.wait(self._config.poll_seconds)

