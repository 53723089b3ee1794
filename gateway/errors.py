"""Errors raised by the front door.

    GatewayError
    ├── HostileXml      the body carries a DTD, entities or exceeds a parser limit
    ├── NotXml          the body is not well-formed XML
    └── NotSoap         well-formed XML, but not a SOAP 1.1 envelope with one Body child

Each carries a ``reason`` safe to return to the caller (no echo of message content).
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base class of the front door's refusals."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HostileXml(GatewayError):
    """Raised when a message uses a DTD or entities, or hits a size or depth limit."""


class NotXml(GatewayError):
    """Raised when the body cannot be parsed as XML at all."""


class NotSoap(GatewayError):
    """Raised when the XML is not a SOAP 1.1 envelope with exactly one Body child."""
