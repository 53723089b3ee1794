"""The keeper's answer to a registration: read by the client, written by the recipient simulator.

The incumbent's archive answers a registration of a certificate it already holds, for the same
patient, with ``INFO`` and exactly ``ALREADY_EXISTS`` (a comment in its code forbids changing the
text, because its own clients compare it); the same id for another patient is
``ERROR``/``VALIDATION_ERROR`` with the same text (onward-flows.md §2.2).
"""

from __future__ import annotations

from lxml import etree

from contracts.answers import ProducerAnswer
from contracts.answers import read_answer as read_result_answer
from contracts.ns import REGISTER_CERTIFICATE_V3, qname
from contracts.results import result_response
from domain.values import ErrorId, ResultCode

RESPONSE_TAG = qname(REGISTER_CERTIFICATE_V3, "RegisterCertificateResponse")
ALREADY_EXISTS = "Certificate already exists"


def read_answer(content: bytes) -> ProducerAnswer:
    """Read an HTTP response body as this contract's answer, a fault, or neither. Never raises."""
    return read_result_answer(content, RESPONSE_TAG)


def says_already_registered(text: str | None) -> bool:
    """Whether an answer's text is the keeper's "already exists" (surrounding spaces and case aside)."""
    return (text or "").strip().casefold() == ALREADY_EXISTS.casefold()


def write_answer(code: ResultCode, text: str | None = None, error_id: ErrorId | None = None) -> etree._Element:
    """The contract's answer as a keeper (the recipient simulator) writes it."""
    return result_response(RESPONSE_TAG, code, text, error_id)
