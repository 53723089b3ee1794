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
from contracts.intyg import arenden_xml, handelse_xml, intyg_xml, scoped_start
from contracts.ns import LIST_CERTIFICATES_V3, SOAP11_ENV, qname
from domain.certificate_list import HistoryEvent, ListedCertificate
from domain.certificate_types import CertificateType
from domain.certificates import Certificate
from domain.question_counts import Counts
from usecases.certificate_list import Recent

RESPONSE_TAG = qname(LIST_CERTIFICATES_V3, "ListCertificatesForCareWithQAResponse")
FAULT_TAG = qname(SOAP11_ENV, "Fault")

#: The certificate's type for ``intyg/typ`` (its name and text version), by code and code system.
TypeLookup = Callable[[str, str], CertificateType | None]


class Rendered:
    """The ``intyg`` and ``handelse`` pieces this process wrote last, to reuse as they are.

    Joining pieces written before costs next to nothing beside writing 200 certificates with their
    content and 2,000 events. An ``intyg`` is reused while the certificate's stamp (id, version,
    time of its last change) and its type's code, name and text version are the same, and a
    certificate's ``handelser`` for the same events: an event never changes. The events are kept as
    one piece per certificate, not one per event, so that a first call for a patient (nothing to
    reuse) makes one entry per certificate rather than ten. Each piece is written by
    ``contracts.intyg`` (the writer status updates use) in its ``SCOPE``, which the response's root
    declares once for all of them.
    """

    def __init__(self, size: int) -> None:
        self.intyg: Recent[Hashable, bytes] = Recent(size)
        self.handelser: Recent[_Events, bytes] = Recent(size)


class _Events:
    """A certificate's events as the key of its written ``handelser``, hashed by its first and last
    event and their number: the events a list shows are a run of the certificate's history (rows are
    only added), which those three tell apart, and hashing all ten of a certificate's events, once to
    look the piece up and again to keep it, cost a tenth of writing a first call's list. Equality
    still compares every event."""

    __slots__ = ("events", "_hash")

    def __init__(self, events: tuple[HistoryEvent, ...]) -> None:
        self.events = events
        self._hash = hash((len(events), events[0], events[-1])) if events else 0

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Events) and self.events == other.events

_START = scoped_start("lcq:ListCertificatesForCareWithQAResponse", lcq=LIST_CERTIFICATES_V3) + b"<lcq:list>"
_END = b"</lcq:list></lcq:ListCertificatesForCareWithQAResponse>"


def write_list(items: Sequence[ListedCertificate], type_of: TypeLookup, rendered: Rendered) -> WrittenAnswer:
    """The response with ``items`` in the order given (newest certificate first), serialised."""
    parts = [_START]
    for item in items:
        certificate = item.certificate
        parts.append(b"<lcq:item><lcq:intyg>")
        parts.append(_intyg(certificate, type_of(certificate.type_code, certificate.type_code_system), rendered))
        parts.append(b"</lcq:intyg>")
        parts.append(_handelser(item.events, rendered))
        parts.append(_arenden("skickadeFragor", item.counts.sent_by_care))
        parts.append(_arenden("mottagnaFragor", item.counts.received))
        if certificate.ref is not None:
            parts.append(b"<lcq:ref>" + escape(certificate.ref).encode() + b"</lcq:ref>")
        parts.append(b"</lcq:item>")
    parts.append(_END)
    return WrittenAnswer(b"".join(parts))


def _intyg(certificate: Certificate, certificate_type: CertificateType | None, rendered: Rendered) -> bytes:
    """The certificate's ``intyg`` content, written by ``contracts.intyg`` as status updates write it."""
    written_as = None if certificate_type is None else (
        certificate_type.code, certificate_type.code_system, certificate_type.name, certificate_type.version)
    key = (certificate.id, certificate.version, certificate.updated_at, written_as)
    intyg = rendered.intyg.get(key)
    if intyg is None:
        intyg = intyg_xml(certificate, certificate_type, statuses=True)
        rendered.intyg.put(key, intyg)
    return intyg


def _handelser(events: tuple[HistoryEvent, ...], rendered: Rendered) -> bytes:
    """A certificate's ``handelser``: one ``handelse`` per event, in the order given."""
    key = _Events(events)
    handelser = rendered.handelser.get(key)
    if handelser is None:
        handelser = b"<lcq:handelser>" + b"".join(
            b"<lcq:handelse>" + handelse_xml(event.code, event.at, event.amne, event.deadline, event.handled_by)
            + b"</lcq:handelse>"
            for event in events
        ) + b"</lcq:handelser>"
        rendered.handelser.put(key, handelser)
    return handelser


@lru_cache(maxsize=4096)
def _arenden(name: str, counts: Counts) -> bytes:
    """One block of question counts, written by ``contracts.intyg``; there are few distinct ones."""
    return f"<lcq:{name}>".encode() + arenden_xml(counts) + f"</lcq:{name}>".encode()


def write_fault(text: str, *, client: bool) -> etree._Element:
    """A SOAP 1.1 ``Fault`` with ``faultcode`` ``soap:Client`` (fix the request) or ``soap:Server``."""
    fault = etree.Element(FAULT_TAG, nsmap={"soap": SOAP11_ENV})
    etree.SubElement(fault, "faultcode").text = "soap:Client" if client else "soap:Server"
    etree.SubElement(fault, "faultstring").text = text
    return fault


