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

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

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
    """A UTC (aware) time as Swedish local time without zone: ``2026-03-29T03:00:00[.123]``.

    Sweden's offset from UTC is a whole number of hours and changes only on a UTC hour, so a time
    in UTC (what the store reads) is written as its hour's local date and hour (``_local_hour``,
    remembered) followed by its own minutes and seconds: half the cost of converting each time, for
    the 2,000 events of a list. Other times are converted one by one.
    """
    head = _local_hour(moment.year, moment.month, moment.day, moment.hour) if moment.tzinfo is UTC else None
    if head is not None:
        if milliseconds:
            return f"{head}{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}"
        return f"{head}{moment.minute:02d}:{moment.second:02d}"
    text = moment.astimezone(SWEDISH_TIME).replace(tzinfo=None).isoformat()
    if not milliseconds:
        return text[:19]
    return text[:23] if len(text) > 19 else text + ".000"  # without microseconds isoformat stops at seconds


_LAST_OF_HOUR = timedelta(minutes=59, seconds=59, microseconds=999999)


@lru_cache(maxsize=4096)
def _local_hour(year: int, month: int, day: int, hour: int) -> str | None:
    """``YYYY-MM-DDTHH:`` in Swedish local time of the UTC hour given; None for an hour whose offset is
    not one whole number of hours throughout (local mean time, before 1900)."""
    start = datetime(year, month, day, hour, tzinfo=UTC)
    local = start.astimezone(SWEDISH_TIME)
    offset = local.utcoffset()
    whole_hours = offset is not None and not offset % timedelta(hours=1)
    if not whole_hours or (start + _LAST_OF_HOUR).astimezone(SWEDISH_TIME).utcoffset() != offset:
        return None
    return local.replace(tzinfo=None).isoformat()[:14]


# --- the text writer ----------------------------------------------------------------------------
#
# The certificate and its events are written as text, not element by element: one ``core:Intyg``
# is some sixty elements, and creating each through lxml cost about three times as much as the text
# (issues 14, 18, 19: building the message was the largest part of sending a status update, and of
# listing a patient's certificates). The text uses the prefixes ``core``, ``types`` and ``ext34``,
# which whoever embeds it declares (``SCOPE``); our extension declares its own. Every contract test
# validates the result against the official schemas.

#: The prefixes the written pieces use, as the element that holds them must declare them.
SCOPE = {"core": CORE, "types": TYPES, "ext34": EXT34}


def scoped_start(tag: str, **namespaces: str) -> bytes:
    """The start tag of ``tag`` (prefixed) declaring ``namespaces`` (prefix: URI) and ``SCOPE``: the root
    of a message written as text."""
    declared = {**namespaces, **SCOPE}
    return ("<" + tag + "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in declared.items()) + ">").encode()


_SCOPE_START = scoped_start("scope")
_SCOPE_END = b"</scope>"
# What XML 1.0 cannot carry at all (control characters, lone surrogates); lxml refuses the same.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Anything a value may not hold as it is: the characters escaped below, and those XML cannot carry.
_SPECIAL = re.compile("[^\t\n\x20-\x25\x27-\x3b\x3d\x3f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", '"': "&quot;",
                            "\n": "&#10;", "\t": "&#9;"})


def _checked(text: str) -> str:
    """``text`` as it is, if XML can carry every character of it.

    Raises:
        ValueError: a control character, lone surrogate or non-character (as lxml raises it).
    """
    bad = _NOT_XML.search(text)
    if bad is not None:
        raise ValueError(f"All strings must be XML compatible: U+{ord(bad.group()):04X} at {bad.start()}")
    return text


def _escape(text: str) -> str:
    """Element text escaped as lxml escapes it; most values need nothing, which one search tells."""
    return text if _SPECIAL.search(text) is None else _checked(text).translate(_TEXT)


def _escape_attribute(value: str) -> str:
    """An attribute value escaped as lxml escapes it."""
    return _checked(value).translate(_ATTRIBUTE)


