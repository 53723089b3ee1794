"""The journal system's answer to a status update: written by the simulator, read by the client.

``read_answer`` reads ``CertificateStatusUpdateForCareResponse`` (or a fault, or neither) into the
typed values of ``contracts.answers``; ``write_answer`` and ``write_fault`` are the simulator's side.
"""

from __future__ import annotations

from lxml import etree

from contracts.answers import FAULT_TAG, ProducerAnswer
from contracts.answers import read_answer as read_result_answer
from contracts.ns import CORE, SOAP11_ENV, STATUS_UPDATE_V3, qname
from contracts.results import add_result
from domain.values import ErrorId, ResultCode

RESPONSE_TAG = qname(STATUS_UPDATE_V3, "CertificateStatusUpdateForCareResponse")


def read_answer(content: bytes) -> ProducerAnswer:
    """Read an HTTP response body as this contract's answer, a fault, or neither. Never raises."""
    return read_result_answer(content, RESPONSE_TAG)


def write_answer(code: ResultCode, text: str | None = None, error_id: ErrorId | None = None) -> etree._Element:
    """The contract's answer as a receiver (the journal simulator) writes it."""
    response = etree.Element(RESPONSE_TAG, nsmap={"csu": STATUS_UPDATE_V3, "core": CORE})
    add_result(response, qname(STATUS_UPDATE_V3, "result"), code, text, error_id)
    return response


def write_fault(code: str, string: str, detail: str | None = None) -> etree._Element:
    """A SOAP 1.1 Fault body element; ``code`` is a local name in the SOAP envelope namespace
    (``Client`` or ``Server``), as the national platform and most journal systems send it."""
    fault = etree.Element(FAULT_TAG, nsmap={"soapenv": SOAP11_ENV})
    etree.SubElement(fault, "faultcode").text = f"soapenv:{code}"
    etree.SubElement(fault, "faultstring").text = string
    if detail is not None:
        etree.SubElement(etree.SubElement(fault, "detail"), "detailString").text = detail
    return fault


def envelope_bytes(body: etree._Element) -> bytes:
    """A response envelope (no header) around ``body``, as UTF-8 bytes."""
    envelope = etree.Element(qname(SOAP11_ENV, "Envelope"), nsmap={"soapenv": SOAP11_ENV})
    etree.SubElement(envelope, qname(SOAP11_ENV, "Body")).append(body)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
