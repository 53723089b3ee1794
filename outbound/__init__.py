"""Delivery end to end: build the contract message, resolve the route, call, classify the answer.

``deliver.StatusUpdateDelivery`` is what the dispatcher calls; ``status_update`` builds
CertificateStatusUpdateForCare for an outbox event; ``sender`` declares the ``Sender`` protocol,
which ``http_sender.HttpSender`` implements over a pooled HTTP session; ``classify`` turns what came
back (a ResultType, a SOAP fault with the platform's VP code, an HTTP status, a transport error) into
the outcome classes of ``domain.delivery``. What must not be here: claiming, leases and recording
(``scheduler`` and ``store``), and the certificate rules (``domain``).
"""

from __future__ import annotations

from outbound.deliver import (
    Addressed,
    Prepared,
    Ready,
    RoutingSnapshot,
    StatusUpdateDelivery,
    Unsendable,
)
from outbound.errors import DeliveryError, DeliveryPaused
from outbound.http_sender import HttpSender
from outbound.sender import OutboundCall, Sender, Timeouts, TlsConfig

__all__ = [
    "Addressed",
    "DeliveryError",
    "DeliveryPaused",
    "HttpSender",
    "OutboundCall",
    "Prepared",
    "Ready",
    "RoutingSnapshot",
    "Sender",
    "StatusUpdateDelivery",
    "Timeouts",
    "TlsConfig",
    "Unsendable",
]
