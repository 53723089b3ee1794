"""Errors of the outbound side.

    DeliveryError
    └── DeliveryPaused   nothing can be addressed now (no routing catalogue loaded yet): try later

Everything the network or a producer does is an outcome (``domain.delivery.Attempt``), not an error.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """Base class of the outbound side's errors."""


class DeliveryPaused(DeliveryError):
    """Raised when no event can be addressed now; the claimed events go back unsent, nothing is lost."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
