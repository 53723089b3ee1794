"""The SOAP 1.1 envelope of a request we send: the ``LogicalAddress`` header (RIVTA BP 2.1) and one body.

Written around the serialised body rather than built as one tree: appending a body to a new
envelope element makes libxml2 reconcile the namespaces of the whole body, which cost as much as
serialising it, on every message sent. The body is left as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from lxml import etree

from contracts.ns import REGISTRY, SOAP11_ENV, qname

LOGICAL_ADDRESS_TAG = qname(REGISTRY, "LogicalAddress")

_ENVELOPE_START = (
    f"<?xml version='1.0' encoding='utf-8'?>\n<soapenv:Envelope xmlns:soapenv=\"{SOAP11_ENV}\">"
    f"<soapenv:Header><itr:LogicalAddress xmlns:itr=\"{REGISTRY}\">"
).encode()
_ENVELOPE_MIDDLE = b"</itr:LogicalAddress></soapenv:Header><soapenv:Body>"
_ENVELOPE_END = b"</soapenv:Body></soapenv:Envelope>"


def request_envelope(logical_address: str, body: etree._Element | bytes) -> bytes:
    """The request as posted: the envelope with ``logical_address`` around ``body`` (an element, or one
    already written as UTF-8 text without an XML declaration), UTF-8 with an XML declaration."""
    written = body if isinstance(body, bytes) else etree.tostring(body, encoding="utf-8")
    address = escape(logical_address).encode("utf-8")
    return b"".join((_ENVELOPE_START, address, _ENVELOPE_MIDDLE, written, _ENVELOPE_END))


def logical_address_of(headers: Sequence[etree._Element]) -> str | None:
    """The ``LogicalAddress`` header's text ("" when empty), or None when the request has none."""
    return next((h.text or "" for h in headers if h.tag == LOGICAL_ADDRESS_TAG), None)
