"""Write ``ListCertificatesForCareWithQAResponse`` (schema 3.3), and the SOAP fault this contract refuses with.

The answer is a ``list`` with one ``item`` per certificate: ``intyg`` (``core:Intyg``, written by
``contracts.intyg`` exactly as a status update writes it, statuses and relation included),
``handelser`` (each event as ``core:Handelse``: code, time to the millisecond, a recipient
question's ``amne`` and ``sistaDatumForSvar``, and ``hanteratAv`` of core 3.4 for an event a user
caused), ``skickadeFragor`` and ``mottagnaFragor`` (``core:Arenden``, counted as status updates
count them) and ``ref`` when the journal system gave one at creation. An empty list is an empty
``list`` element, so a journal system can tell "nothing" from a missing answer.

The contract has no ResultType, so a request that cannot be answered gets a SOAP 1.1 fault: ``Client``
for a request to fix (the texts of ``domain.result_texts``), ``Server`` for a dependency that does
not answer or an internal error (try again later).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lxml import etree

from contracts.intyg import add_arenden, add_handelse, add_intyg, sub
from contracts.ns import CORE, EXT34, LIST_CERTIFICATES_V3, SOAP11_ENV, TYPES, qname
from domain.certificate_list import ListedCertificate
from domain.certificate_types import CertificateType

RESPONSE_TAG = qname(LIST_CERTIFICATES_V3, "ListCertificatesForCareWithQAResponse")
FAULT_TAG = qname(SOAP11_ENV, "Fault")
_NSMAP = {"lcq": LIST_CERTIFICATES_V3, "core": CORE, "types": TYPES, "ext34": EXT34}

#: The certificate's type for ``intyg/typ`` (its name and text version), by code and code system.
TypeLookup = Callable[[str, str], CertificateType | None]


def write_list(items: Sequence[ListedCertificate], type_of: TypeLookup) -> etree._Element:
    """The response with ``items`` in the order given (newest certificate first)."""
    response = etree.Element(RESPONSE_TAG, nsmap=_NSMAP)
    listing = _own(response, "list")
    for item in items:
        certificate = item.certificate
        entry = _own(listing, "item")
        add_intyg(_own(entry, "intyg"), certificate,
                  type_of(certificate.type_code, certificate.type_code_system), statuses=True)
        handelser = _own(entry, "handelser")
        for event in item.events:
            add_handelse(_own(handelser, "handelse"), event.code, event.at, event.amne, event.deadline,
                         event.handled_by)
        add_arenden(_own(entry, "skickadeFragor"), item.counts.sent_by_care)
        add_arenden(_own(entry, "mottagnaFragor"), item.counts.received)
        if certificate.ref is not None:
            _own(entry, "ref", certificate.ref)
    return response


def write_fault(text: str, *, client: bool) -> etree._Element:
    """A SOAP 1.1 ``Fault`` with ``faultcode`` ``soap:Client`` (fix the request) or ``soap:Server``."""
    fault = etree.Element(FAULT_TAG, nsmap={"soap": SOAP11_ENV})
    etree.SubElement(fault, "faultcode").text = "soap:Client" if client else "soap:Server"
    etree.SubElement(fault, "faultstring").text = text
    return fault


def _own(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    return sub(parent, LIST_CERTIFICATES_V3, name, text)
