"""Requests to our three inbound contracts in the shapes the field sends, each with the incumbent's answer.

Built from the facts of ``../shared/reference/contracts.md`` with the wire builders of
``tests.envelopes`` (which state the wire format independently of the production code):

* CreateDraftCertificate v3 (§3, §4): the current and the legacy code system for the types the
  incumbent resolves by code, lower-case legacy codes, an empty ``mellannamn``, the LogicalAddress
  samples (``1``, ``?``, empty, none), extension content at every ``##other``, the incumbent's URL;
* SendMessageToCare v2 (§5, §6): Försäkringskassan's question as Intygstjänsten forwards it, with
  extensions at every ``##other`` and the incumbent's URL;
* StoreLog v2 (§8): logsender's request to Inera's national address, extensions at every ``##other``
  of the log types, and the ``v2`` path;

and for every contract the transport shapes of §1 (``tests.interop.shapes``): ISO-8859-1 and UTF-8
with and without a byte order mark and an XML declaration, the HTTP charset when nothing else names
the encoding, SOAPAction quoted, unquoted, empty, absent or another operation's, other namespace
prefixes, pretty-printed CRLF text, WS-Addressing headers beside the LogicalAddress, and a body posted
to another contract's address. The expected answer is what the incumbent gives for each: OK, or the
contract's ERROR answer with HTTP 200 (§1.1), never a SOAP fault.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from lxml import etree

from domain import result_texts as texts
from tests import envelopes as m
from tests import send_message_to_care as smtc
from tests import store_log_envelopes as slog
from tests.interop import shapes

CREATE_DRAFT = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
CREATE_DRAFT_INCUMBENT = "/services/create-draft-certificate/v3.0"
SEND_MESSAGE = "/clinicalprocess/healthcond/certificate/SendMessageToCare/2/rivtabp21"
SEND_MESSAGE_INCUMBENT = "/services/send-message-to-care/v2.0"
STORE_LOG = "/informationsecurity/auditing/log/StoreLog/2/rivtabp21"
STORE_LOG_V2 = "/informationsecurity/auditing/log/StoreLog/v2/rivtabp21"
INERA_LOG_ADDRESS = "SE165565594230-1000"  # the StoreLog WSDL's documented logical address (§8)
TEXT_XML = "text/xml; charset=UTF-8"

SOAP_ACTIONS = {
    "CreateDraftCertificate": f"{m.CDC_NS}:CreateDraftCertificate",
    "SendMessageToCare": f"{m.SMTC_NS}:SendMessageToCare",
    "StoreLog": f"{m.SLR_NS}:StoreLog",
}


@dataclass(frozen=True, slots=True)
class Expected:
    """The incumbent's answer: HTTP 200 and this ResultType (``text`` is the catalogue text it starts with)."""

    result_code: str
    error_id: str | None = None
    text: str | None = None


OK = Expected("OK")


@dataclass(frozen=True, slots=True)
class Case:
    """One request as a client sends it, and the answer it must get."""

    name: str
    path: str
    body: bytes
    expected: Expected
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": TEXT_XML})


def _refusal(text: texts.ResultText, result_code: str = "ERROR") -> Expected:
    """An ERROR answer from the catalogue: its errorId (none in StoreLog's ResultType) and text's start."""
    error_id = None if result_code != "ERROR" else text.error_id.value
    return Expected(result_code, error_id, text.sv.split("{", 1)[0])


def transport_shapes(name: str, path: str, tree: Callable[[], etree._Element], operation: str,
                     expected: Expected = OK) -> Iterator[Case]:
    """The same message in every encoding, prefix, layout and SOAPAction shape the field sends.

    ``tree`` builds a fresh envelope for each case (a message id must not repeat).
    """
    for encoding, declaration, bom, charset in [
        ("UTF-8", True, False, "UTF-8"),
        ("UTF-8", False, False, "UTF-8"),
        ("UTF-8", True, True, "UTF-8"),
        ("UTF-8", False, True, None),
        ("ISO-8859-1", True, False, "ISO-8859-1"),
        ("ISO-8859-1", True, False, "UTF-8"),  # the declaration is right, the HTTP header is a default
        ("ISO-8859-1", False, False, "ISO-8859-1"),  # only the HTTP charset names the encoding
    ]:
        content_type = "text/xml" + (f"; charset={charset}" if charset else "")
        label = f"{encoding}{'' if declaration else ' no-declaration'}{' BOM' if bom else ''} charset={charset}"
        yield Case(f"{name}: {label}", path, shapes.written(tree(), encoding, declaration=declaration, bom=bom),
                   expected, {"Content-Type": content_type})
    yield Case(f"{name}: ISO-8859-1 named nowhere", path, shapes.written(tree(), "ISO-8859-1", declaration=False),
               _refusal(texts.NOT_XML), {"Content-Type": "text/xml"})
    yield Case(f"{name}: pretty-printed with CRLF", path, shapes.written(tree(), pretty=True, crlf=True), expected)
    action = SOAP_ACTIONS[operation]
    other = next(a for op, a in SOAP_ACTIONS.items() if op != operation)
    for label, value in [("quoted", f'"{action}"'), ("unquoted", action), ("empty", '""'), ("another operation's",
                                                                                          f'"{other}"')]:
        yield Case(f"{name}: SOAPAction {label}", path, shapes.written(tree()), expected,
                   {"Content-Type": TEXT_XML, "SOAPAction": value})
    soap_env = {m.SOAP_ENV_NS: "SOAP-ENV"}
    yield Case(f"{name}: SOAP-ENV and numbered prefixes", path, shapes.written(shapes.reprefixed(tree(), soap_env)),
               expected)
    yield Case(f"{name}: a default namespace on every element", path,
               shapes.written(shapes.default_namespace_per_element(tree())), expected)
    wsa = "http://www.w3.org/2005/08/addressing"
    addressed = tree()
    header = addressed.find(f"{{{m.SOAP_ENV_NS}}}Header")
    assert header is not None
    for tag, text in (("Action", action), ("MessageID", "urn:uuid:6a0e2f3c-1f6b-4c1e-9d57-2f9d3d3f0c11"),
                      ("To", "http://gateway.example")):
        etree.SubElement(header, f"{{{wsa}}}{tag}", nsmap={"wsa": wsa}).text = text
    yield Case(f"{name}: WS-Addressing headers beside the LogicalAddress", path, shapes.written(addressed), expected)


