"""Write the CertificateStatusUpdateForCare 3.2 request as the incumbent fills it (contracts.md §7).

The request reports one event and carries the whole certificate as it is now, drafts included
(so ``signeringstidpunkt`` may be absent and the answers partial), the event (code, code system,
Swedish display name, local time to the millisecond; ``amne`` and ``sistaDatumForSvar`` only for
NYFRFM), the two question counts (zero for events that are not about questions), the journal
system's ``ref`` from CreateDraftCertificate, and the request-level ``csu32:hanteratAv`` when a user
caused the event.

A revoked certificate's CANCEL status carries the revocation's reason code and description in our
extension ``gw:makulering`` (``contracts.ns.GATEWAY_EXT``) at the status's ``##other`` lax position,
which a receiver that does not know it skips (``docs/lifecycle.md``).

Filled as the incumbent does: a missing arbetsplatskod becomes ``TEMPORARY ARBETSPLATSKOD``, empty
optional strings are left out (``epost``), required strings the directory lacks are sent empty, and
a patient with protected identity (sekretessmarkering) is sent as ``efternamn`` "Skyddade
personuppgifter" with every other name and address field empty. Times are Swedish local time
without zone, as the contract's timestamp types require.

Inputs are domain values only: ``Certificate``, the stored ``OutboxEvent`` (its ``payload`` holds
``amne``, ``sistaDatumForSvar`` and ``counts``, see ``PAYLOAD_*``) and the certificate type for
its name and text version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias
from xml.sax.saxutils import escape

from lxml import etree

from contracts.errors import WrongDocument
from contracts.ns import (
    CORE,
    GATEWAY_EXT,
    REGISTRY,
    SOAP11_ENV,
    STATUS_UPDATE_V3,
    STATUS_UPDATE_V32,
    TYPES,
    qname,
)
from contracts.xmlparse import envelope_parts, read_fragment
from domain.arenden import AMNE_NAMES, Amne
from domain.certificate_types import CertificateType
from domain.certificates import Answer, Certificate
from domain.directory import Person
from domain.events import OutboxEvent
from domain.question_counts import Counts, QuestionCounts, from_payload
from domain.values import (
    ARBETSPLATSKOD_ROOT,
    HSA_ID_ROOT,
    KV_HANDELSE,
    SWEDISH_TIME,
    CertificateStatus,
    EventCode,
    HsaId,
)

REQUEST_TAG = qname(STATUS_UPDATE_V3, "CertificateStatusUpdateForCare")
#: The binding's soapAction in our WSDL (a conformance test keeps the two equal).
SOAP_ACTION = f"{STATUS_UPDATE_V3}:CertificateStatusUpdateForCare"
#: The request body as built here; callers outside ``contracts`` pass it on without looking inside.
StatusUpdateBody: TypeAlias = etree._Element

#: Payload keys the builder reads from an event (NYFRFM's topic and answer deadline, the counts).
PAYLOAD_AMNE = "amne"
PAYLOAD_LAST_ANSWER_DATE = "sistaDatumForSvar"
PAYLOAD_COUNTS = "counts"

#: KV_HANDELSE display names, in Swedish as the incumbent sends them.
EVENT_NAMES: dict[EventCode, str] = {
    EventCode.SKAPAT: "Intygsutkast skapas",
    EventCode.ANDRAT: "Intygsutkast ändrat",
    EventCode.KFSIGN: "Intygsutkast klart för signering",
    EventCode.SIGNAT: "Intyg signerat",
    EventCode.SKICKA: "Intyg skickat till mottagare",
    EventCode.RADERA: "Intygsutkast raderat",
    EventCode.MAKULE: "Intyg eller intygsutkast makulerat",
    EventCode.NYFRFM: "Ny fråga från mottagare",
    EventCode.NYSVFM: "Nytt svar från mottagare",
    EventCode.NYFRFV: "Ny fråga från vården",
    EventCode.HANFRFM: "Hanterad fråga från mottagare",
    EventCode.HANFRFV: "Hanterad fråga från vården",
}
#: Events whose counts are sent; every other event sends all four counts as zero (contracts.md §7.4).
COUNTED_EVENTS = frozenset({EventCode.NYFRFM, EventCode.NYSVFM, EventCode.NYFRFV, EventCode.HANFRFM,
                            EventCode.HANFRFV, EventCode.MAKULE})  # fmt: skip
#: Events the recipient caused (a question or answer arrived): no user of ours handled them.
RECIPIENT_EVENTS = frozenset({EventCode.NYFRFM, EventCode.NYSVFM})

PROTECTED_FAMILY_NAME = "Skyddade personuppgifter"
TEMPORARY_WORKPLACE_CODE = "TEMPORARY ARBETSPLATSKOD"
#: Text version sent when the certificate type is unknown (a type dropped from the registry).
FALLBACK_TEXT_VERSION = "1.0"

KV_PART = "769bb12b-bd9f-4203-a5cd-fd14f2eb3b80"
KV_STATUS = "9871cd17-8755-4ed9-b894-ff3729e775a4"
KV_RELATION = "c2362fcd-eda0-4f9a-bd13-b3bbaf7f2146"
KV_AMNE = "ffa59d8f-8d7e-46ae-ac9e-31804e8e8499"
BEFATTNING = "1.2.752.129.2.2.1.4"
CARE_PART = "HSVARD"  # the part that revokes: care itself

_NSMAP = {"csu": STATUS_UPDATE_V3, "csu32": STATUS_UPDATE_V32, "core": CORE, "types": TYPES}


class StatusUpdateError(ValueError):
    """Raised when an event's payload cannot be written into the contract (a bug in whoever queued it)."""

    def __init__(self, event_code: EventCode, key: str, problem: str) -> None:
        self.event_code = event_code
        self.key = key
        self.problem = problem
        super().__init__(f"{event_code} payload[{key!r}]: {problem}")


