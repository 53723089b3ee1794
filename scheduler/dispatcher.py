"""The outbox dispatcher: claims due status-update events, sends them, records what happened.

One ``Dispatcher`` per worker process runs ``threads`` sender threads. Each thread repeats one cycle:

1. **claim** a batch of due events with a lease, in one short transaction (``store.outbox_delivery``);
2. **prepare** the batch in one read transaction: drop events of units that are not integrated,
   build each CertificateStatusUpdateForCare message, resolve each unit's endpoint in the routing
   catalogue (climbing the HSA tree); an event without a route gets a ``platform-no-route`` attempt
   without any network call, which puts it on the address schedule;
3. **send** each message outside any transaction, with connect and read timeouts that end before
   the lease does (an event whose turn would come too late is released unsent instead);
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
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from domain.certificate_types import CertificateTypeRegistry
from domain.delivery import Attempt, clip, decide, routing_outcome
from domain.resend_policy import Schedules, Verdict, after_attempt
from domain.values import swedish_date
from outbound.status_update import Timeouts
from routing.catalogue import Route
from routing.errors import CatalogueUnavailable, RoutingError
from routing.provider import CatalogueProvider
from scheduler.messages import Unbuildable, build_message
from store.errors import StoreError
from store.outbox_delivery import ClaimedEvent, Outcome
from store.outbox_worker import OutboxStore

log = structlog.get_logger("scheduler.dispatcher")

#: The TAK service contract a status update is routed by: the responder namespace, as TAK names it.
STATUS_UPDATE_CONTRACT = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3"
#: Kept free at the end of a lease: recording the outcome must happen while the lease still holds.
LEASE_MARGIN = timedelta(seconds=5)


class Sender(Protocol):
    """What the dispatcher needs from ``outbound.status_update.StatusUpdateSender``."""

    def send(self, url: str, logical_address: str, message: Any, correlation_id: str,
             timeouts: Timeouts | None = None) -> Attempt: ...


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

    def timeouts_for(self, route: Route) -> Timeouts:
        """The route's own timeouts where it has them, the read timeout cut to fit in the lease."""
        connect = route.connect_timeout_s or self.timeouts.connect_s
        read = route.read_timeout_s or self.timeouts.read_s
        ceiling = (self.lease - LEASE_MARGIN).total_seconds() - connect
        return Timeouts(connect_s=connect, read_s=max(1.0, min(read, ceiling)))


@dataclass
class DispatchStats:
    """Counters of this process since it started (the outbox table holds the durable picture)."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, amount: int = 1) -> None:
        with self.lock:
            self.counts[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.counts)


@dataclass(frozen=True, slots=True)
class _Planned:
    claimed: ClaimedEvent
    message: Any
    route: Route | None  # None: routing failed, ``attempt`` holds the outcome
    attempt: Attempt | None


class Dispatcher:
    """Sends due outbox events from worker threads; see the module docstring for the cycle."""

    def __init__(
        self,
        store: OutboxStore,
        sender: Sender,
        catalogue: CatalogueProvider,
        types: CertificateTypeRegistry,
        config: DispatchConfig,
        clock: Callable[[], datetime],
        name: str | None = None,
    ) -> None:
        config.check()
        self._store = store
        self._sender = sender
        self._catalogue = catalogue
        self._types = types
        self._config = config
        self._clock = clock
        self._name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._claims = itertools.count(1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.stats = DispatchStats()

    # -- one cycle ---------------------------------------------------------------------------------
    def run_batch(self) -> int:
        """Claim, send and record one batch; return how many events were claimed."""
        token = f"{self._name}:{threading.get_ident()}:{next(self._claims)}"
        now = self._clock()
        hold_until = now - self._config.hold if self._config.hold > timedelta(0) else None
        claimed = self._store.claim(token, now, self._config.lease, self._config.batch_size, hold_until)
        if not claimed:
            return 0
        lease_until = now + self._config.lease
        try:
            planned = self._prepare(token, claimed)
        except CatalogueUnavailable:  # no routing table loaded yet: give the events back, try later
            log.warning("outbox_catalogue_unavailable", events=len(claimed))
            self._store.record(token, [], [c.id for c in claimed])
            return 0
        outcomes: list[Outcome] = []
        unsent: list[int] = []
        for plan in planned:
            if plan.attempt is not None:
                outcomes.append(self._outcome(plan.claimed, plan.attempt))
                continue
            assert plan.route is not None
            timeouts = self._config.timeouts_for(plan.route)
            send_by = lease_until - LEASE_MARGIN - timedelta(seconds=timeouts.connect_s + timeouts.read_s)
            if unsent or self._clock() > send_by:
                unsent.append(plan.claimed.id)
                continue
            attempt = self._sender.send(plan.route.url, plan.claimed.event.unit.value, plan.message,
                                        str(uuid.uuid4()), timeouts)
            outcomes.append(self._outcome(plan.claimed, attempt))
        self._record(token, outcomes, unsent)
        return len(claimed)

    def _prepare(self, token: str, claimed: Sequence[ClaimedEvent]) -> list[_Planned]:
        """Build messages and resolve endpoints; finish events that cannot be sent at all."""
        planned: list[_Planned] = []
        unbuildable: dict[int, str] = {}
        catalogue = self._catalogue.current()
        now = self._clock()
        for context in self._store.contexts(claimed):
            item = context.claimed
            if not context.integrated:
                unbuildable[item.id] = "the unit is not integrated: it receives no status updates"
                continue
            try:
                message = build_message(context, self._types)
            except Unbuildable as refused:
                unbuildable[item.id] = refused.reason
                continue
            try:
                route = catalogue.resolve(STATUS_UPDATE_CONTRACT, item.event.unit.value, swedish_date(now)).route
            except RoutingError as missing:
                planned.append(_Planned(item, message, None, _routing_attempt(missing, now)))
                continue
            planned.append(_Planned(item, message, route, None))
        if unbuildable:
            self._store.finish_unsent(token, unbuildable, now)
        for event_id, reason in unbuildable.items():
            log.error("status_update_not_sendable", event_id=event_id, reason=reason)
            self.stats.add("failed")
        return planned

    def _outcome(self, claimed: ClaimedEvent, attempt: Attempt) -> Outcome:
        return Outcome(claimed.id, attempt, after_attempt(attempt, claimed.series, self._config.schedules))

    def _record(self, token: str, outcomes: list[Outcome], unsent: list[int]) -> None:
        recorded = self._store.record(token, outcomes, unsent)
        self.stats.add("released", len(unsent))
        events = {outcome.event_id: outcome for outcome in outcomes}
        for event_id, outcome in events.items():
            if event_id not in recorded:
                self.stats.add("lease_lost")
                log.warning("status_update_lease_lost", event_id=event_id, outcome=outcome.attempt.outcome.value)
                continue
            verdict = outcome.state.verdict
            self.stats.add(verdict.value)
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


def _routing_attempt(error: RoutingError, now: datetime) -> Attempt:
    """The attempt recorded for an event our own routing table cannot address (no network call)."""
    outcome = routing_outcome(error.code)
    return Attempt(
        at=now, outcome=outcome, decision=decide(outcome), url=None, http_status=None,
        result_code=None, error_id=None, text=clip(error.describe()), correlation_id=str(uuid.uuid4()),
        duration_ms=0.0,
    )

