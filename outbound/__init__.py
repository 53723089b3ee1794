"""Delivery end to end: build the contract message, resolve the route, call, classify the answer.

``deliver.Delivery`` is what the dispatcher calls, for every contract; ``status_update`` builds
CertificateStatusUpdateForCare for an outbox event, ``onward`` the calls to the recipient or the
archive and their readings of the answers; ``sender`` declares the ``Sender`` protocol,
which ``http_sender.HttpSender`` implements over a pooled HTTP session; ``classify`` turns what came
back (a ResultType, a SOAP fault with the platform's VP code, an HTTP status, a transport error) into
the outcome classes of ``domain.delivery``. What must not be here: claiming, leases and recording
(``scheduler`` and ``store``), and the certificate rules (``domain``).
"""

from __future__ import annotations

from outbound.deliver import (
    ROUTING_CONTRACTS,
    Addressed,
    Delivery,
    Prepared,
    Ready,
    RoutingSnapshot,
    Unsendable,
)
from outbound.errors import DeliveryError, DeliveryPaused
from outbound.http_sender import HttpSender
from outbound.sender import OutboundCall, Sender, Timeouts, TlsConfig

__all__ = [
    "ROUTING_CONTRACTS",
    "Addressed",
    "Delivery",
    "DeliveryError",
    "DeliveryPaused",
    "HttpSender",
    "OutboundCall",
    "Prepared",
    "Ready",
    "RoutingSnapshot",
    "Sender",
    "Timeouts",
    "TlsConfig",
    "Unsendable",
]
