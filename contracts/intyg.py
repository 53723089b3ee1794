"""Writing a certificate as the contracts' ``core:Intyg``, and the core pieces every outbound message shares.

CertificateStatusUpdateForCare carries the certificate as it is (with its statuses: sent, revoked);
RegisterCertificate hands the signed certificate to its keeper (no statuses, as the incumbent
registers it); both carry the certificate's relation to its parent (``domain.relations``), if any.
RevokeCertificate and SendMessageToRecipient name a certificate and the care professional who acts
(``core:HosPersonal``). One writer for each piece keeps them the same on every contract: the patient,
the issuer, the unit and care giver, the answers, the time format.

Filled as the incumbent does (contracts.md §7.5): a missing arbetsplatskod becomes ``TEMPORARY
ARBETSPLATSKOD``, empty optional strings are left out (``epost``), required strings the directory
lacks are sent empty, and a patient with protected identity (sekretessmarkering) is sent as
``efternamn`` "Skyddade personuppgifter" with every other name and address field empty: the
personnummer identifies the patient to whoever receives it, nothing that could locate them leaves
the gateway. Times are Swedish local time without zone, as the contract's timestamp types require.

A revoked certificate's CANCEL status carries the revocation's reason code and description in our
extension ``gw:makulering`` (``contracts.ns.GATEWAY_EXT``) at the status's ``##other`` lax
position, which a receiver that does not know it skips (``docs/lifecycle.md``).
"""

from __future__ import annotations

from datetime import date, datetime

from lxml import etree

from contracts.ns import CORE, EXT34, GATEWAY_EXT, TYPES, qname
from contracts.xmlparse import read_fragment
from domain.arenden import AMNE_NAMES, KV_AMNE, KV_PART, Amne, MessageReference
from domain.certificate_types import CertificateType
from domain.certificates import Answer, Certificate
from domain.directory import CareGiver, Person, Unit
from domain.question_counts import Counts
from domain.values import (
    ARBETSPLATSKOD_ROOT,
    HSA_ID_ROOT,
    KV_HANDELSE,
    KV_RELATION,
    SWEDISH_TIME,
    CertificateStatus,
    EventCode,
    HsaId,
    PersonId,
)

PROTECTED_FAMILY_NAME = "Skyddade personuppgifter"
TEMPORARY_WORKPLACE_CODE = "TEMPORARY ARBETSPLATSKOD"
#: Text version sent when the certificate type is unknown (a type dropped from the registry).
FALLBACK_TEXT_VERSION = "1.0"

KV_STATUS = "9871cd17-8755-4ed9-b894-ff3729e775a4"
BEFATTNING = "1.2.752.129.2.2.1.4"
CARE_PART = "HSVARD"  # the part that revokes: care itself

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


