"""A producer's answer to a call we made, as typed values: the contract's ResultType, a fault, or neither.

An answer is either the contract's response element with a ResultType (``result``), or a SOAP 1.1
Fault (the national platform's VPnnn faults, or a journal system's own), or something else entirely
(an HTML error page, a proxy's text, another contract's answer). ``read_answer`` tells the three
apart for any contract whose response carries ``result`` as a ``core:ResultType``, and never raises;
``outbound.classify`` turns the values into an outcome class.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from lxml import etree

from contracts.errors import XmlRefused
from contracts.ns import CORE, SOAP11_ENV, qname
from contracts.xmlparse import envelope_parts, parse_xml
from domain.values import ErrorId, ResultCode

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


ProducerAnswer = ContractAnswer | FaultAnswer | NotAnAnswer


def read_answer(content: bytes, response_tag: str) -> ProducerAnswer:
    """Read an HTTP response body as the answer ``response_tag`` (Clark notation), a fault, or neither.

    A producer answers the same few bytes thousands of times in a row (its OK, its busy ERROR), so a
    short answer already read is not parsed again: the answers are immutable values, and the same
    bytes always read the same way.
    """
    if len(content) <= MEMO_MAX_BYTES:
        return _read_short(content, response_tag)
    return _read(content, response_tag)


#: Answers up to this size are remembered (``read_answer``); a contract's answer is a few hundred bytes.
MEMO_MAX_BYTES = 2048
#: How many distinct short answers are remembered, least recently read forgotten first.
MEMO_ANSWERS = 256


def _read(content: bytes, response_tag: str) -> ProducerAnswer:
    try:
        _, children = envelope_parts(parse_xml(content))
    except XmlRefused as unreadable:
        return NotAnAnswer(unreadable.reason)
    if not children:
        return NotAnAnswer("the SOAP Body is empty")
    body = children[0]
    if body.tag == FAULT_TAG:
        return _fault(body)
    if body.tag != response_tag:
        return NotAnAnswer(f"the Body holds {body.tag}, not the contract's response")
    result = f"{{{etree.QName(response_tag).namespace}}}result"
    code = body.findtext(f"{result}/{{{CORE}}}resultCode")
    error_id = body.findtext(f"{result}/{{{CORE}}}errorId")
    text = body.findtext(f"{result}/{{{CORE}}}resultText")
    if code is None or code not in ResultCode.__members__:
        return NotAnAnswer(f"resultCode {code!r} is not OK, INFO or ERROR")
    if error_id is not None and error_id not in ErrorId.__members__:
        return NotAnAnswer(f"errorId {error_id!r} is not one of the contract's error ids")
    return ContractAnswer(ResultCode(code), ErrorId(error_id) if error_id is not None else None, text)


_read_short = functools.lru_cache(maxsize=MEMO_ANSWERS)(_read)


def _fault(fault: etree._Element) -> FaultAnswer:
    """Resolve faultcode's prefix against the fault's own namespace declarations."""
    code_element = fault.find("faultcode")
    code: str | None = None
    if code_element is not None and code_element.text:
        prefix, _, local = code_element.text.strip().rpartition(":")
        namespace = code_element.nsmap.get(prefix or None)
        code = f"{{{namespace}}}{local}" if namespace else local
    return FaultAnswer(code, fault.findtext("faultstring"))


# --- the producer's side (the simulators) ------------------------------------------------------


def write_fault(code: str, string: str, detail: str | None = None) -> etree._Element:
    """A SOAP 1.1 Fault body element; ``code`` is a local name in the SOAP envelope namespace
    (``Client`` or ``Server``), as the national platform and most producers send it."""
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
