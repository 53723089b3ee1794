"""Write the CertificateStatusUpdateForCare 3.2 request as the incumbent fills it (contracts.md §7).

The request reports one event and carries the whole certificate as it is now, drafts included
(so ``signeringstidpunkt`` may be absent and the answers partial), the event (code, code system,
Swedish display name, local time to the millisecond; ``amne`` and ``sistaDatumForSvar`` only for
NYFRFM), the two question counts (zero for events that are not about questions), the journal
system's ``ref`` from CreateDraftCertificate, and the request-level ``csu32:hanteratAv`` when a user
caused the event.

The certificate is written by ``contracts.intyg`` (shared with RegisterCertificate): the
incumbent's fillings (placeholder workplace code, protected identity, local times) and the
revocation's reason code and description in our ``gw:makulering`` extension are described there.

Inputs are domain values only: ``Certificate``, the stored ``OutboxEvent`` (its ``payload`` holds
``amne``, ``sistaDatumForSvar`` and ``counts``, see ``PAYLOAD_*``) and the certificate type for
its name and text version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeAlias

from lxml import etree

from contracts.envelope import logical_address_of, request_envelope
from contracts.errors import WrongDocument
from contracts.intyg import XmlText, arenden_xml, handelse_xml, intyg_xml, scoped_start
from contracts.ns import (
    CORE,
    STATUS_UPDATE_V3,
    STATUS_UPDATE_V32,
    TYPES,
    qname,
)
from contracts.xmlparse import envelope_parts
from domain.arenden import Amne
from domain.certificate_types import CertificateType
from domain.certificates import Certificate
from domain.events import PAYLOAD_AMNE, PAYLOAD_LAST_ANSWER_DATE, RECIPIENT_EVENTS, OutboxEvent
from domain.question_counts import QuestionCounts, from_payload
from domain.values import HSA_ID_ROOT, EventCode

REQUEST_TAG = qname(STATUS_UPDATE_V3, "CertificateStatusUpdateForCare")
#: The binding's soapAction in our WSDL (a conformance test keeps the two equal).
SOAP_ACTION = f"{STATUS_UPDATE_V3}:CertificateStatusUpdateForCare"
#: The request body as built here (as text, or parsed); callers outside ``contracts`` pass it on without
#: looking inside.
StatusUpdateBody: TypeAlias = etree._Element | bytes

#: Payload key of the counts (NYFRFM's topic and answer deadline: ``domain.events.PAYLOAD_*``).
PAYLOAD_COUNTS = "counts"

#: Events whose counts are sent; every other event sends all four counts as zero (contracts.md §7.4).
COUNTED_EVENTS = frozenset({EventCode.NYFRFM, EventCode.NYSVFM, EventCode.NYFRFV, EventCode.HANFRFM,
                            EventCode.HANFRFV, EventCode.MAKULE})  # fmt: skip

_START = scoped_start("csu:CertificateStatusUpdateForCare", csu=STATUS_UPDATE_V3, csu32=STATUS_UPDATE_V32)
_END = b"</csu:CertificateStatusUpdateForCare>"


class StatusUpdateError(ValueError):
    """Raised when an event's payload cannot be written into the contract (a bug in whoever queued it)."""

    def __init__(self, event_code: EventCode, key: str, problem: str) -> None:
        self.event_code = event_code
        self.key = key
        self.problem = problem
        super().__init__(f"{event_code} payload[{key!r}]: {problem}")


def status_update_xml(
    certificate: Certificate,
    event: OutboxEvent,
    counts: QuestionCounts | None = None,
    *,
    certificate_type: CertificateType | None = None,
) -> bytes:
    """The ``csu:CertificateStatusUpdateForCare`` body for ``event`` on ``certificate``, written as text
    (as it is sent: ``status_update_envelope``).

    ``counts`` defaults to the event's ``payload["counts"]``; either way they are sent only for the
    question events and MAKULE. ``certificate_type`` gives ``typ``: the type's canonical code and
    code system (whatever pair the journal system created the draft with; a certificate stored
    before canonical pairs existed may hold another accepted pair), its name (``displayName``) and
    the text version. Without it the certificate's own pair is sent and the version is
    ``FALLBACK_TEXT_VERSION``.

    Raises ``StatusUpdateError`` when the payload cannot be written: an NYFRFM without a usable
    ``amne`` or with a ``sistaDatumForSvar`` that is not a date, or counts that are not integers.
    """
    if event.code not in COUNTED_EVENTS:
        counts = QuestionCounts()
    elif counts is None:
        counts = _payload_counts(event)
    tail = XmlText()
    if certificate.ref is not None:
        tail.value("csu:ref", certificate.ref)
    if event.acting_user is not None and event.code not in RECIPIENT_EVENTS:
        tail.identifier("csu32:hanteratAv", HSA_ID_ROOT, event.acting_user.value)
    return b"".join((
        _START, b"<csu:intyg>", intyg_xml(certificate, certificate_type, statuses=True),
        b"</csu:intyg><csu:handelse>", _event(event),
        b"</csu:handelse><csu:skickadeFragor>", arenden_xml(counts.sent_by_care),
        b"</csu:skickadeFragor><csu:mottagnaFragor>", arenden_xml(counts.received),
        b"</csu:mottagnaFragor>", tail.written(), _END,
    ))


