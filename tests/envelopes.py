"""Build CreateDraftCertificate v3 SOAP messages for tests, with keyword overrides.

Tests build requests here instead of copying XML around, so that the wire format is written down
once. The defaults describe a LISJP draft for patient 191212121212, created by the physician
SE2321000016-P001 acting for unit SE2321000016-1000; the demo directory holds all three.

Namespaces and code systems are spelled out in this module rather than imported from the
production code, so the tests check that code against a statement of the wire format of their own.

Wire reminders (contract 3.3): ``patient``'s children are in the core namespace while
``skapadAv``'s are in the responder namespace; ``forifyllnad/svar`` is in the 3.3 namespace while
its ``instans`` and ``delsvar`` are in core; the ``id`` attributes are unqualified.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from lxml import etree

# Namespaces.
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
ITR_NS = "urn:riv:itintegration:registry:1"
CDC_NS = "urn:riv:clinicalprocess:healthcond:certificate:CreateDraftCertificateResponder:3"
CORE_NS = "urn:riv:clinicalprocess:healthcond:certificate:3"
TYPES_NS = "urn:riv:clinicalprocess:healthcond:certificate:types:3"
EXT32_NS = "urn:riv:clinicalprocess:healthcond:certificate:3.2"
EXT33_NS = "urn:riv:clinicalprocess:healthcond:certificate:3.3"
EXT34_NS = "urn:riv:clinicalprocess:healthcond:certificate:3.4"
SMTC_NS = "urn:riv:clinicalprocess:healthcond:certificate:SendMessageToCareResponder:2"
CSU_NS = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3"
CSU32_NS = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3.2"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
REG_NS = "urn:riv:clinicalprocess:healthcond:certificate:RegisterCertificateResponder:3"
SCR_NS = "urn:riv:clinicalprocess:healthcond:certificate:SendCertificateToRecipientResponder:2"
RC_NS = "urn:riv:clinicalprocess:healthcond:certificate:RevokeCertificateResponder:2"
SMTR_NS = "urn:riv:clinicalprocess:healthcond:certificate:SendMessageToRecipientResponder:2"
SLR_NS = "urn:riv:informationsecurity:auditing:log:StoreLogResponder:2"
LOG_NS = "urn:riv:informationsecurity:auditing:log:2"
LCQ_NS = "urn:riv:clinicalprocess:healthcond:certificate:ListCertificatesForCareWithQAResponder:3"
#: A namespace no contract declares: what a journal system's own extension elements look like.
EXTENSION_NS = "urn:example:journal-extension"

#: Prefixes used when serialising; the wire meaning lies in the namespaces, not in these.
NSMAP = {
    "soapenv": SOAP_ENV_NS,
    "itr": ITR_NS,
    "cdc": CDC_NS,
    "core": CORE_NS,
    "types": TYPES_NS,
    "ext32": EXT32_NS,
    "ext33": EXT33_NS,
}
#: Every prefix :func:`element` understands.
PREFIXES = {**NSMAP, "ext34": EXT34_NS, "smtc": SMTC_NS, "csu": CSU_NS, "csu32": CSU32_NS, "slr": SLR_NS,
            "log": LOG_NS, "ds": DS_NS, "xsi": XSI_NS, "ext": EXTENSION_NS, "reg": REG_NS, "scr": SCR_NS,
            "rc": RC_NS, "smtr": SMTR_NS, "lcq": LCQ_NS}

# Code systems and OIDs.
PERSONNUMMER_ROOT = "1.2.752.129.2.1.3.1"
SAMORDNINGSNUMMER_ROOT = "1.2.752.129.2.1.3.3"
HSA_ID_ROOT = "1.2.752.129.2.1.4.1"
KV_INTYGSTYP = "b64ea353-e8f6-4832-b563-fc7d46f29548"
KV_UTLATANDE_TYP = "f6fb361a-e31d-48b8-8657-99b63912dd9b"
KALLA_ADRESSUPPGIFTER = "4ade8de2-effe-41d0-b177-fedc820e69fa"

# Defaults, matching the demo directory.
DEFAULT_LOGICAL_ADDRESS = "SE5565594230-B8N"
DEFAULT_TYPE_CODE = "LISJP"
DEFAULT_PERSON_ID = "191212121212"
DEFAULT_USER_HSA_ID = "SE2321000016-P001"
DEFAULT_UNIT_HSA_ID = "SE2321000016-1000"

#: The ``xs:any`` positions of the request outside the prefill, by the element that holds them.
WILDCARD_POSITIONS = ("CreateDraftCertificate", "skapadAv", "enhet")

Element: TypeAlias = etree._Element
#: Either elements to put at every wildcard position, or elements per position name.
Extensions: TypeAlias = "Sequence[Element] | Mapping[str, Sequence[Element]] | None"


def create_draft_envelope(
    *,
    logical_address: str | None = DEFAULT_LOGICAL_ADDRESS,
    body: Element | None = None,
    **overrides: Any,
) -> bytes:
    """Return a complete SOAP 1.1 CreateDraftCertificate request as UTF-8 bytes.

    ``overrides`` go to :func:`create_draft_body`; pass ``body`` instead to wrap an element built
    (or broken) by the caller. ``logical_address=None`` leaves out the header, which the WSDL
    requires: useful for testing how the gateway answers without it.
    """
    if body is not None and overrides:
        raise TypeError("pass either body or body overrides, not both")
    headers = [] if logical_address is None else [logical_address_header(logical_address)]
    return soap_envelope(body if body is not None else create_draft_body(**overrides), headers=headers)


def create_draft_body(
    *,
    type_code: str = DEFAULT_TYPE_CODE,
    type_code_system: str = KV_INTYGSTYP,
    type_display_name: str | None = None,
    person_id: str = DEFAULT_PERSON_ID,
    person_id_root: str = PERSONNUMMER_ROOT,
    given_name: str = "Tolvan",
    middle_name: str | None = None,
    family_name: str = "Tolvansson",
    postal_address: str = "Svensson, Storgatan 1",
    postal_code: str = "12345",
    city: str = "Småmåla",
    address_source: str | None = None,
    user_hsa_id: str = DEFAULT_USER_HSA_ID,
    user_name: str = "Ajla Doktor",
    unit_hsa_id: str = DEFAULT_UNIT_HSA_ID,
    unit_name: str = "Alfa vårdenhet",
    ref: str | None = None,
    prefill: Element | None = None,
    extensions: Extensions = None,
) -> Element:
    """Return a ``cdc:CreateDraftCertificate`` element.

    Optional elements are left out when their argument is None. ``address_source`` is the code
    (``PU`` or ``ANVANDARE``) of ``ext32:kallaAdressuppgifter``. ``prefill`` is an
    ``ext33:forifyllnad`` (see :func:`prefill_element`); it is copied, so one can serve many
    requests. ``extensions`` are copied to the end of each wildcard position.
    """
    placed = _extensions_by_position(extensions)
    request = etree.Element(_cdc("CreateDraftCertificate"), nsmap=_body_nsmap())
    intyg = _sub(request, _cdc("intyg"))

    typ = _sub(intyg, _cdc("typAvIntyg"))
    _sub(typ, _types("code"), type_code)
    _sub(typ, _types("codeSystem"), type_code_system)
    if type_display_name is not None:
        _sub(typ, _types("displayName"), type_display_name)

    patient = _sub(intyg, _cdc("patient"))
    _identifier(_sub(patient, _core("person-id")), person_id_root, person_id)
    _sub(patient, _core("fornamn"), given_name)
    _sub(patient, _core("efternamn"), family_name)
    if middle_name is not None:
        _sub(patient, _core("mellannamn"), middle_name)
    _sub(patient, _core("postadress"), postal_address)
    _sub(patient, _core("postnummer"), postal_code)
    _sub(patient, _core("postort"), city)
    if address_source is not None:
        source = _sub(patient, f"{{{EXT32_NS}}}kallaAdressuppgifter")
        _sub(source, _types("code"), address_source)
        _sub(source, _types("codeSystem"), KALLA_ADRESSUPPGIFTER)

    skapad_av = _sub(intyg, _cdc("skapadAv"))
    _identifier(_sub(skapad_av, _cdc("personal-id")), HSA_ID_ROOT, user_hsa_id)
    _sub(skapad_av, _cdc("fullstandigtNamn"), user_name)
    enhet = _sub(skapad_av, _cdc("enhet"))
    _identifier(_sub(enhet, _cdc("enhets-id")), HSA_ID_ROOT, unit_hsa_id)
    _sub(enhet, _cdc("enhetsnamn"), unit_name)
    _append_copies(enhet, placed["enhet"])
    _append_copies(skapad_av, placed["skapadAv"])

    if ref is not None:
        _sub(intyg, _cdc("ref"), ref)
    if prefill is not None:
        intyg.append(copy.deepcopy(prefill))
    _append_copies(request, placed["CreateDraftCertificate"])
    return request


def prefill_element(*svar_elements: Element, extensions: Sequence[Element] = ()) -> Element:
    """Return an ``ext33:forifyllnad`` holding the given ``svar`` elements (see :func:`svar`).

    Without any ``svar`` it holds a sample modelled on LISJP's questions: a coded delsvar, a text
    delsvar, and a svar with ``instans`` whose delsvar hold a code and a date period. For the
    (valid) empty forifyllnad, use ``element("ext33:forifyllnad")``. ``extensions`` go to the
    wildcard after the svar.
    """
    if not svar_elements:
        svar_elements = (
            svar(
                "28", delsvar("28.1", cv("NUVARANDE_ARBETE", "KV_FKMU_0002", display_name="Nuvarande arbete"))
            ),
            svar("29", delsvar("29.1", "Snickare")),
            svar(
                "32",
                delsvar("32.1", cv("HELT_NEDSATT", "KV_FKMU_0003")),
                delsvar("32.2", date_period("2024-01-01", "2024-01-14")),
                instans=1,
            ),
        )
    forifyllnad = etree.Element(f"{{{EXT33_NS}}}forifyllnad", nsmap=_body_nsmap())
    _append_copies(forifyllnad, svar_elements)
    _append_copies(forifyllnad, extensions)
    return forifyllnad


def svar(
    svar_id: str,
    *delsvar_elements: Element,
    instans: int | None = None,
    extensions: Sequence[Element] = (),
) -> Element:
    """Return an ``ext33:svar`` with the question id, optional ``instans`` and its delsvar.

    The element is in the 3.3 namespace but has the core Svar type, so its children are in core.
    """
    built = etree.Element(f"{{{EXT33_NS}}}svar", id=svar_id)
    if instans is not None:
        _sub(built, _core("instans"), str(instans))
    _append_copies(built, delsvar_elements)
    _append_copies(built, extensions)
    return built


def delsvar(delsvar_id: str, *content: str | Element) -> Element:
    """Return a ``core:delsvar`` with mixed content: text and typed elements, in the given order."""
    return element("core:delsvar", *content, id=delsvar_id)


def cv(
    code: str,
    code_system: str,
    *,
    code_system_name: str | None = None,
    code_system_version: str | None = None,
    display_name: str | None = None,
    original_text: str | None = None,
) -> Element:
    """Return a ``types:cv`` coded value, the usual typed content of a delsvar."""
    return typed_value(
        "cv",
        code=code,
        codeSystem=code_system,
        codeSystemName=code_system_name,
        codeSystemVersion=code_system_version,
        displayName=display_name,
        originalText=original_text,
    )


def date_period(start: str | None = None, end: str | None = None) -> Element:
    """Return a ``types:datePeriod``; dates are ``YYYY-MM-DD`` without a zone."""
    return typed_value("datePeriod", start=start, end=end)


def pq(value: str, unit: str) -> Element:
    """Return a ``types:pq`` physical quantity (``value`` is an xs:double written as text)."""
    return typed_value("pq", value=value, unit=unit)


def typed_value(name: str, text: str | None = None, **children: str | None) -> Element:
    """Return any global element of the types namespace (``timestamp``, ``partialDate``...).

    Children are created in keyword order, which must be the schema order; None values are left
    out. Use ``text`` for the simple-typed elements (``date``, ``timestamp``).
    """
    built = etree.Element(_types(name), nsmap={"types": TYPES_NS})
    built.text = text
    for child, value in children.items():
        if value is not None:
            _sub(built, _types(child), value)
    return built


def extension_element(
    local_name: str = "journalNote", text: str = "kept by the journal system", namespace: str = EXTENSION_NS
) -> Element:
    """Return an element in a namespace of the caller's choice, to place at a wildcard position."""
    built = etree.Element(f"{{{namespace}}}{local_name}", nsmap={"ext": namespace})
    built.text = text
    return built