def local_time(moment: datetime, *, milliseconds: bool = False) -> str:
    """A UTC (aware) time as Swedish local time without zone: ``2026-03-29T03:00:00[.123]``."""
    local = moment.astimezone(SWEDISH_TIME)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{local.microsecond // 1000:03d}" if milliseconds else text


# --- intyg -------------------------------------------------------------------------------------


def add_intyg(
    intyg: etree._Element, c: Certificate, certificate_type: CertificateType | None, *, statuses: bool
) -> None:
    """Fill ``intyg`` (any element of type ``core:Intyg``) with the certificate.

    ``certificate_type`` gives ``typ``: the type's canonical code and code system (whatever pair the
    journal system created the draft with), its name and the text version; without it the
    certificate's own pair is sent with ``FALLBACK_TEXT_VERSION``. ``statuses`` adds the SENTTO and
    CANCEL statuses of a sent or revoked certificate (a status update does; a registration does not).
    """
    identifier(intyg, "intygs-id", c.unit_id.value, c.id)
    if certificate_type is None:
        code(intyg, "typ", c.type_code, c.type_code_system, None)
        core(intyg, "version", FALLBACK_TEXT_VERSION)
    else:
        code(intyg, "typ", certificate_type.code, certificate_type.code_system, certificate_type.name)
        core(intyg, "version", certificate_type.version)
    if c.signed_at is not None:
        core(intyg, "signeringstidpunkt", local_time(c.signed_at))
    if c.sent_at is not None:
        core(intyg, "skickatTidpunkt", local_time(c.sent_at))
    elif not statuses and c.signed_at is not None:
        core(intyg, "skickatTidpunkt", local_time(c.signed_at))  # a registration: sent when signed (incumbent)
    add_patient(core(intyg, "patient"), c.patient)
    add_issuer(core(intyg, "skapadAv"), c)
    if c.relation_code is not None and c.relation_parent is not None:
        # At most one, to the parent; its root is the issuing unit, as the incumbent writes it.
        relation = core(intyg, "relation")
        code(relation, "typ", c.relation_code.value, KV_RELATION)
        identifier(relation, "intygs-id", c.unit_id.value, c.relation_parent)
    if statuses:
        if c.sent_at is not None and c.sent_to is not None:
            _add_status(intyg, c.sent_to, "SENTTO", c.sent_at)
        if c.status is CertificateStatus.REVOKED and c.revoked_at is not None:
            add_revocation_reason(_add_status(intyg, CARE_PART, "CANCEL", c.revoked_at), c)
    for answer in c.content:
        add_answer(intyg, answer)


def add_patient(patient: etree._Element, person: Person) -> None:
    """A ``core:Patient``: the person id, names and address (blanked for protected identity)."""
    identifier(patient, "person-id", person.person_id.kind.value, person.person_id.digits)
    middle: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    if person.protected_identity:
        # Nothing that could locate the person leaves the gateway; the schema still wants the fields.
        given, middle, family, address, postal_code, city = "", None, PROTECTED_FAMILY_NAME, "", "", ""
    else:
        given, middle, family = person.given_name, person.middle_name, person.family_name
        address, postal_code, city = person.postal_address, person.postal_code, person.city
    core(patient, "fornamn", given)
    core(patient, "efternamn", family)
    if middle:
        core(patient, "mellannamn", middle)
    core(patient, "postadress", address or "")
    core(patient, "postnummer", postal_code or "")
    core(patient, "postort", city or "")


def add_issuer(skapad_av: etree._Element, c: Certificate) -> None:
    """The responsible user as ``core:HosPersonal``: the signer once signed, the creator before.

    The directory data (prescriber code, positions) is the creator's, so it is sent only when the
    creator is also the signer.
    """
    creator = c.created_by
    signer = c.signed_by if c.signed_by is not None else creator.hsa_id
    own_data = signer == creator.hsa_id
    hsa_id(skapad_av, CORE, "personal-id", signer)
    core(skapad_av, "fullstandigtNamn", c.signed_by_name or (creator.name if own_data else ""))
    if own_data and creator.prescriber_code:
        core(skapad_av, "forskrivarkod", creator.prescriber_code)
    for position in creator.position_codes if own_data else ():
        code(skapad_av, "befattning", position, BEFATTNING)
    add_unit(core(skapad_av, "enhet"), c.unit, c.care_giver)


def add_hos_personal(holder: etree._Element, user: HsaId, name: str, unit: Unit, care_giver: CareGiver) -> None:
    """A ``core:HosPersonal`` of a user acting on a certificate at its unit (who revokes, who writes)."""
    hsa_id(holder, CORE, "personal-id", user)
    core(holder, "fullstandigtNamn", name)
    add_unit(core(holder, "enhet"), unit, care_giver)


def add_unit(enhet: etree._Element, unit: Unit, care_giver: CareGiver) -> None:
    """A ``core:Enhet`` with its ``core:Vardgivare``."""
    hsa_id(enhet, CORE, "enhets-id", unit.hsa_id)
    identifier(enhet, "arbetsplatskod", ARBETSPLATSKOD_ROOT, unit.arbetsplatskod or TEMPORARY_WORKPLACE_CODE)
    core(enhet, "enhetsnamn", unit.name)
    core(enhet, "postadress", unit.postal_address or "")
    core(enhet, "postnummer", unit.postal_code or "")
    core(enhet, "postort", unit.city or "")
    core(enhet, "telefonnummer", unit.phone or "")
    if unit.email:
        core(enhet, "epost", unit.email)
    vardgivare = core(enhet, "vardgivare")
    hsa_id(vardgivare, CORE, "vardgivare-id", care_giver.hsa_id)
    core(vardgivare, "vardgivarnamn", care_giver.name)


def _add_status(intyg: etree._Element, part: str, status: str, at: datetime) -> etree._Element:
    holder = core(intyg, "status")
    code(holder, "part", part, KV_PART)
    code(holder, "status", status, KV_STATUS)
    core(holder, "tidpunkt", local_time(at))
    return holder


def add_revocation_reason(parent: etree._Element, c: Certificate) -> None:
    """``gw:makulering`` with ``gw:orsak`` (FEL_PATIENT or ANNAT_ALLVARLIGT_FEL) and, when given,
    ``gw:beskrivning``, appended to ``parent`` (a position with an ``##other`` lax wildcard).

    Revocations from before reason codes (migration 0010) have only the description; a revocation
    with neither writes nothing.
    """
    if c.revoke_reason_code is None and not c.revoke_reason:
        return
    holder = etree.SubElement(parent, qname(GATEWAY_EXT, "makulering"), nsmap={"gw": GATEWAY_EXT})
    if c.revoke_reason_code is not None:
        etree.SubElement(holder, qname(GATEWAY_EXT, "orsak")).text = c.revoke_reason_code.value
    if c.revoke_reason:
        etree.SubElement(holder, qname(GATEWAY_EXT, "beskrivning")).text = c.revoke_reason


def add_answer(intyg: etree._Element, answer: Answer) -> None:
    """One ``core:Svar`` with its ``delsvar`` (plain text, or typed content kept as XML)."""
    svar = core(intyg, "svar")
    svar.set("id", answer.id)
    if answer.instance is not None:
        core(svar, "instans", str(answer.instance))
    for part in answer.parts:
        delsvar = core(svar, "delsvar", part.value)
        delsvar.set("id", part.id)
        if part.xml:
            for child in read_fragment(part.xml):
                delsvar.append(child)


def add_message_reference(holder: etree._Element, reference: MessageReference) -> None:
    """A ``core:MeddelandeReferens`` (``svarPa``): the question's meddelande-id and its referens-id."""
    core(holder, "meddelande-id", reference.message_id)
    if reference.reference_id:
        core(holder, "referens-id", reference.reference_id)


def add_amne(parent: etree._Element, namespace: str, name: str, amne: Amne) -> None:
    """A ``types:Amneskod`` named ``name`` in ``namespace``: the code, KV_ÄMNE and Webcert's name for it."""
    holder = sub(parent, namespace, name)
    sub(holder, TYPES, "code", amne.value)
    sub(holder, TYPES, "codeSystem", KV_AMNE)
    sub(holder, TYPES, "displayName", AMNE_NAMES[amne])


# --- handelse ----------------------------------------------------------------------------------


def add_handelse(
    handelse: etree._Element,
    event_code: EventCode,
    at: datetime,
    amne: Amne | None = None,
    deadline: date | None = None,
    handled_by: HsaId | None = None,
) -> None:
    """Fill ``handelse`` (a ``core:Handelse``): the KV_HANDELSE code with its Swedish name, the time
    to the millisecond, and where given the question's ``amne``, its ``sistaDatumForSvar`` and who
    handled the event (``hanteratAv`` of core 3.4, inside the event; a status update carries its
    own request-level ``hanteratAv`` instead)."""
    code(handelse, "handelsekod", event_code.value, KV_HANDELSE, EVENT_NAMES[event_code])
    core(handelse, "tidpunkt", local_time(at, milliseconds=True))
    if amne is not None:
        add_amne(handelse, CORE, "amne", amne)
    if deadline is not None:
        core(handelse, "sistaDatumForSvar", deadline.isoformat())
    if handled_by is not None:
        hsa_id(handelse, EXT34, "hanteratAv", handled_by)


def add_arenden(arenden: etree._Element, counts: Counts) -> None:
    """Fill ``arenden`` (a ``core:Arenden``) with one block of question counts."""
    for name, value in (("totalt", counts.total), ("ejBesvarade", counts.unanswered),
                        ("besvarade", counts.answered), ("hanterade", counts.handled)):  # fmt: skip
        core(arenden, name, str(value))


# --- small writers -----------------------------------------------------------------------------


def sub(parent: etree._Element, namespace: str, name: str, text: str | None = None) -> etree._Element:
    """A child element ``{namespace}name`` with ``text``."""
    child = etree.SubElement(parent, qname(namespace, name))
    if text is not None:
        child.text = text
    return child


def core(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    """A child in the core namespace."""
    return sub(parent, CORE, name, text)


def identifier(parent: etree._Element, name: str, root: str, extension: str, namespace: str = CORE) -> None:
    """An II-shaped child (``types:root``, ``types:extension``): IntygId, PersonId and the like."""
    holder = sub(parent, namespace, name)
    sub(holder, TYPES, "root", root)
    sub(holder, TYPES, "extension", extension)


def person_id(parent: etree._Element, namespace: str, name: str, person: PersonId) -> None:
    """A ``types:PersonId``: the personnummer's or samordningsnummer's OID and the twelve digits."""
    identifier(parent, name, person.kind.value, person.digits, namespace)


def hsa_id(parent: etree._Element, namespace: str, name: str, value: HsaId) -> None:
    """A ``types:HsaId``: the HSA root and the id as spelled."""
    identifier(parent, name, HSA_ID_ROOT, value.value, namespace)


def code(parent: etree._Element, name: str, value: str, system: str, display: str | None = None,
         namespace: str = CORE) -> None:
    """A CV-shaped child (``types:code``, ``types:codeSystem``, ``types:displayName``)."""
    holder = sub(parent, namespace, name)
    sub(holder, TYPES, "code", value)
    sub(holder, TYPES, "codeSystem", system)
    if display is not None:
        sub(holder, TYPES, "displayName", display)