class XmlText:
    """Pieces of XML text, every value escaped as lxml escapes it (``_escape``): how the pieces here,
    and the messages that carry them, are written."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def value(self, tag: str, text: str) -> None:
        """``<tag>text</tag>``."""
        self.parts.append(f"<{tag}>{_escape(text)}</{tag}>")

    def start(self, tag: str, **attributes: str) -> None:
        written = "".join(f' {name}="{_escape_attribute(value)}"' for name, value in attributes.items())
        self.parts.append(f"<{tag}{written}>")

    def end(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")

    def identifier(self, tag: str, root: str, extension: str) -> None:
        """An II-shaped element: ``types:root`` and ``types:extension``."""
        self.parts.append(f"<{tag}><types:root>{_escape(root)}</types:root>"
                          f"<types:extension>{_escape(extension)}</types:extension></{tag}>")

    def code(self, tag: str, value: str, system: str, display: str | None = None) -> None:
        """A CV-shaped element: ``types:code``, ``types:codeSystem`` and, when given, ``types:displayName``."""
        shown = "" if display is None else f"<types:displayName>{_escape(display)}</types:displayName>"
        self.parts.append(f"<{tag}><types:code>{_escape(value)}</types:code>"
                          f"<types:codeSystem>{_escape(system)}</types:codeSystem>{shown}</{tag}>")

    def raw(self, xml: str) -> None:
        """Markup written elsewhere and known to be well-formed."""
        self.parts.append(xml)

    def text(self) -> str:
        """The text, for a piece kept to be joined into others."""
        return "".join(self.parts)

    def written(self) -> bytes:
        """The text as UTF-8."""
        return self.text().encode()


def _append_written(parent: etree._Element, written: bytes) -> None:
    """The elements of ``written`` (a piece in ``SCOPE``) appended to ``parent``.

    For the contracts built as element trees (status updates, registrations, revocations): parsing
    the text back is cheaper than creating the same elements one by one. The text was written here,
    its stored fragments read by the hardened parser before (``_fragment``).
    """
    parent.extend(etree.fromstring(_SCOPE_START + written + _SCOPE_END))


# --- intyg -------------------------------------------------------------------------------------


def intyg_xml(c: Certificate, certificate_type: CertificateType | None, *, statuses: bool) -> bytes:
    """The content of a ``core:Intyg`` (any element of that type) for the certificate, in ``SCOPE``.

    ``certificate_type`` gives ``typ``: the type's canonical code and code system (whatever pair the
    journal system created the draft with), its name and the text version; without it the
    certificate's own pair is sent with ``FALLBACK_TEXT_VERSION``. ``statuses`` adds the SENTTO and
    CANCEL statuses of a sent or revoked certificate (a status update and the list do; a registration
    does not).

    Raises:
        ValueError: a value holds a character XML cannot carry.
        HostileXml, NotXml: a stored answer fragment is not acceptable XML.
    """
    out = XmlText()
    out.identifier("core:intygs-id", c.unit_id.value, c.id)
    if certificate_type is None:
        out.code("core:typ", c.type_code, c.type_code_system)
        out.value("core:version", FALLBACK_TEXT_VERSION)
    else:
        out.code("core:typ", certificate_type.code, certificate_type.code_system, certificate_type.name)
        out.value("core:version", certificate_type.version)
    if c.signed_at is not None:
        out.value("core:signeringstidpunkt", local_time(c.signed_at))
    if c.sent_at is not None:
        out.value("core:skickatTidpunkt", local_time(c.sent_at))
    elif not statuses and c.signed_at is not None:
        out.value("core:skickatTidpunkt", local_time(c.signed_at))  # a registration: sent when signed (incumbent)
    out.raw(_patient(c.patient))
    out.start("core:skapadAv")
    _issuer(out, c)
    out.end("core:skapadAv")
    if c.relation_code is not None and c.relation_parent is not None:
        # At most one, to the parent; its root is the issuing unit, as the incumbent writes it.
        out.start("core:relation")
        out.code("core:typ", c.relation_code.value, KV_RELATION)
        out.identifier("core:intygs-id", c.unit_id.value, c.relation_parent)
        out.end("core:relation")
    if statuses:
        if c.sent_at is not None and c.sent_to is not None:
            _status(out, c.sent_to, "SENTTO", c.sent_at)
        if c.status is CertificateStatus.REVOKED and c.revoked_at is not None:
            _status(out, CARE_PART, "CANCEL", c.revoked_at, c)
    for answer in c.content:
        _answer(out, answer)
    return out.written()


@lru_cache(maxsize=1024)
def _patient(person: Person) -> str:
    """``core:patient``: the person id, names and address (blanked for protected identity).

    Remembered per person (the values, not the object), as ``_unit`` is per unit: a patient's list
    and a drain's status updates write the same few again and again.
    """
    out = XmlText()
    out.start("core:patient")
    out.identifier("core:person-id", person.person_id.kind.value, person.person_id.digits)
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
    out.value("core:fornamn", given)
    out.value("core:efternamn", family)
    if middle:
        out.value("core:mellannamn", middle)
    out.value("core:postadress", address or "")
    out.value("core:postnummer", postal_code or "")
    out.value("core:postort", city or "")
    out.end("core:patient")
    return out.text()


def _issuer(out: XmlText, c: Certificate) -> None:
    """The responsible user as ``core:HosPersonal``: the signer once signed, the creator before.

    The directory data (prescriber code, positions) is the creator's, so it is sent only when the
    creator is also the signer.
    """
    creator = c.created_by
    signer = c.signed_by if c.signed_by is not None else creator.hsa_id
    own_data = signer == creator.hsa_id
    out.identifier("core:personal-id", HSA_ID_ROOT, signer.value)
    out.value("core:fullstandigtNamn", c.signed_by_name or (creator.name if own_data else ""))
    if own_data and creator.prescriber_code:
        out.value("core:forskrivarkod", creator.prescriber_code)
    for position in creator.position_codes if own_data else ():
        out.code("core:befattning", position, BEFATTNING)
    out.raw(_unit(c.unit, c.care_giver))


def add_hos_personal(holder: etree._Element, user: HsaId, name: str, unit: Unit, care_giver: CareGiver) -> None:
    """A ``core:HosPersonal`` of a user acting on a certificate at its unit (who revokes, who writes)."""
    out = XmlText()
    out.identifier("core:personal-id", HSA_ID_ROOT, user.value)
    out.value("core:fullstandigtNamn", name)
    out.raw(_unit(unit, care_giver))
    _append_written(holder, out.written())


@lru_cache(maxsize=1024)
def _unit(unit: Unit, care_giver: CareGiver) -> str:
    """``core:enhet`` with its ``core:vardgivare``, remembered per unit and care giver (their values)."""
    out = XmlText()
    out.start("core:enhet")
    out.identifier("core:enhets-id", HSA_ID_ROOT, unit.hsa_id.value)
    out.identifier("core:arbetsplatskod", ARBETSPLATSKOD_ROOT, unit.arbetsplatskod or TEMPORARY_WORKPLACE_CODE)
    out.value("core:enhetsnamn", unit.name)
    out.value("core:postadress", unit.postal_address or "")
    out.value("core:postnummer", unit.postal_code or "")
    out.value("core:postort", unit.city or "")
    out.value("core:telefonnummer", unit.phone or "")
    if unit.email:
        out.value("core:epost", unit.email)
    out.start("core:vardgivare")
    out.identifier("core:vardgivare-id", HSA_ID_ROOT, care_giver.hsa_id.value)
    out.value("core:vardgivarnamn", care_giver.name)
    out.end("core:vardgivare")
    out.end("core:enhet")
    return out.text()


def _status(out: XmlText, part: str, status: str, at: datetime, revoked: Certificate | None = None) -> None:
    """A ``core:status``; a revocation's (``revoked``) carries its reason (``_revocation_reason``)."""
    out.start("core:status")
    out.code("core:part", part, KV_PART)
    out.code("core:status", status, KV_STATUS)
    out.value("core:tidpunkt", local_time(at))
    if revoked is not None:
        _revocation_reason(out, revoked)
    out.end("core:status")


