"""The keeper's answer to a revocation: read by the client, written by the recipient simulator.

The incumbent's archive (onward-flows.md §4.3) answers a certificate it already revoked with ``INFO``
"Certificate <id> is already revoked.", and one it does not hold for the patient with
``ERROR``/``APPLICATION_ERROR`` "Certificate <id> does not exist for patient." (deliberately, so that
a revocation that overtook its registration is retried; here it cannot overtake it).
"""

from __future__ import annotations

from lxml import etree

from contracts.answers import ProducerAnswer
from contracts.answers import read_answer as read_result_answer
from contracts.ns import REVOKE_CERTIFICATE_V2, qname
from contracts.results import result_response
from domain.values import ErrorId, ResultCode

RESPONSE_TAG = qname(REVOKE_CERTIFICATE_V2, "RevokeCertificateResponse")
ALREADY_REVOKED = "Certificate {certificate_id} is already revoked."
NOT_FOUND = "Certificate {certificate_id} does not exist for patient."


def read_answer(content: bytes) -> ProducerAnswer:
    """Read an HTTP response body as this contract's answer, a fault, or neither. Never raises."""
    return read_result_answer(content, RESPONSE_TAG)


def says_already_revoked(text: str | None) -> bool:
    """Whether an INFO's text says the certificate was revoked before."""
    return "already revoked" in (text or "").casefold()


def write_answer(code: ResultCode, text: str | None = None, error_id: ErrorId | None = None) -> etree._Element:
    """The contract's answer as a keeper (the recipient simulator) writes it."""
    return result_response(RESPONSE_TAG, code, text, error_id)
