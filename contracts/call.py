"""What a responder knows about an inbound call besides its body."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SoapCall:
    """The LogicalAddress header (empty when absent) and the request's correlation id."""

    logical_address: str
    correlation_id: str