def _revocation_reason(out: XmlText, c: Certificate) -> None:
    """``gw:makulering`` with ``gw:orsak`` (FEL_PATIENT or ANNAT_ALLVARLIGT_FEL) and, when given,
    ``gw:beskrivning``, at a position with an ``##other`` lax wildcard.

    Revocations from before reason codes (migration 0010) have only the description; a revocation
    with neither writes nothing.
    """
    if c.revoke_reason_code is None and not c.revoke_reason:
        return
    out.start("gw:makulering", **{"xmlns:gw": GATEWAY_EXT})
    if c.revoke_reason_code is not None:
        out.value("gw:orsak", c.revoke_reason_code.value)
    if c.revoke_reason:
        out.value("gw:beskrivning", c.revoke_reason)
    out.end("gw:makulering")


def add_revocation_reason(parent: etree._Element, c: Certificate) -> None:
    """``_revocation_reason`` appended to ``parent`` (RevokeCertificate's request, at its ``##other``)."""
    out = XmlText()
    _revocation_reason(out, c)
    if out.parts:
        _append_written(parent, out.written())


def _answer(out: XmlText, answer: Answer) -> None:
    """One ``core:svar`` with its ``delsvar`` (plain text, or typed content kept as XML)."""
    out.start("core:svar", id=answer.id)
    if answer.instance is not None:
        out.value("core:instans", str(answer.instance))
    for part in answer.parts:
        out.start("core:delsvar", id=part.id)
        out.raw(_escape(part.value))
        if part.xml:
            out.raw(_fragment(part.xml))
        out.end("core:delsvar")
    out.end("core:svar")