# --- CreateDraftCertificate v3 -------------------------------------------------------------------

# The ##other wildcards of the request (contracts.md §3.1): the request itself, cdc:HosPersonal,
# cdc:Enhet, ext33:Forifyllnad and the core:Svar inside it.
CREATE_DRAFT_WILDCARDS = ("/soapenv:Envelope/soapenv:Body/cdc:CreateDraftCertificate",
                          "//cdc:skapadAv", "//cdc:enhet", "//ext33:forifyllnad", "//ext33:svar")


def _draft(logical_address: str | None = m.DEFAULT_UNIT_HSA_ID, **overrides: object) -> etree._Element:
    values: dict[str, object] = {"given_name": "Åsa", "family_name": "Öberg", "city": "Småmåla",
                                 "user_name": "Ajla Läkare", "unit_name": "Vårdcentralen Älvsjö"}
    return shapes.envelope(m.create_draft_body(**{**values, **overrides}), logical_address)  # type: ignore[arg-type]


def create_draft_cases() -> list[Case]:
    """CreateDraftCertificate requests from journal systems old and new; each answers OK unless said."""
    cases = [Case("KV_INTYGSTYP LISJP", CREATE_DRAFT, shapes.written(_draft()), OK)]
    for code in ("LUSE", "LISJP", "LUAE_NA", "LUAE_FS", "luse", "lisjp", "luae_na", "luae_fs", "TSTRK1007"):
        cases.append(Case(f"KV_UTLATANDE_TYP {code}", CREATE_DRAFT,
                          shapes.written(_draft(type_code=code, type_code_system=m.KV_UTLATANDE_TYP)), OK))
    cases.append(Case("lisjp in KV_INTYGSTYP: only the legacy system takes codes in any case", CREATE_DRAFT,
                      shapes.written(_draft(type_code="lisjp")), _refusal(texts.TYPE_CODE_SYSTEM)))
    cases.append(Case("IGRAV in KV_UTLATANDE_TYP: never served in the legacy system", CREATE_DRAFT,
                      shapes.written(_draft(type_code="IGRAV", type_code_system=m.KV_UTLATANDE_TYP)),
                      _refusal(texts.TYPE_CODE_SYSTEM)))
    cases.append(Case("an empty mellannamn", CREATE_DRAFT, shapes.written(_draft(middle_name="")), OK))
    for address in ("1", "?", ""):
        cases.append(Case(f"LogicalAddress {address!r}", CREATE_DRAFT, shapes.written(_draft(address)), OK))
    cases.append(Case("no LogicalAddress header", CREATE_DRAFT, shapes.written(_draft(None)), OK))
    cases.append(Case("extension content at every ##other", CREATE_DRAFT,
                      shapes.written(shapes.with_extensions(_draft(prefill=m.prefill_element()),
                                                            CREATE_DRAFT_WILDCARDS)), OK))
    cases.append(Case("the incumbent's address", CREATE_DRAFT_INCUMBENT, shapes.written(_draft()), OK))
    cases.append(Case("the RIVTA address with a trailing slash", CREATE_DRAFT + "/", shapes.written(_draft()), OK))
    cases.extend(transport_shapes("LISJP", CREATE_DRAFT, _draft, "CreateDraftCertificate"))
    wrong = _refusal(texts.WRONG_OPERATION)
    cases.append(Case("a SendMessageToCare body at this address", CREATE_DRAFT,
                      smtc.send_message_envelope(certificate_id="c-1"), wrong))
    cases.append(Case("a body element in an unknown namespace", CREATE_DRAFT,
                      shapes.written(_draft()).replace(m.CDC_NS.encode(), b"urn:example:not-a-contract:1"), wrong))
    return cases