def create_draft_response_body(
    *,
    certificate_id: str | None = "9f02dd2f-f57c-4a73-8190-2fe602cd6e27",
    unit_hsa_id: str = DEFAULT_UNIT_HSA_ID,
    result_code: str = "OK",
    result_text: str | None = None,
    error_id: str | None = None,
    extensions: Sequence[Element] = (),
) -> Element:
    """Return a ``cdc:CreateDraftCertificateResponse`` as the contract describes it.

    ``intygs-id`` (root: the unit's HSA-id, extension: the new id) is left out when
    ``certificate_id`` is None, as on an ERROR answer.
    """
    response = etree.Element(_cdc("CreateDraftCertificateResponse"), nsmap=_body_nsmap())
    if certificate_id is not None:
        _identifier(_sub(response, _cdc("intygs-id")), unit_hsa_id, certificate_id)
    result = _sub(response, _cdc("result"))
    _sub(result, _core("resultCode"), result_code)
    if result_text is not None:
        _sub(result, _core("resultText"), result_text)
    if error_id is not None:
        _sub(result, _core("errorId"), error_id)
    _append_copies(response, extensions)
    return response


def element(tag: str, *content: str | Element, **attributes: str) -> Element:
    """Return an element from a prefixed name (``"core:fornamn"``), text and children in order.

    For building (and breaking) fragments by hand in tests; prefixes are those of ``PREFIXES``, and
    an unprefixed name has no namespace. Attribute names may be prefixed the same way
    (``**{"xsi:type": "types:PersonId"}``); the element declares every known prefix, so prefixed
    attribute values such as an ``xsi:type`` resolve wherever the element ends up.
    """
    built = etree.Element(clark(tag), nsmap=PREFIXES)
    for name, value in attributes.items():
        built.set(clark(name), value)
    for part in content:
        if isinstance(part, str):
            if len(built):
                built[-1].tail = (built[-1].tail or "") + part
            else:
                built.text = (built.text or "") + part
        else:
            built.append(copy.deepcopy(part))
    return built