def build_status_update(
    certificate: Certificate,
    event: OutboxEvent,
    counts: QuestionCounts | None = None,
    *,
    certificate_type: CertificateType | None = None,
) -> etree._Element:
    """``status_update_xml`` as an element (for whoever reads the message: tests, simulators)."""
    return etree.fromstring(status_update_xml(certificate, event, counts, certificate_type=certificate_type))


def status_update_envelope(logical_address: str, body: StatusUpdateBody) -> bytes:
    """The request as posted: ``contracts.envelope.request_envelope`` around ``body`` (left as it was)."""
    return request_envelope(logical_address, body)


# --- handelse and counts -----------------------------------------------------------------------


def _event(event: OutboxEvent) -> bytes:
    if event.code is not EventCode.NYFRFM:
        return handelse_xml(event.code, event.occurred_at)
    return handelse_xml(event.code, event.occurred_at, _amne(event), _deadline(event))


def _amne(event: OutboxEvent) -> Amne:
    value: Any = event.payload.get(PAYLOAD_AMNE)
    try:
        return Amne(value)
    except ValueError:
        raise StatusUpdateError(event.code, PAYLOAD_AMNE, f"{value!r} is not an ämne code") from None


def _deadline(event: OutboxEvent) -> date | None:
    value: Any = event.payload.get(PAYLOAD_LAST_ANSWER_DATE)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise StatusUpdateError(event.code, PAYLOAD_LAST_ANSWER_DATE, f"{value!r} is not a date") from None


def _payload_counts(event: OutboxEvent) -> QuestionCounts:
    try:
        return from_payload(event.payload.get(PAYLOAD_COUNTS))
    except (TypeError, AttributeError):
        raise StatusUpdateError(event.code, PAYLOAD_COUNTS, "not four integer counts per block") from None




# --- reading (the journal simulator's side) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceivedStatusUpdate:
    """What a receiver needs to tell status updates apart: address, certificate, event and its time."""

    logical_address: str | None
    certificate_id: str | None
    event_code: str | None
    event_time: str | None


def read_received(envelope: etree._Element) -> ReceivedStatusUpdate:
    """Read the routing and identifying fields of a request envelope; absent fields read as None.

    Raises ``NotSoap`` when ``envelope`` is not a SOAP envelope, ``WrongDocument`` when its body is not
    this request.
    """
    return read_received_parts(*envelope_parts(envelope))


def read_received_parts(headers: Sequence[etree._Element], children: Sequence[etree._Element]) -> ReceivedStatusUpdate:
    """``read_received`` for an envelope already split (``envelope_parts``): a receiver that also
    validates the parts splits it once.

    Raises ``WrongDocument`` when the body is not this request.
    """
    body = children[0] if children else None
    if body is None or body.tag != REQUEST_TAG:
        raise WrongDocument("the Body does not hold a CertificateStatusUpdateForCare request")
    return ReceivedStatusUpdate(
        logical_address=logical_address_of(headers),
        certificate_id=_text_of(_CERTIFICATE_ID, body),
        event_code=_text_of(_EVENT_CODE, body),
        event_time=_text_of(_EVENT_TIME, body),
    )


# Compiled once: a simulator reads these from every request of a drain, and a compiled XPath finds an
# element in about a third of the time ``findtext`` takes to look its path up (issue 14).
_PATHS = {"c": CORE, "t": TYPES, "csu": STATUS_UPDATE_V3}
_CERTIFICATE_ID = etree.XPath("csu:intyg/c:intygs-id/t:extension", namespaces=_PATHS)
_EVENT_CODE = etree.XPath("csu:handelse/c:handelsekod/t:code", namespaces=_PATHS)
_EVENT_TIME = etree.XPath("csu:handelse/c:tidpunkt", namespaces=_PATHS)


def _text_of(path: etree.XPath, body: etree._Element) -> str | None:
    """The text of the first element ``path`` finds ("" when empty), or None when there is none."""
    found = path(body)
    first = found[0] if isinstance(found, list) and found else None
    return (first.text or "") if isinstance(first, etree._Element) else None