# --- SendMessageToCare v2 -------------------------------------------------------------------------

# ##other in smtc:SendMessageToCareType, in the anonymous types of skickatAv and komplettering (§5.1).
SEND_MESSAGE_WILDCARDS = ("/soapenv:Envelope/soapenv:Body/smtc:SendMessageToCare", "//smtc:skickatAv",
                          "//smtc:komplettering")


def send_message_cases(certificate_id: str, person_id: str, recipient: str) -> list[Case]:
    """Försäkringskassan's questions as Intygstjänsten forwards them about ``certificate_id``: each OK.

    Every case carries a meddelande-id of its own, as every real message does.
    """
    numbers = itertools.count(1)

    def question(logical_address: str | None = recipient, **overrides: object) -> etree._Element:
        values: dict[str, object] = {
            "message_id": f"fk-interop-{next(numbers):04d}", "certificate_id": certificate_id,
            "person_id": person_id, "recipient": recipient, "text": "Vänligen förtydliga arbetsförmågan.",
            "heading": "Komplettering", "contact_info": ("Handläggare Åström, 010-1234567",)}
        return shapes.envelope(smtc.send_message_body(**{**values, **overrides}), logical_address)  # type: ignore[arg-type]

    cases = [Case("a KOMPLT question", SEND_MESSAGE, shapes.written(question()), OK)]
    cases.append(Case("an OVRIGT question with amne's displayName", SEND_MESSAGE,
                      shapes.written(question(amne="OVRIGT", amne_display_name="Övrigt", kompletteringar=())), OK))
    cases.append(Case("no referens-id and an empty rubrik", SEND_MESSAGE,
                      shapes.written(question(reference_id=None, heading="")), OK))
    cases.append(Case("LogicalAddress '?'", SEND_MESSAGE, shapes.written(question("?")), OK))
    cases.append(Case("extension content at every ##other", SEND_MESSAGE,
                      shapes.written(shapes.with_extensions(question(), SEND_MESSAGE_WILDCARDS)), OK))
    cases.append(Case("the incumbent's address", SEND_MESSAGE_INCUMBENT, shapes.written(question()), OK))
    cases.extend(transport_shapes("KOMPLT question", SEND_MESSAGE, question, "SendMessageToCare"))
    cases.append(Case("a CreateDraftCertificate body at this address", SEND_MESSAGE,
                      shapes.written(_draft()), _refusal(texts.WRONG_OPERATION)))
    return cases


# --- StoreLog v2 ------------------------------------------------------------------------------------

# Every ##other of the log types (§8.1): StoreLogType, LogType, SystemType, ActivityType, UserType,
# CareProviderType and CareUnitType (under user and resource), ResourcesType, ResourceType,
# PatientType and log:IIType (patientId).
STORE_LOG_WILDCARDS = (
    "/soapenv:Envelope/soapenv:Body/slr:StoreLog", "//slr:log", "//log:system", "//log:activity", "//log:user",
    "//log:careProvider", "//log:careUnit", "//log:resources", "//log:resource", "//log:patient",
    "//log:patientId",
)


def _log(logical_address: str | None = INERA_LOG_ADDRESS) -> etree._Element:
    entry = slog.entry(system_name="Journalsystemet Åre", assignment="Vårdcentralen Älvsjö",
                       activity_args="Läsning av intyg")
    return shapes.envelope(slog.store_log_body(entry), logical_address)


def store_log_cases() -> list[Case]:
    """PDL log entries as logsender and journal systems send them: each OK unless said."""
    cases = [Case("one entry to Inera's address", STORE_LOG, shapes.written(_log()), OK)]
    cases.append(Case("the v2 path the platform uses", STORE_LOG_V2, shapes.written(_log()), OK))
    cases.append(Case("ten entries, as logsender batches them", STORE_LOG,
                      slog.store_log_envelope(*(slog.entry() for _ in range(10))), OK))
    for address in ("?", ""):
        cases.append(Case(f"LogicalAddress {address!r}", STORE_LOG, shapes.written(_log(address)), OK))
    cases.append(Case("extension content at every ##other", STORE_LOG,
                      shapes.written(shapes.with_extensions(_log(), STORE_LOG_WILDCARDS)), OK))
    cases.extend(_store_log_result(case) for case in transport_shapes("one entry", STORE_LOG, _log, "StoreLog"))
    cases.append(Case("a CreateDraftCertificate body at this address (the commonest misrouting)", STORE_LOG,
                      shapes.written(_draft()), _refusal(texts.WRONG_OPERATION, "VALIDATION_ERROR")))
    return cases


def _store_log_result(case: Case) -> Case:
    """StoreLog's ResultType has no errorId: a refusal is resultCode VALIDATION_ERROR or ERROR (§8.2)."""
    if case.expected.result_code != "ERROR" or case.expected.error_id is None:
        return case
    code = "VALIDATION_ERROR" if case.expected.error_id == "VALIDATION_ERROR" else "ERROR"
    return Case(case.name, case.path, case.body, Expected(code, None, case.expected.text), case.headers)
