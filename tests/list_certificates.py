"""Build ListCertificatesForCareWithQA v3 requests for tests, and read the answers.

The namespaces are spelled out here, not imported from the production code, so the tests state the
wire format on their own (as ``tests.envelopes`` does for the other contracts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from tests.envelopes import (
    CORE_NS,
    DEFAULT_LOGICAL_ADDRESS,
    DEFAULT_PERSON_ID,
    DEFAULT_UNIT_HSA_ID,
    EXT34_NS,
    HSA_ID_ROOT,
    LCQ_NS,
    PERSONNUMMER_ROOT,
    TYPES_NS,
    logical_address_header,
    soap_envelope,
)

LIST_PATH = "/clinicalprocess/healthcond/certificate/ListCertificatesForCareWithQA/3/rivtabp21"
INCUMBENT_PATHS = ("/services/list-certificates-for-care-with-qa/v3.0", "/list-certificates-for-care-with-qa/v3.0")
NS = {"lcq": LCQ_NS, "core": CORE_NS, "types": TYPES_NS, "ext34": EXT34_NS,
      "soap": "http://schemas.xmlsoap.org/soap/envelope/"}


def _identifier(parent: etree._Element, name: str, root: str, extension: str) -> None:
    holder = etree.SubElement(parent, f"{{{LCQ_NS}}}{name}")
    etree.SubElement(holder, f"{{{TYPES_NS}}}root").text = root
    etree.SubElement(holder, f"{{{TYPES_NS}}}extension").text = extension


def list_body(
    *,
    person_id: str = DEFAULT_PERSON_ID,
    person_id_root: str = PERSONNUMMER_ROOT,
    units: Sequence[str] = (DEFAULT_UNIT_HSA_ID,),
    care_giver: str | None = None,
    from_time: str | None = None,
    to_time: str | None = None,
) -> etree._Element:
    """The request element; times as the wire has them (``2026-12-01T08:00:00``, Swedish local time)."""
    body = etree.Element(f"{{{LCQ_NS}}}ListCertificatesForCareWithQA",
                         nsmap={"lcq": LCQ_NS, "types": TYPES_NS})
    _identifier(body, "person-id", person_id_root, person_id)
    for unit in units:
        _identifier(body, "enhets-id", HSA_ID_ROOT, unit)
    if care_giver is not None:
        _identifier(body, "vardgivar-id", HSA_ID_ROOT, care_giver)
    if from_time is not None:
        etree.SubElement(body, f"{{{LCQ_NS}}}fromTidpunkt").text = from_time
    if to_time is not None:
        etree.SubElement(body, f"{{{LCQ_NS}}}tomTidpunkt").text = to_time
    return body


def list_envelope(*, logical_address: str | None = DEFAULT_LOGICAL_ADDRESS, **overrides: object) -> bytes:
    """A complete SOAP 1.1 request; ``overrides`` go to :func:`list_body`."""
    headers = [] if logical_address is None else [logical_address_header(logical_address)]
    return soap_envelope(list_body(**overrides), headers=headers)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Item:
    """One listed certificate as a journal system reads it."""

    certificate_id: str
    events: list[tuple[str, str]]  # (handelsekod, tidpunkt)
    handled_by: list[str | None]
    amne: list[str | None]
    sent: tuple[int, int, int, int]  # skickadeFragor: totalt, ejBesvarade, besvarade, hanterade
    received: tuple[int, int, int, int]
    ref: str | None


def read_items(envelope: etree._Element) -> list[Item]:
    """The items of a response envelope, in order."""
    response = envelope.find("soap:Body/lcq:ListCertificatesForCareWithQAResponse", NS)
    assert response is not None, etree.tostring(envelope)
    items = []
    for item in response.iterfind("lcq:list/lcq:item", NS):
        handelser = item.findall("lcq:handelser/lcq:handelse", NS)
        items.append(Item(
            certificate_id=item.findtext("lcq:intyg/core:intygs-id/types:extension", namespaces=NS) or "",
            events=[(h.findtext("core:handelsekod/types:code", namespaces=NS) or "",
                     h.findtext("core:tidpunkt", namespaces=NS) or "") for h in handelser],
            handled_by=[h.findtext("ext34:hanteratAv/types:extension", namespaces=NS) for h in handelser],
            amne=[h.findtext("core:amne/types:code", namespaces=NS) for h in handelser],
            sent=_counts(item, "skickadeFragor"),
            received=_counts(item, "mottagnaFragor"),
            ref=item.findtext("lcq:ref", namespaces=NS),
        ))
    return items


def _counts(item: etree._Element, name: str) -> tuple[int, int, int, int]:
    block = item.find(f"lcq:{name}", NS)
    assert block is not None
    values = [int(block.findtext(f"core:{field}", namespaces=NS) or "-1")
              for field in ("totalt", "ejBesvarade", "besvarade", "hanterade")]
    return values[0], values[1], values[2], values[3]


def fault_of(envelope: etree._Element) -> tuple[str, str] | None:
    """``(faultcode, faultstring)`` of a fault answer, None for any other answer."""
    fault = envelope.find("soap:Body/soap:Fault", NS)
    if fault is None:
        return None
    return fault.findtext("faultcode") or "", fault.findtext("faultstring") or ""