@lru_cache(maxsize=4096)
def _fragment(xml: str) -> str:
    """A stored fragment's elements as text (the text between them dropped), read by the hardened parser.

    The same fragments recur across certificates (a code, a period), so each is read once per
    process; one that is not acceptable XML raises each time it is written.
    """
    return "".join(etree.tostring(child, encoding="unicode", with_tail=False) for child in read_fragment(xml))


def message_reference_xml(reference: MessageReference) -> bytes:
    """The content of a ``core:MeddelandeReferens`` (``svarPa``): the question's meddelande-id and its
    referens-id."""
    out = XmlText()
    out.value("core:meddelande-id", reference.message_id)
    if reference.reference_id:
        out.value("core:referens-id", reference.reference_id)
    return out.written()


def add_message_reference(holder: etree._Element, reference: MessageReference) -> None:
    """Fill ``holder`` with ``message_reference_xml``."""
    _append_written(holder, message_reference_xml(reference))


def amne_code(amne: Amne) -> tuple[str, str, str]:
    """A ``types:Amneskod``'s values: the code, KV_ÄMNE and Webcert's name for it."""
    return amne.value, KV_AMNE, AMNE_NAMES[amne]


def add_amne(parent: etree._Element, namespace: str, name: str, amne: Amne) -> None:
    """A ``types:Amneskod`` named ``name`` in ``namespace`` (``amne_code``)."""
    code(parent, name, *amne_code(amne), namespace=namespace)


# --- handelse ----------------------------------------------------------------------------------


def handelse_xml(
    event_code: EventCode,
    at: datetime,
    amne: Amne | None = None,
    deadline: date | None = None,
    handled_by: HsaId | None = None,
) -> bytes:
    """The content of a ``core:Handelse`` in ``SCOPE``: the KV_HANDELSE code with its Swedish name,
    the time to the millisecond, and where given the question's ``amne``, its ``sistaDatumForSvar``
    and who handled the event (``hanteratAv`` of core 3.4, inside the event; a status update carries
    its own request-level ``hanteratAv`` instead)."""
    # Joined directly rather than through ``XmlText``: a list writes thousands. The time and date are
    # digits, and the code, the amne and the user come written and escaped from the tables below.
    text = _HANDELSEKOD[event_code] + "<core:tidpunkt>" + local_time(at, milliseconds=True) + "</core:tidpunkt>"
    if amne is not None:
        text += _AMNE[amne]
    if deadline is not None:
        text += "<core:sistaDatumForSvar>" + deadline.isoformat() + "</core:sistaDatumForSvar>"
    if handled_by is not None:
        text += _handled_by(handled_by.value)
    return text.encode()


def _code_text(tag: str, value: str, system: str, display: str) -> str:
    out = XmlText()
    out.code(tag, value, system, display)
    return out.text()


#: Each event code's ``handelsekod`` and each amne's ``core:amne``, written once.
_HANDELSEKOD = {code: _code_text("core:handelsekod", code.value, KV_HANDELSE, EVENT_NAMES[code]) for code in EventCode}
_AMNE = {amne: _code_text("core:amne", *amne_code(amne)) for amne in Amne}


@lru_cache(maxsize=1024)
def _handled_by(user: str) -> str:
    """``ext34:hanteratAv`` of a user: the few users of a list's events are each written once."""
    out = XmlText()
    out.identifier("ext34:hanteratAv", HSA_ID_ROOT, user)
    return out.text()


def arenden_xml(counts: Counts) -> bytes:
    """The content of a ``core:Arenden``: one block of question counts."""
    out = XmlText()
    for name, value in (("totalt", counts.total), ("ejBesvarade", counts.unanswered),
                        ("besvarade", counts.answered), ("hanterade", counts.handled)):  # fmt: skip
        out.value(f"core:{name}", str(value))
    return out.written()


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
