"""Delivering outbox events, end to end, whatever their contract: address, build, call, classify.

``Delivery`` is what the dispatcher (``scheduler.dispatcher``) calls between claiming events and
recording what came of them. Each event names its contract (``domain.events.OutboundContract``):
status updates go to the unit's journal system (``outbound.status_update``), onward events to the
recipient or the archive (``outbound.onward``); each contract builds its own message and reads its
own answers (``Hop``), and everything else (routing through the TAK catalogue, timeouts, the call,
the outcome classes) is the same for all. For a batch of claimed events (with what the database said
about each: is the unit integrated, the certificate as it is now) ``prepare`` decides, without any
network call, what each one becomes:

* ``Unsendable``: nothing can be sent, ever, without an operator (the unit is not integrated, the
  certificate is gone, the payload cannot be written, or building it failed in any other way): the
  event fails with the reason, as an attempt of class ``not-integrated`` or ``unbuildable``; or an
  onward delivery that must never be made (a revoked or test certificate's) is ``cancelled``. One
  event's failure is its own: the others of the batch are prepared as if it were not there;
* ``Addressed``: our own routing catalogue has no usable route (VP004/VP006/VP010), or its route is
  plain ``http://`` to another host (refused unless ``allow_plain_http_routes``) — an attempt is
  recorded without a call, and the event waits on the address schedule;
* ``Ready``: the message is built and the endpoint resolved (climbing the HSA tree for a unit; a
  recipient's or the archive's logical address is looked up as it is): ``send`` posts it through the
  ``Sender`` with timeouts that fit the time the dispatcher has left. Every call of an event carries
  the event's own correlation id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

import structlog
from lxml import etree

from contracts.answers import ContractAnswer, ProducerAnswer
from contracts.envelope import request_envelope
from contracts.ns import (
    REGISTER_CERTIFICATE_V3,
    REVOKE_CERTIFICATE_V2,
    SEND_CERTIFICATE_V2,
    SEND_MESSAGE_TO_RECIPIENT_V2,
)
from contracts.register_certificate.v3 import request as register
from contracts.register_certificate.v3 import response as register_answer
from contracts.revoke_certificate.v2 import request as revoke
from contracts.revoke_certificate.v2 import response as revoke_answer
from contracts.send_certificate_to_recipient.v2 import request as send
from contracts.send_certificate_to_recipient.v2 import response as send_answer
from contracts.send_message_to_recipient.v2 import request as message
from contracts.send_message_to_recipient.v2 import response as message_answer
from domain.certificate_types import CertificateTypes
from domain.delivery import Attempt, OutcomeClass, clip, decide
from domain.events import ClaimedEvent, EventContext, OutboundContract
from domain.values import swedish_date
from outbound.classify import routing_outcome
from outbound.errors import DeliveryPaused
from outbound.onward import CLASSIFY, build_onward, cancellation
from outbound.sender import OutboundCall, Sender, Timeouts
from outbound.status_update import (
    CONTRACT,
    Unbuildable,
    build_message,
    status_update_call,
)
from routing.catalogue import Catalogue, Route
from routing.errors import CatalogueUnavailable, RoutingError
from routing.provider import CatalogueProvider
from routing.report import is_plain_http

log = structlog.get_logger("outbound.deliver")


@dataclass(frozen=True, slots=True)
class Unsendable:
    """The event cannot be sent at all: the attempt that says why (no call was made)."""

    claimed: ClaimedEvent
    attempt: Attempt

    @property
    def reason(self) -> str:
        return self.attempt.text or self.attempt.outcome.value


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

    @property
    def journal(self) -> str:
        """The system the call goes to (a journal system, a recipient, the archive), for bounding calls
        in flight: the endpoint URL."""
        return self.route.url

    @property
    def unit_key(self) -> str:
        """Whom claims skip while this system is busy: the unit, or the onward event's logical address."""
        return self.claimed.event.lane_key


Prepared = Unsendable | Addressed | Ready
#: The routing snapshot a claim is addressed by (the dispatcher passes it on without looking inside).
RoutingSnapshot: TypeAlias = Catalogue


@dataclass(frozen=True, slots=True)
class Hop:
    """One onward contract as delivery needs it: the TAK service contract it is routed by, how its
    message is built, its soapAction, how its answer is read and classified."""

    namespace: str
    soap_action: str
    read_answer: Callable[[bytes], ProducerAnswer]
    classify: Callable[[ContractAnswer, ClaimedEvent], OutcomeClass]

    def call(self, url: str, address: str, body: etree._Element | bytes, claimed: ClaimedEvent) -> OutboundCall:
        return OutboundCall(url=url, envelope=request_envelope(address, body), soap_action=self.soap_action,
                            correlation_id=claimed.correlation_id, read_answer=self.read_answer,
                            classify=lambda answer: self.classify(answer, claimed))


