"""Write ``CreateDraftCertificateResponse`` elements (contracts.md §3.2).

Success carries ``intygs-id`` (root = the care unit's HSA-id as sent, extension = the new id) and an
OK result; a refusal omits ``intygs-id`` and carries ERROR with ``errorId`` and ``resultText``.
"""

from __future__ import annotations

from lxml import etree

from contracts.ns import CREATE_DRAFT_V3, TYPES, qname
from contracts.results import add_result
from domain.values import ErrorId, ResultCode

RESPONSE_TAG = qname(CREATE_DRAFT_V3, "CreateDraftCertificateResponse")


def _response() -> etree._Element:
    return etree.Element(RESPONSE_TAG, nsmap={"cdc": CREATE_DRAFT_V3})


def write_created(unit_hsa_id: str, certificate_id: str) -> etree._Element:
    """The OK answer for a new draft."""
    response = _response()
    intygs_id = etree.SubElement(response, qname(CREATE_DRAFT_V3, "intygs-id"))
    etree.SubElement(intygs_id, qname(TYPES, "root")).text = unit_hsa_id
    etree.SubElement(intygs_id, qname(TYPES, "extension")).text = certificate_id
    add_result(response, qname(CREATE_DRAFT_V3, "result"), ResultCode.OK)
    return response


def write_error(error_id: ErrorId, text: str) -> etree._Element:
    """The ERROR answer: nothing was created."""
    response = _response()
    add_result(response, qname(CREATE_DRAFT_V3, "result"), ResultCode.ERROR, text, error_id)
    return response
