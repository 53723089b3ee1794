"""Errors raised while reading XML for a contract.

    XmlRefused          bytes we will not read as a contract message; ``reason`` says why
    ├── HostileXml      a DTD, entities, or a size or depth limit exceeded
    ├── NotXml          not well-formed XML
    ├── NotSoap         well-formed XML, but not a SOAP 1.1 envelope with a Body
    └── WrongDocument   well-formed XML, but not the document expected (its root or body element, a value)

Each carries a ``reason`` that is safe to return to the caller: it names the limit or the element,
never the content.
"""

from __future__ import annotations


class XmlRefused(Exception):
    """Base class: the bytes cannot be read as the message expected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HostileXml(XmlRefused):
    """Raised when a document uses a DTD or entities, or hits a size or depth limit."""


class NotXml(XmlRefused):
    """Raised when the bytes cannot be parsed as XML at all."""


class NotSoap(XmlRefused):
    """Raised when the XML is not a SOAP 1.1 envelope with a Body (or, for a request, with one element in it)."""


class WrongDocument(XmlRefused):
    """Raised when well-formed XML is another document than the one expected, or holds an unreadable value."""
