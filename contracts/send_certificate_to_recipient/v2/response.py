"""The archive's answer to a send: read by the client, written by the recipient simulator.

The incumbent's archive (onward-flows.md §3.2) answers a certificate it already sent to that
recipient with ``INFO`` "Certificate '<id>' already sent to '<recipient>'." (and makes no new call),
and a revoked one with ``INFO`` "Certificate '<id>' has been revoked." (nothing sent): both are INFO,
but only the first means the recipient has it. ``ALREADY_SENT`` and ``REVOKED`` are the texts as
this module writes them; the ``says_*`` functions recognise the incumbent's wording.
"""

from __future__ import annotations

from lxml import etree

from contracts.answers import ProducerAnswer
from contracts.answers import read_answer as read_result_answer
from contracts.ns import SEND_CERTIFICATE_V2, qname
from contracts.results import result_response
from domain.values import ErrorId, ResultCode

RESPONSE_TAG = qname(SEND_CERTIFICATE_V2, "SendCertificateToRecipientResponse")
ALREADY_SENT = "Certificate '{certificate_id}' already sent to '{recipient}'."
REVOKED = "Certificate '{certificate_id}' has been revoked."
UNKNOWN = "Unknown certificate ID: {certificate_id}"


def read_answer(content: bytes) -> ProducerAnswer:
    """Read an HTTP response body as this contract's answer, a fault, or neither. Never raises."""
    return read_result_answer(content, RESPONSE_TAG)


def says_already_sent(text: str | None) -> bool:
    """Whether an INFO's text says the certificate was sent to that recipient before."""
    return "already sent" in (text or "").casefold()


def says_revoked(text: str | None) -> bool:
    """Whether an INFO's text says the certificate is revoked at the archive (and was not sent)."""
    return "has been revoked" in (text or "").casefold()


def write_answer(code: ResultCode, text: str | None = None, error_id: ErrorId | None = None) -> etree._Element:
    """The contract's answer as the archive (the recipient simulator) writes it."""
    return result_response(RESPONSE_TAG, code, text, error_id)
