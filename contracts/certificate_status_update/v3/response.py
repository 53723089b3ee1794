"""The journal system's answer to a status update: written by the simulator, read by the client.

An answer is either the contract's ``CertificateStatusUpdateForCareResponse`` with a ResultType, or
a SOAP 1.1 Fault (the national platform's VPnnn faults, or a journal system's own), or something
else entirely (an HTML error page, a proxy's text, another contract's answer). ``read_answer``
tells the three apart and returns typed values; ``domain.delivery`` classifies them.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from contracts.ns import CORE, SOAP11_ENV, STATUS_UPDATE_V3, qname
from contracts.results import add_result
from contracts.xmlread import UnreadableXml, envelope_parts, read_xml
from domain.values import ErrorId, ResultCode

RESPONSE_TAG = qname(STATUS_UPDATE_V3, "CertificateStatusUpdateForCareResponse")
FAULT_TAG = qname(SOAP11_ENV, "Fault")


@dataclass(frozen=True, slots=True)
class ContractAnswer:
    """The contract's answer: ``resultCode``, and for ERROR the ``errorId`` and ``resultText``."""

    result_code: ResultCode
    error_id: ErrorId | None
    text: str | None


@dataclass(frozen=True, slots=True)
class FaultAnswer:
    """A SOAP 1.1 fault; ``code`` is the faultcode in Clark notation (prefix resolved), if readable."""

    code: str | None
    string: str | None


@dataclass(frozen=True, slots=True)
class NotAnAnswer:
    """Bytes that are neither the contract's answer nor a SOAP fault; ``reason`` says what they are."""

    reason: str


Answer = ContractAnswer | FaultAnswer | NotAnAnswer


def read_answer(content: bytes) -> Answer:
    """Read an HTTP response body as the contract's answer, a fault, or neither. Never raises."""
    try:
        _, body = envelope_parts(read_xml(content))
    except UnreadableXml as unreadable:
        return NotAnAnswer(unreadable.reason)
    if body is None:
        return NotAnAnswer("the SOAP Body is empty")
    if body.tag == FAULT_TAG:
        return _fault(body)
    if body.tag != RESPONSE_TAG:
        return NotAnAnswer(f"the Body holds {body.tag}, not the contract's response")
    code = body.findtext(f"{{{STATUS_UPDATE_V3}}}result/{{{CORE}}}resultCode")
    error_id = body.findtext(f"{{{STATUS_UPDATE_V3}}}result/{{{CORE}}}errorId")
    text = body.findtext(f"{{{STATUS_UPDATE_V3}}}result/{{{CORE}}}resultText")
    if code not in ResultCode.__members__:
        return NotAnAnswer(f"resultCode {code!r} is not OK, INFO or ERROR")
    if error_id is not None and error_id not in ErrorId.__members__:
        return NotAnAnswer(f"errorId {error_id!r} is not one of the contract's error ids")
    return ContractAnswer(ResultCode(code), ErrorId(error_id) if error_id is not None else None, text)


def _fault(fault: etree._Element) -> FaultAnswer:
    """Resolve faultcode's prefix against the fault's own namespace declarations."""
    code_element = fault.find("faultcode")
    code: str | None = None
    if code_element is not None and code_element.text:
        prefix, _, local = code_element.text.strip().rpartition(":")
        namespace = code_element.nsmap.get(prefix or None)
        code = f"{{{namespace}}}{local}" if namespace else local
    return FaultAnswer(code, fault.findtext("faultstring"))


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
