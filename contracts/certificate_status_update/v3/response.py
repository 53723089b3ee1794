"""The journal system's answer to a status update: written by the simulator, read by the client.

``read_answer`` reads ``CertificateStatusUpdateForCareResponse`` (or a fault, or neither) into the
typed values of ``contracts.answers``; ``write_answer`` (and ``contracts.answers.write_fault``) are
the simulator's side.
"""

from __future__ import annotations

from lxml import etree

from contracts.answers import ProducerAnswer, envelope_bytes, write_fault
from contracts.answers import read_answer as read_result_answer
from contracts.ns import STATUS_UPDATE_V3, qname
from contracts.results import result_response
from domain.values import ErrorId, ResultCode

__all__ = ["RESPONSE_TAG", "envelope_bytes", "read_answer", "write_answer", "write_fault"]

RESPONSE_TAG = qname(STATUS_UPDATE_V3, "CertificateStatusUpdateForCareResponse")


def read_answer(content: bytes) -> ProducerAnswer:
    """Read an HTTP response body as this contract's answer, a fault, or neither. Never raises."""
    return read_result_answer(content, RESPONSE_TAG)


def write_answer(code: ResultCode, text: str | None = None, error_id: ErrorId | None = None) -> etree._Element:
    """The contract's answer as a receiver (the journal simulator) writes it."""
    return result_response(RESPONSE_TAG, code, text, error_id)
