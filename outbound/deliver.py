"""Delivering status updates, end to end: address, build, call, classify.

``StatusUpdateDelivery`` is what the dispatcher (``scheduler.dispatcher``) calls between claiming
events and recording what came of them. For a batch of claimed events (with what the database said
about each: is the unit integrated, the certificate as it is now) ``prepare`` decides, without any
network call, what each one becomes:

* ``Unsendable``: nothing can be sent, ever, without an operator (the unit is not integrated, the
  certificate is gone, the payload cannot be written): the event fails with the reason;
* ``Addressed``: our own routing catalogue has no usable route (VP004/VP006/VP010) — an attempt is
  recorded without a call, and the event waits on the address schedule;
* ``Ready``: the message is built and the endpoint resolved (climbing the HSA tree): ``send`` posts
  it through the ``Sender`` with timeouts that fit the time the dispatcher has left.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.certificate_types import CertificateTypes
from domain.delivery import Attempt, clip, decide
from domain.events import ClaimedEvent, EventContext
from domain.values import swedish_date
from outbound.classify import routing_outcome
from outbound.errors import DeliveryPaused
from outbound.sender import OutboundCall, Sender, Timeouts
from outbound.status_update import (
    CONTRACT,
    Unbuildable,
    build_message,
    status_update_call,
)
from routing.catalogue import Route
from routing.errors import CatalogueUnavailable, RoutingError
from routing.provider import CatalogueProvider
from routing.report import is_plain_http

#: A call is never given a read timeout below this, however little time is left; it is then left unsent.
MIN_READ_S = 1.0


@dataclass(frozen=True, slots=True)
class Unsendable:
    """The event cannot be sent at all; ``reason`` is kept as its last error."""

    claimed: ClaimedEvent
    reason: str


@dataclass(frozen=True, slots=True)
class Addressed:
    """Our routing catalogue could not address the event: the attempt to record, made without a call."""

    claimed: ClaimedEvent
    attempt: Attempt


@dataclass(frozen=True, slots=True)
class Ready:
    """The event's call, and the route it goes by (whose own timeouts, if any, win)."""

    claimed: ClaimedEvent
    call: OutboundCall
    route: Route


Prepared = Unsendable | Addressed | Ready


class StatusUpdateDelivery:
    """Addresses, builds and sends status updates (module docstring); one per worker process."""

    def __init__(
        self,
        sender: Sender,
        catalogue: CatalogueProvider,
        types: CertificateTypes,
        timeouts: Timeouts,
        clock: Callable[[], datetime],
        allow_plain_http: bool = False,
    ) -> None:
        self._allow_plain_http = allow_plain_http  # http:// routes off this host (routing.report.is_plain_http)
        self._sender = sender
        self._catalogue = catalogue
        self._types = types
        self._timeouts = timeouts
        self._clock = clock

    def prepare(self, contexts: Sequence[EventContext]) -> list[Prepared]:
        """What each event becomes, in order (module docstring); no network call.

        Raises:
            DeliveryPaused: no routing catalogue was ever loaded in this process.
        """
        try:
            catalogue = self._catalogue.current()
        except CatalogueUnavailable as missing:
            raise DeliveryPaused(str(missing)) from missing
        now = self._clock()
        prepared: list[Prepared] = []
        for context in contexts:
            claimed = context.claimed
            if not context.integrated:
                prepared.append(Unsendable(claimed, "the unit is not integrated: it receives no status updates"))
                continue
            try:
                message = build_message(context, self._types)
            except Unbuildable as refused:
                prepared.append(Unsendable(claimed, refused.reason))
                continue
            address = claimed.event.unit.value
            try:
                route = catalogue.resolve(CONTRACT, address, swedish_date(now)).route
            except RoutingError as missing:
                prepared.append(Addressed(claimed, _unaddressed(missing, now)))
                continue
            if is_plain_http(route.url) and not self._allow_plain_http:
                reason = (f"the route {route.url} is plain http://: patient data would travel in clear "
                          "(allow_plain_http_routes); fix the route, then resend")
                prepared.append(Unsendable(claimed, reason))
                continue
            prepared.append(Ready(claimed, status_update_call(route.url, address, message, _new_id()), route))
        return prepared

    def timeouts_for(self, route: Route, seconds_left: float) -> Timeouts:
        """The route's own timeouts where it has them, the read timeout cut so the call ends in ``seconds_left``."""
        connect = route.connect_timeout_s or self._timeouts.connect_s
        read = route.read_timeout_s or self._timeouts.read_s
        return Timeouts(connect_s=connect, read_s=max(MIN_READ_S, min(read, seconds_left - connect)))

    def send(self, ready: Ready, timeouts: Timeouts) -> Attempt:
        """Post the event's call; every outcome is an attempt, never an exception."""
        return self._sender.send(ready.call, timeouts)


def _unaddressed(error: RoutingError, now: datetime) -> Attempt:
    """The attempt recorded for an event our own routing table cannot address (no network call)."""
    outcome = routing_outcome(error.code)
    return Attempt(
        at=now, outcome=outcome, decision=decide(outcome), url=None, http_status=None,
        result_code=None, error_id=None, text=clip(error.describe()), correlation_id=_new_id(),
        duration_ms=0.0,
    )


def _new_id() -> str:
    return str(uuid.uuid4())
