"""Write ``ListCertificatesForCareWithQAResponse`` (schema 3.3), and the SOAP fault this contract refuses with.

The answer is a ``list`` with one ``item`` per certificate: ``intyg`` (``core:Intyg``, written by
``contracts.intyg`` exactly as a status update writes it, statuses and relation included),
``handelser`` (each event as ``core:Handelse``: code, time to the millisecond, a recipient
question's ``amne`` and ``sistaDatumForSvar``, and ``hanteratAv`` of core 3.4 for an event a user
caused), both copied from ``Rendered`` when unchanged, then ``skickadeFragor`` and
``mottagnaFragor`` (``core:Arenden``, counted as status updates count them) and ``ref`` when the
journal system gave one at creation. An empty list is an empty ``list`` element, so a journal
system can tell "nothing" from a missing answer.

The contract has no ResultType, so a request that cannot be answered gets a SOAP 1.1 fault: ``Client``
for a request to fix (the texts of ``domain.result_texts``), ``Server`` for a dependency that does
not answer or an internal error (try again later).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from copy import deepcopy

from lxml import etree

from contracts.intyg import add_arenden, add_handelse, add_intyg, sub
from contracts.ns import CORE, EXT34, LIST_CERTIFICATES_V3, SOAP11_ENV, TYPES, qname
from domain.certificate_list import HistoryEvent, ListedCertificate
from domain.certificate_types import CertificateType
from domain.certificates import Certificate
from usecases.certificate_list import Recent

RESPONSE_TAG = qname(LIST_CERTIFICATES_V3, "ListCertificatesForCareWithQAResponse")
FAULT_TAG = qname(SOAP11_ENV, "Fault")
_NSMAP = {"lcq": LIST_CERTIFICATES_V3, "core": CORE, "types": TYPES, "ext34": EXT34}

#: The certificate's type for ``intyg/typ`` (its name and text version), by code and code system.
TypeLookup = Callable[[str, str], CertificateType | None]


class Rendered:
    """The ``intyg`` and ``handelse`` elements this process wrote last, copied instead of written again.

    Writing 200 certificates with their content and 2,000 events element by element costs more than
    the rest of a request; copying a finished element is a single C call. An ``intyg`` is reused
    while the certificate's stamp (id, version, time of its last change) and its type's code, name
    and text version are the same, and a ``handelse`` for the same event: an event never changes.
    """

    def __init__(self, size: int) -> None:
        self.intyg: Recent[Hashable, etree._Element] = Recent(size)
        self.handelser: Recent[HistoryEvent, etree._Element] = Recent(size * HANDELSER_PER_CERTIFICATE)


#: How many events per certificate ``Rendered`` makes room for.
HANDELSER_PER_CERTIFICATE = 10


def write_list(items: Sequence[ListedCertificate], type_of: TypeLookup, rendered: Rendered) -> etree._Element:
    """The response with ``items`` in the order given (newest certificate first)."""
    response = etree.Element(RESPONSE_TAG, nsmap=_NSMAP)
    listing = _own(response, "list")
    for item in items:
        certificate = item.certificate
        entry = _own(listing, "item")
        entry.append(_intyg(certificate, type_of(certificate.type_code, certificate.type_code_system), rendered))
        handelser = _own(entry, "handelser")
        for event in item.events:
            handelser.append(_handelse(event, rendered))
        add_arenden(_own(entry, "skickadeFragor"), item.counts.sent_by_care)
        add_arenden(_own(entry, "mottagnaFragor"), item.counts.received)
        if certificate.ref is not None:
            _own(entry, "ref", certificate.ref)
    return response


def _intyg(certificate: Certificate, certificate_type: CertificateType | None, rendered: Rendered) -> etree._Element:
    """A copy of the certificate's ``intyg``, written by ``contracts.intyg`` as status updates write it."""
    written_as = None if certificate_type is None else (
        certificate_type.code, certificate_type.code_system, certificate_type.name, certificate_type.version)
    key = (certificate.id, certificate.version, certificate.updated_at, written_as)
    intyg = rendered.intyg.get(key)
    if intyg is None:
        intyg = etree.Element(qname(LIST_CERTIFICATES_V3, "intyg"), nsmap=_NSMAP)
        add_intyg(intyg, certificate, certificate_type, statuses=True)
        rendered.intyg.put(key, intyg)
    return deepcopy(intyg)


def _handelse(event: HistoryEvent, rendered: Rendered) -> etree._Element:
    """A copy of the event's ``handelse``."""
    handelse = rendered.handelser.get(event)
    if handelse is None:
        handelse = etree.Element(qname(LIST_CERTIFICATES_V3, "handelse"), nsmap=_NSMAP)
        add_handelse(handelse, event.code, event.at, event.amne, event.deadline, event.handled_by)
        rendered.handelser.put(event, handelse)
    return deepcopy(handelse)


def write_fault(text: str, *, client: bool) -> etree._Element:
    """A SOAP 1.1 ``Fault`` with ``faultcode`` ``soap:Client`` (fix the request) or ``soap:Server``."""
    fault = etree.Element(FAULT_TAG, nsmap={"soap": SOAP11_ENV})
    etree.SubElement(fault, "faultcode").text = "soap:Client" if client else "soap:Server"
    etree.SubElement(fault, "faultstring").text = text
    return fault


def _own(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    return sub(parent, LIST_CERTIFICATES_V3, name, text)