#: The onward contracts, by the contract an event names.
HOPS: dict[OutboundContract, Hop] = {
    OutboundContract.REGISTER: Hop(REGISTER_CERTIFICATE_V3, register.SOAP_ACTION, register_answer.read_answer,
                                   CLASSIFY[OutboundContract.REGISTER]),
    OutboundContract.SEND: Hop(SEND_CERTIFICATE_V2, send.SOAP_ACTION, send_answer.read_answer,
                               CLASSIFY[OutboundContract.SEND]),
    OutboundContract.REVOKE: Hop(REVOKE_CERTIFICATE_V2, revoke.SOAP_ACTION, revoke_answer.read_answer,
                                 CLASSIFY[OutboundContract.REVOKE]),
    OutboundContract.MESSAGE: Hop(SEND_MESSAGE_TO_RECIPIENT_V2, message.SOAP_ACTION, message_answer.read_answer,
                                  CLASSIFY[OutboundContract.MESSAGE]),
}
#: The TAK service contract each outbox contract is routed by (what ``routing add --contract`` names).
ROUTING_CONTRACTS: dict[OutboundContract, str] = {
    OutboundContract.STATUS_UPDATE: CONTRACT, **{contract: hop.namespace for contract, hop in HOPS.items()}}


class Delivery:
    """Addresses, builds and sends outbox events of every contract (module docstring); one per worker process."""

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

    def catalogue(self) -> RoutingSnapshot:
        """The routing snapshot to address the next claim by. Called before the claim's transaction:
        refreshing it reads the database, which on SQLite must not wait for that transaction's write lock.

        Raises:
            DeliveryPaused: no routing catalogue was ever loaded in this process.
        """
        try:
            return self._catalogue.current()
        except CatalogueUnavailable as missing:
            raise DeliveryPaused(str(missing)) from missing

    def prepare(self, contexts: Sequence[EventContext], catalogue: RoutingSnapshot) -> list[Prepared]:
        """What each event becomes, in order, addressed by ``catalogue`` (module docstring); no network call."""
        now = self._clock()
        prepared: list[Prepared] = []
        for context in contexts:
            try:
                prepared.append(self._prepare_one(context, catalogue, now))
            except Exception as broken:  # a bug or bad data in one event is that event's outcome only
                log.error("outbox_event_unbuildable", event_id=context.claimed.id,
                          contract=context.claimed.event.contract.value, error=type(broken).__name__, exc_info=True)
                prepared.append(_unsendable(context.claimed, OutcomeClass.UNBUILDABLE, now,
                                            f"building the message failed: {type(broken).__name__}"))
        return prepared

    def _prepare_one(self, context: EventContext, catalogue: Catalogue, now: datetime) -> Prepared:
        claimed = context.claimed
        event = claimed.event
        if not context.integrated:
            return _unsendable(claimed, OutcomeClass.NOT_INTEGRATED, now,
                               "the unit is not integrated: it receives no status updates")
        hop = HOPS.get(event.contract)
        if hop is not None:
            cancelled = cancellation(context)
            if cancelled is not None:
                return _unsendable(claimed, OutcomeClass.CANCELLED, now, cancelled)
        try:
            body = build_onward(context, self._types) if hop is not None else build_message(context, self._types)
        except Unbuildable as refused:
            return _unsendable(claimed, OutcomeClass.UNBUILDABLE, now, refused.reason)
        address = event.logical_address if event.logical_address is not None else event.unit.value
        try:
            route = catalogue.resolve(ROUTING_CONTRACTS[event.contract], address, swedish_date(now)).route
        except RoutingError as missing:
            return Addressed(claimed, _unaddressed(claimed, missing, now))
        if is_plain_http(route.url) and not self._allow_plain_http:
            # Not sent: patient data would travel in clear. A route problem like a missing one, so the
            # event waits on the address schedule and goes out once the route is fixed.
            reason = (f"the route {route.url} is plain http://: patient data would travel in clear "
                      "(allow_plain_http_routes)")
            return Addressed(claimed, _no_call(claimed, OutcomeClass.INSECURE_ROUTE, now, reason))
        if hop is not None:
            return Ready(claimed, hop.call(route.url, address, body, claimed), route)
        return Ready(claimed, status_update_call(route.url, address, body, claimed.correlation_id), route)

    def timeouts_for(self, route: Route, seconds_left: float) -> Timeouts:
        """The route's own timeouts where it has them, the whole call cut to end within ``seconds_left``."""
        connect = route.connect_timeout_s or self._timeouts.connect_s
        read = route.read_timeout_s or self._timeouts.read_s
        return Timeouts(connect_s=connect, read_s=read).within(seconds_left)

    def send(self, ready: Ready, timeouts: Timeouts) -> Attempt:
        """Post the event's call; every outcome is an attempt, never an exception."""
        return self._sender.send(ready.call, timeouts)


def _unaddressed(claimed: ClaimedEvent, error: RoutingError, now: datetime) -> Attempt:
    """The attempt recorded for an event our own routing table cannot address (no network call)."""
    return _no_call(claimed, routing_outcome(error.code), now, error.describe())


def _unsendable(claimed: ClaimedEvent, outcome: OutcomeClass, now: datetime, reason: str) -> Unsendable:
    return Unsendable(claimed, _no_call(claimed, outcome, now, reason))


def _no_call(claimed: ClaimedEvent, outcome: OutcomeClass, now: datetime, text: str) -> Attempt:
    return Attempt(
        at=now, outcome=outcome, decision=decide(outcome), url=None, http_status=None,
        result_code=None, error_id=None, text=clip(text), correlation_id=claimed.correlation_id,
        duration_ms=0.0,
    )