def build_status_update(
    certificate: Certificate,
    event: OutboxEvent,
    counts: QuestionCounts | None = None,
    *,
    certificate_type: CertificateType | None = None,
) -> StatusUpdateBody:
    """Return the ``csu:CertificateStatusUpdateForCare`` body element for ``event`` on ``certificate``.

    ``counts`` defaults to the event's ``payload["counts"]``; either way they are sent only for the
    question events and MAKULE. ``certificate_type`` gives ``typ``: the type's canonical code and
    code system (whatever pair the journal system created the draft with; a certificate stored
    before canonical pairs existed may hold another accepted pair), its name (``displayName``) and
    the text version. Without it the certificate's own pair is sent and the version is
    ``FALLBACK_TEXT_VERSION``.

    Raises ``StatusUpdateError`` when the payload cannot be written: an NYFRFM without a usable
    ``amne`` or with a ``sistaDatumForSvar`` that is not a date, or counts that are not integers.
    """
    request = etree.Element(REQUEST_TAG, nsmap=_NSMAP)
    _add_certificate(_sub(request, STATUS_UPDATE_V3, "intyg"), certificate, certificate_type)
    _add_event(_sub(request, STATUS_UPDATE_V3, "handelse"), event)
    if event.code not in COUNTED_EVENTS:
        counts = QuestionCounts()
    elif counts is None:
        counts = _payload_counts(event)
    _add_counts(_sub(request, STATUS_UPDATE_V3, "skickadeFragor"), counts.sent_by_care)
    _add_counts(_sub(request, STATUS_UPDATE_V3, "mottagnaFragor"), counts.received)
    if certificate.ref is not None:
        _sub(request, STATUS_UPDATE_V3, "ref", certificate.ref)
    if event.acting_user is not None and event.code not in RECIPIENT_EVENTS:
        _hsa_id(request, STATUS_UPDATE_V32, "hanteratAv", event.acting_user)
    return request


def status_update_envelope(logical_address: str, body: StatusUpdateBody) -> bytes:
    """The request as posted: a SOAP 1.1 envelope with the ``LogicalAddress`` header (RIVTA BP 2.1)
    around ``body``, UTF-8 with an XML declaration.

    Written around the serialised body rather than built as one tree: appending a body to a new
    envelope element makes libxml2 reconcile the namespaces of the whole body, which cost as much as
    serialising it, on every status update sent. ``body`` is left as it was.
    """
    return b"".join((
        _ENVELOPE_START, escape(logical_address).encode("utf-8"), _ENVELOPE_MIDDLE,
        etree.tostring(body, encoding="utf-8"), _ENVELOPE_END,
    ))


_ENVELOPE_START = (
    f"<?xml version='1.0' encoding='utf-8'?>\n<soapenv:Envelope xmlns:soapenv=\"{SOAP11_ENV}\">"
    f"<soapenv:Header><itr:LogicalAddress xmlns:itr=\"{REGISTRY}\">"
).encode()
_ENVELOPE_MIDDLE = b"</itr:LogicalAddress></soapenv:Header><soapenv:Body>"
_ENVELOPE_END = b"</soapenv:Body></soapenv:Envelope>"