def clark(name: str) -> str:
    """Return the Clark notation (``{namespace}local``) of a name prefixed as in ``PREFIXES``."""
    prefix, colon, local = name.partition(":")
    if not colon:
        return name
    return f"{{{PREFIXES[prefix]}}}{local}"


def logical_address_header(address: str) -> Element:
    """Return the RIVTA BP 2.1 ``LogicalAddress`` header element."""
    built = etree.Element(f"{{{ITR_NS}}}LogicalAddress", nsmap={"itr": ITR_NS})
    built.text = address
    return built


def soap_envelope(body_child: Element, *, headers: Sequence[Element] = ()) -> bytes:
    """Wrap one body element (and header elements, if any) in a SOAP 1.1 envelope, as bytes.

    The header is left out entirely when there are no header elements, as responses do.
    """
    envelope = etree.Element(f"{{{SOAP_ENV_NS}}}Envelope", nsmap={"soapenv": SOAP_ENV_NS})
    if headers:
        header = _sub(envelope, f"{{{SOAP_ENV_NS}}}Header")
        _append_copies(header, headers)
    body = _sub(envelope, f"{{{SOAP_ENV_NS}}}Body")
    body.append(copy.deepcopy(body_child))
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def _extensions_by_position(extensions: Extensions) -> dict[str, Sequence[Element]]:
    if extensions is None:
        return dict.fromkeys(WILDCARD_POSITIONS, ())
    if isinstance(extensions, Mapping):
        unknown = set(extensions) - set(WILDCARD_POSITIONS)
        if unknown:
            raise ValueError(f"no wildcard position named {sorted(unknown)}; known: {WILDCARD_POSITIONS}")
        return {position: extensions.get(position, ()) for position in WILDCARD_POSITIONS}
    return dict.fromkeys(WILDCARD_POSITIONS, extensions)


