"""``core:ResultType`` answers as the incumbent writes them (contracts.md §2.4).

OK carries only ``resultCode``; INFO adds ``resultText``; ERROR has ``resultCode``, ``resultText``
and ``errorId`` in that schema order. The children are in the core namespace whatever the
responder's namespace is.
"""

from __future__ import annotations

from lxml import etree

from contracts.ns import CORE, qname
from domain.values import ErrorId, ResultCode


def add_result(
    parent: etree._Element,
    tag: str,
    code: ResultCode,
    text: str | None = None,
    error_id: ErrorId | None = None,
) -> etree._Element:
    """Append a ResultType element named ``tag`` to ``parent`` and return it."""
    result = etree.SubElement(parent, tag)
    etree.SubElement(result, qname(CORE, "resultCode")).text = code.value
    if text is not None:
        etree.SubElement(result, qname(CORE, "resultText")).text = text
    if error_id is not None:
        etree.SubElement(result, qname(CORE, "errorId")).text = error_id.value
    return result


def result_response(
    response_tag: str, code: ResultCode, text: str | None = None, error_id: ErrorId | None = None
) -> etree._Element:
    """A contract's ``<Op>Response`` (``response_tag``, Clark notation) holding only its ``result``."""
    namespace = etree.QName(response_tag).namespace
    assert namespace is not None, "a contract's response element has a namespace"
    response = etree.Element(response_tag, nsmap={"r": namespace, "core": CORE})
    add_result(response, qname(namespace, "result"), code, text, error_id)
    return response