def local_time(moment: datetime, *, milliseconds: bool = False) -> str:
    """A UTC (aware) time as Swedish local time without zone: ``2026-03-29T03:00:00[.123]``."""
    local = moment.astimezone(SWEDISH_TIME)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{local.microsecond // 1000:03d}" if milliseconds else text


# --- intyg -------------------------------------------------------------------------------------


def _add_certificate(intyg: etree._Element, c: Certificate, certificate_type: CertificateType | None) -> None:
    _identifier(intyg, "intygs-id", c.unit_id.value, c.id)
    if certificate_type is None:
        _code(intyg, "typ", c.type_code, c.type_code_system, None)
        _core(intyg, "version", FALLBACK_TEXT_VERSION)
    else:
        _code(intyg, "typ", certificate_type.code, certificate_type.code_system, certificate_type.name)
        _core(intyg, "version", certificate_type.version)
    if c.signed_at is not None:
        _core(intyg, "signeringstidpunkt", local_time(c.signed_at))
    if c.sent_at is not None:
        _core(intyg, "skickatTidpunkt", local_time(c.sent_at))
    _add_patient(_core(intyg, "patient"), c.patient)
    _add_issuer(_core(intyg, "skapadAv"), c)
    if c.copied_from is not None:
        relation = _core(intyg, "relation")
        _code(relation, "typ", "KOPIA", KV_RELATION)
        _identifier(relation, "intygs-id", c.unit_id.value, c.copied_from)
    if c.sent_at is not None and c.sent_to is not None:
        _add_status(intyg, c.sent_to, "SENTTO", c.sent_at)
    if c.status is CertificateStatus.REVOKED and c.revoked_at is not None:
        _add_revocation(_add_status(intyg, CARE_PART, "CANCEL", c.revoked_at), c)
    for answer in c.content:
        _add_answer(intyg, answer)


def _add_patient(patient: etree._Element, person: Person) -> None:
    _identifier(patient, "person-id", person.person_id.kind.value, person.person_id.digits)
    middle: str | None
    address: str | None
    code: str | None
    city: str | None
    if person.protected_identity:
        # Nothing that could locate the person leaves the gateway; the schema still wants the fields.
        given, middle, family, address, code, city = "", None, PROTECTED_FAMILY_NAME, "", "", ""
    else:
        given, middle, family = person.given_name, person.middle_name, person.family_name
        address, code, city = person.postal_address, person.postal_code, person.city
    _core(patient, "fornamn", given)
    _core(patient, "efternamn", family)
    if middle:
        _core(patient, "mellannamn", middle)
    _core(patient, "postadress", address or "")
    _core(patient, "postnummer", code or "")
    _core(patient, "postort", city or "")


def _add_issuer(skapad_av: etree._Element, c: Certificate) -> None:
    """The responsible user: the signer once signed, the creator before.

    The directory data (prescriber code, positions) is the creator's, so it is sent only when the
    creator is also the signer.
    """
    creator = c.created_by
    signer = c.signed_by if c.signed_by is not None else creator.hsa_id
    own_data = signer == creator.hsa_id
    _hsa_id(skapad_av, CORE, "personal-id", signer)
    _core(skapad_av, "fullstandigtNamn", c.signed_by_name or (creator.name if own_data else ""))
    if own_data and creator.prescriber_code:
        _core(skapad_av, "forskrivarkod", creator.prescriber_code)
    for position in creator.position_codes if own_data else ():
        _code(skapad_av, "befattning", position, BEFATTNING)
    unit = c.unit
    enhet = _core(skapad_av, "enhet")
    _hsa_id(enhet, CORE, "enhets-id", unit.hsa_id)
    _identifier(enhet, "arbetsplatskod", ARBETSPLATSKOD_ROOT, unit.arbetsplatskod or TEMPORARY_WORKPLACE_CODE)
    _core(enhet, "enhetsnamn", unit.name)
    _core(enhet, "postadress", unit.postal_address or "")
    _core(enhet, "postnummer", unit.postal_code or "")
    _core(enhet, "postort", unit.city or "")
    _core(enhet, "telefonnummer", unit.phone or "")
    if unit.email:
        _core(enhet, "epost", unit.email)
    vardgivare = _core(enhet, "vardgivare")
    _hsa_id(vardgivare, CORE, "vardgivare-id", c.care_giver.hsa_id)
    _core(vardgivare, "vardgivarnamn", c.care_giver.name)


def _add_status(intyg: etree._Element, part: str, status: str, at: datetime) -> etree._Element:
    holder = _core(intyg, "status")
    _code(holder, "part", part, KV_PART)
    _code(holder, "status", status, KV_STATUS)
    _core(holder, "tidpunkt", local_time(at))
    return holder


def _add_revocation(status: etree._Element, c: Certificate) -> None:
    """The revocation's reason inside the CANCEL status, at its ``##other`` (lax) position.

    ``gw:makulering`` holds ``gw:orsak`` (FEL_PATIENT or ANNAT_ALLVARLIGT_FEL) and, when given,
    ``gw:beskrivning``. Revocations from before reason codes (migration 0009) have only the
    description; a revocation with neither writes nothing.
    """
    if c.revoke_reason_code is None and not c.revoke_reason:
        return
    holder = etree.SubElement(status, qname(GATEWAY_EXT, "makulering"), nsmap={"gw": GATEWAY_EXT})
    if c.revoke_reason_code is not None:
        etree.SubElement(holder, qname(GATEWAY_EXT, "orsak")).text = c.revoke_reason_code.value
    if c.revoke_reason:
        etree.SubElement(holder, qname(GATEWAY_EXT, "beskrivning")).text = c.revoke_reason


def _add_answer(intyg: etree._Element, answer: Answer) -> None:
    svar = _core(intyg, "svar")
    svar.set("id", answer.id)
    if answer.instance is not None:
        _core(svar, "instans", str(answer.instance))
    for part in answer.parts:
        delsvar = _core(svar, "delsvar", part.value)
        delsvar.set("id", part.id)
        if part.xml:
            for child in read_fragment(part.xml):
                delsvar.append(child)


# --- handelse and counts -----------------------------------------------------------------------


def _add_event(handelse: etree._Element, event: OutboxEvent) -> None:
    _code(handelse, "handelsekod", event.code.value, KV_HANDELSE, EVENT_NAMES[event.code])
    _core(handelse, "tidpunkt", local_time(event.occurred_at, milliseconds=True))
    if event.code is not EventCode.NYFRFM:
        return
    amne = _amne(event)
    _code(handelse, "amne", amne.value, KV_AMNE, AMNE_NAMES[amne])
    deadline = _deadline(event)
    if deadline is not None:
        _core(handelse, "sistaDatumForSvar", deadline.isoformat())


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


def _add_counts(arenden: etree._Element, counts: Counts) -> None:
    for name, value in (("totalt", counts.total), ("ejBesvarade", counts.unanswered),
                        ("besvarade", counts.answered), ("hanterade", counts.handled)):  # fmt: skip
        _core(arenden, name, str(value))


# --- small writers -----------------------------------------------------------------------------


def _sub(parent: etree._Element, namespace: str, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, qname(namespace, name))
    if text is not None:
        child.text = text
    return child


def _core(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    return _sub(parent, CORE, name, text)


def _identifier(parent: etree._Element, name: str, root: str, extension: str) -> None:
    holder = _core(parent, name)
    _sub(holder, TYPES, "root", root)
    _sub(holder, TYPES, "extension", extension)


def _hsa_id(parent: etree._Element, namespace: str, name: str, hsa_id: HsaId) -> None:
    holder = _sub(parent, namespace, name)
    _sub(holder, TYPES, "root", HSA_ID_ROOT)
    _sub(holder, TYPES, "extension", hsa_id.value)


def _code(parent: etree._Element, name: str, code: str, system: str, display: str | None = None) -> None:
    holder = _core(parent, name)
    _sub(holder, TYPES, "code", code)
    _sub(holder, TYPES, "codeSystem", system)
    if display is not None:
        _sub(holder, TYPES, "displayName", display)



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
    headers, children = envelope_parts(envelope)
    body = children[0] if children else None
    if body is None or body.tag != REQUEST_TAG:
        raise WrongDocument("the Body does not hold a CertificateStatusUpdateForCare request")
    address = next((h.text or "" for h in headers if h.tag == qname(REGISTRY, "LogicalAddress")), None)
    paths = {"c": CORE, "t": TYPES, "csu": STATUS_UPDATE_V3}
    return ReceivedStatusUpdate(
        logical_address=address,
        certificate_id=body.findtext("csu:intyg/c:intygs-id/t:extension", namespaces=paths),
        event_code=body.findtext("csu:handelse/c:handelsekod/t:code", namespaces=paths),
        event_time=body.findtext("csu:handelse/c:tidpunkt", namespaces=paths),
    )