def _identifier(parent: Element, root: str, extension: str) -> None:
    _sub(parent, _types("root"), root)
    _sub(parent, _types("extension"), extension)


def _append_copies(parent: Element, elements: Sequence[Element]) -> None:
    for child in elements:
        parent.append(copy.deepcopy(child))


def _sub(parent: Element, tag: str, text: str | None = None) -> Element:
    built = etree.SubElement(parent, tag)
    built.text = text
    return built


def _body_nsmap() -> dict[str, str]:
    return {prefix: uri for prefix, uri in NSMAP.items() if prefix not in ("soapenv", "itr")}


def _cdc(name: str) -> str:
    return f"{{{CDC_NS}}}{name}"


def _core(name: str) -> str:
    return f"{{{CORE_NS}}}{name}"


def _types(name: str) -> str:
    return f"{{{TYPES_NS}}}{name}"


def zeep_draft(unit: str = "SE2321000016-1000", unit_name: str = "VC", issuer: str = "SE2321000016-P001",
               **extra: Any) -> dict[str, Any]:
    """A LISJP CreateDraftCertificate ``intyg`` for Tolvan Tolvansson as zeep takes it (a client built from
    the gateway's ``?wsdl``): ``service.CreateDraftCertificate(intyg=zeep_draft())``; ``extra`` adds
    elements such as ``ref``."""
    return {
        "typAvIntyg": {"code": "LISJP", "codeSystem": "b64ea353-e8f6-4832-b563-fc7d46f29548"},
        "patient": {
            "person-id": {"root": PERSONNUMMER_ROOT, "extension": "191212121212"},
            "fornamn": "Tolvan", "efternamn": "Tolvansson",
            "postadress": "Gatan 2", "postnummer": "12345", "postort": "Staden",
        },
        "skapadAv": {
            "personal-id": {"root": "1.2.752.129.2.1.4.1", "extension": issuer},
            "fullstandigtNamn": "Ann Läkare",
            "enhet": {"enhets-id": {"root": "1.2.752.129.2.1.4.1", "extension": unit}, "enhetsnamn": unit_name},
        },
        **extra,
    }
