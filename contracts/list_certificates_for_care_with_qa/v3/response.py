"""Write ``ListCertificatesForCareWithQAResponse`` (schema 3.3), and the SOAP fault this contract refuses with.

The answer is a ``list`` with one ``item`` per certificate: ``intyg`` (``core:Intyg``, written by
``contracts.intyg`` exactly as a status update writes it, statuses and relation included),
``handelser`` (each event as ``core:Handelse``: code, time to the millisecond, a recipient
question's ``amne`` and ``sistaDatumForSvar``, and ``hanteratAv`` of core 3.4 for an event a user
caused), both reused from ``Rendered`` when unchanged, then ``skickadeFragor`` and
``mottagnaFragor`` (``core:Arenden``, counted as status updates count them) and ``ref`` when the
journal system gave one at creation. An empty list is an empty ``list`` element, so a journal
system can tell "nothing" from a missing answer.

The contract has no ResultType, so a request that cannot be answered gets a SOAP 1.1 fault: ``Client``
for a request to fix (the texts of ``domain.result_texts``), ``Server`` for a dependency that does
not answer or an internal error (try again later).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache
from xml.sax.saxutils import escape

from lxml import etree

from contracts.call import WrittenAnswer
from contracts.intyg import add_arenden, add_handelse, add_intyg
from contracts.ns import CORE, EXT34, LIST_CERTIFICATES_V3, SOAP11_ENV, TYPES, qname
from domain.certificate_list import HistoryEvent, ListedCertificate
from domain.certificate_types import CertificateType
from domain.certificates import Certificate
from domain.question_counts import Counts
from usecases.certificate_list import Recent

RESPONSE_TAG = qname(LIST_CERTIFICATES_V3, "ListCertificatesForCareWithQAResponse")
FAULT_TAG = qname(SOAP11_ENV, "Fault")
_NSMAP = {"lcq": LIST_CERTIFICATES_V3, "core": CORE, "types": TYPES, "ext34": EXT34}

#: The certificate's type for ``intyg/typ`` (its name and text version), by code and code system.
TypeLookup = Callable[[str, str], CertificateType | None]


class Rendered:
    """The ``intyg`` and ``handelse`` elements this process wrote last, serialised, to reuse as they are.

    Writing 200 certificates with their content and 2,000 events element by element, and then
    serialising them, costs more than the rest of a request; joining pieces written before costs
    next to nothing. An ``intyg`` is reused while the certificate's stamp (id, version, time of its
    last change) and its type's code, name and text version are the same, and a ``handelse`` for
    the same event: an event never changes. Each piece is written by ``contracts.intyg`` (the
    writers status updates use) into an element declaring the response's namespaces, and kept
    without those declarations, which the response's root makes once for all of them.
    """

    def __init__(self, size: int) -> None:
        self.intyg: Recent[Hashable, bytes] = Recent(size)
        self.handelser: Recent[HistoryEvent, bytes] = Recent(size * HANDELSER_PER_CERTIFICATE)


#: How many events per certificate ``Rendered`` makes room for.
HANDELSER_PER_CERTIFICATE = 10


def _declarations() -> bytes:
    """`` xmlns:lcq="…" xmlns:core="…" …``: what an element made with ``_NSMAP`` declares, as lxml writes it."""
    written = etree.tostring(etree.Element(qname(LIST_CERTIFICATES_V3, "x"), nsmap=_NSMAP))
    return written[len(b"<lcq:x"):-len(b"/>")]


_DECLARATIONS = _declarations()
_START = b"<lcq:ListCertificatesForCareWithQAResponse" + _DECLARATIONS + b"><lcq:list>"
_END = b"</lcq:list></lcq:ListCertificatesForCareWithQAResponse>"


def write_list(items: Sequence[ListedCertificate], type_of: TypeLookup, rendered: Rendered) -> WrittenAnswer:
    """The response with ``items`` in the order given (newest certificate first), serialised."""
    parts = [_START]
    for item in items:
        certificate = item.certificate
        parts.append(b"<lcq:item>")
        parts.append(_intyg(certificate, type_of(certificate.type_code, certificate.type_code_system), rendered))
        parts.append(b"<lcq:handelser>")
        parts.extend(_handelse(event, rendered) for event in item.events)
        parts.append(b"</lcq:handelser>")
        parts.append(_arenden("skickadeFragor", item.counts.sent_by_care))
        parts.append(_arenden("mottagnaFragor", item.counts.received))
        if certificate.ref is not None:
            parts.append(b"<lcq:ref>" + escape(certificate.ref).encode() + b"</lcq:ref>")
        parts.append(b"</lcq:item>")
    parts.append(_END)
    return WrittenAnswer(b"".join(parts))


def _intyg(certificate: Certificate, certificate_type: CertificateType | None, rendered: Rendered) -> bytes:
    """The certificate's ``intyg``, written by ``contracts.intyg`` as status updates write it."""
    written_as = None if certificate_type is None else (
        certificate_type.code, certificate_type.code_system, certificate_type.name, certificate_type.version)
    key = (certificate.id, certificate.version, certificate.updated_at, written_as)
    intyg = rendered.intyg.get(key)
    if intyg is None:
        element = etree.Element(qname(LIST_CERTIFICATES_V3, "intyg"), nsmap=_NSMAP)
        add_intyg(element, certificate, certificate_type, statuses=True)
        intyg = _piece(element)
        rendered.intyg.put(key, intyg)
    return intyg


def _handelse(event: HistoryEvent, rendered: Rendered) -> bytes:
    """The event's ``handelse``."""
    handelse = rendered.handelser.get(event)
    if handelse is None:
        element = etree.Element(qname(LIST_CERTIFICATES_V3, "handelse"), nsmap=_NSMAP)
        add_handelse(element, event.code, event.at, event.amne, event.deadline, event.handled_by)
        handelse = _piece(element)
        rendered.handelser.put(event, handelse)
    return handelse


@lru_cache(maxsize=4096)
def _arenden(name: str, counts: Counts) -> bytes:
    """One block of question counts, written by ``contracts.intyg``; there are few distinct ones."""
    element = etree.Element(qname(LIST_CERTIFICATES_V3, name), nsmap=_NSMAP)
    add_arenden(element, counts)
    return _piece(element)


def _piece(element: etree._Element) -> bytes:
    """``element`` serialised without the declarations of ``_NSMAP`` on its start tag (the response's
    root makes them); anything it declares deeper down stays. Should lxml ever write the start tag
    otherwise, the piece keeps its declarations: larger, and as valid."""
    written: bytes = etree.tostring(element, encoding="UTF-8")
    start = f"<lcq:{etree.QName(element).localname}".encode()
    if not written.startswith(start + _DECLARATIONS):
        return written
    return start + written[len(start) + len(_DECLARATIONS):]


def write_fault(text: str, *, client: bool) -> etree._Element:
    """A SOAP 1.1 ``Fault`` with ``faultcode`` ``soap:Client`` (fix the request) or ``soap:Server``."""
    fault = etree.Element(FAULT_TAG, nsmap={"soap": SOAP11_ENV})
    etree.SubElement(fault, "faultcode").text = "soap:Client" if client else "soap:Server"
    etree.SubElement(fault, "faultstring").text = text
    return fault


