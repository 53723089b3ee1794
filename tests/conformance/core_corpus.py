"""The core 3.3 types that CreateDraftCertificate does not reach, validated through probe elements.

Core declares types but no global elements, and the request uses only Patient and Svar (the
response ResultType). A root schema in a test namespace declares one probe element per core type,
so the full Intyg, HosPersonal, Enhet, Handelse, Arenden and the rest can be compared now, before
the contracts that use them (SendMessageToCare, CertificateStatusUpdateForCare) arrive.
"""

from __future__ import annotations

import copy

from lxml import etree

from tests import envelopes as m
from tests.conformance.corpus import Corpus
from tests.conformance.schemas import RootSchema
from tests.envelopes import Element

PROBE_NS = "urn:intygsgateway:test:probe"
CORE_TYPES = (
    "Intyg", "HosPersonal", "Enhet", "Vardgivare", "Patient", "MeddelandeReferens", "Svar",
    "ResultType", "IntygsStatus", "Handelse", "Arenden", "Relation",
)  # fmt: skip

SCHEMA = RootSchema(
    domain="clinicalprocess-healthcond-certificate",
    imports={
        m.CORE_NS: "core_components/clinicalprocess_healthcond_certificate_3.3.xsd",
        m.TYPES_NS: "core_components/clinicalprocess_healthcond_certificate_types_3.2.xsd",
        m.EXT32_NS: "core_components/clinicalprocess_healthcond_certificate_3.2_ext.xsd",
        m.EXT33_NS: "core_components/clinicalprocess_healthcond_certificate_3.3_ext.xsd",
        m.EXT34_NS: "core_components/clinicalprocess_healthcond_certificate_3.4_ext.xsd",
    },
    target_namespace=PROBE_NS,
    elements={name: f"{{{m.CORE_NS}}}{name}" for name in CORE_TYPES},
)

CORPUS = Corpus("core 3.3 types")
valid = CORPUS.valid
invalid = CORPUS.invalid

KV_PART = "769bb12b-bd9f-4203-a5cd-fd14f2eb3b80"
KV_STATUS = "9871cd17-8755-4ed9-b894-ff3729e775a4"
KV_RELATION = "c2362fcd-eda0-4f9a-bd13-b3bbaf7f2146"
KV_AMNE = "ffa59d8f-8d7e-46ae-ac9e-31804e8e8499"
KV_HANDELSE = "dfd7bbad-dbe5-4a2f-ba25-f7b9b2cc6b14"
BEFATTNING = "1.2.752.129.2.2.1.4"
LEGITIMERAT_YRKE = "1.2.752.29.23.1.6"
ARBETSPLATSKOD = "1.2.752.29.4.71"


def probe(type_name: str, *children: Element) -> bytes:
    """An envelope whose body is the probe element of one core type."""
    element = etree.Element(f"{{{PROBE_NS}}}{type_name}", nsmap={"probe": PROBE_NS, **m.PREFIXES})
    for child in children:
        element.append(copy.deepcopy(child))
    return m.soap_envelope(element)


def e(tag: str, *content: str | Element) -> Element:
    return m.element(tag, *content)


def ident(tag: str, root: str, extension: str) -> Element:
    return e(tag, e("types:root", root), e("types:extension", extension))


def code(tag: str, value: str, system: str | None, display: str | None = None) -> Element:
    children = [e("types:code", value)]
    if system is not None:
        children.append(e("types:codeSystem", system))
    if display is not None:
        children.append(e("types:displayName", display))
    return e(tag, *children)


def vardgivare(*extra: Element) -> list[Element]:
    return [
        ident("core:vardgivare-id", m.HSA_ID_ROOT, "SE2321000016-0001"),
        e("core:vardgivarnamn", "Region Alfa"),
        *extra,
    ]


def enhet(
    epost: str | None = "alfa@example.org", *, workplace_root: str = ARBETSPLATSKOD, phone: bool = True
) -> list[Element]:
    children = [
        ident("core:enhets-id", m.HSA_ID_ROOT, m.DEFAULT_UNIT_HSA_ID),
        ident("core:arbetsplatskod", workplace_root, "1234567890"),
        e("core:enhetsnamn", "Alfa vårdenhet"),
        e("core:postadress", "Storgatan 1"),
        e("core:postnummer", "12345"),
        e("core:postort", "Småmåla"),
    ]
    if phone:
        children.append(e("core:telefonnummer", "0101234567"))
    if epost is not None:
        children.append(e("core:epost", epost))
    children.append(e("core:vardgivare", *vardgivare()))
    return children


def hos_personal(*, befattning_system: str = BEFATTNING, full: bool = True) -> list[Element]:
    children = [
        ident("core:personal-id", m.HSA_ID_ROOT, m.DEFAULT_USER_HSA_ID),
        e("core:fullstandigtNamn", "Ajla Doktor"),
    ]
    if full:
        children += [
            e("core:forskrivarkod", "0000000"),
            code("core:befattning", "203090", befattning_system, "Läkare"),
        ]
    children.append(e("core:enhet", *enhet()))
    if full:
        children += [
            code("core:specialistkompetens", "32", None, "Allmänmedicin"),
            code("ext32:legitimeratYrke", "LK", LEGITIMERAT_YRKE, "Läkare"),
        ]
    return children


def patient() -> list[Element]:
    return [
        ident("core:person-id", m.PERSONNUMMER_ROOT, m.DEFAULT_PERSON_ID),
        e("core:fornamn", "Tolvan"),
        e("core:efternamn", "Tolvansson"),
        e("core:postadress", "Svensson, Storgatan 1"),
        e("core:postnummer", "12345"),
        e("core:postort", "Småmåla"),
    ]


def status(tidpunkt: str = "2024-01-02T10:00:00", part_system: str = KV_PART) -> list[Element]:
    return [
        code("core:part", "FKASSA", part_system),
        code("core:status", "SENTTO", KV_STATUS),
        e("core:tidpunkt", tidpunkt),
    ]


def signature() -> Element:
    """A structurally complete XML Signature (the value is not a real signature)."""
    return e(
        "ds:Signature",
        e(
            "ds:SignedInfo",
            m.element("ds:CanonicalizationMethod", Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"),
            m.element("ds:SignatureMethod", Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
            m.element(
                "ds:Reference",
                m.element("ds:DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"),
                e("ds:DigestValue", "AAAA"),
                URI="",
            ),
        ),
        e("ds:SignatureValue", "AAAA"),
    )


def intyg(
    *, signeringstidpunkt: str = "2024-01-02T09:00:00", underskrift: Element | None = None
) -> list[Element]:
    return [
        ident("core:intygs-id", m.DEFAULT_UNIT_HSA_ID, "9f02dd2f-f57c-4a73-8190-2fe602cd6e27"),
        code("core:mottagare", "FKASSA", KV_PART),
        code("core:mottagare", "AF", KV_PART),
        code("core:typ", "LISJP", m.KV_INTYGSTYP, "Läkarintyg för sjukpenning"),
        e("core:version", "1.3"),
        e("core:signeringstidpunkt", signeringstidpunkt),
        e("core:skickatTidpunkt", "2024-01-02T09:05:00"),
        e("core:patient", *patient()),
        e("core:skapadAv", *hos_personal()),
        e(
            "core:relation",
            code("core:typ", "ERSATT", KV_RELATION),
            ident("core:intygs-id", "x", "y"),
            m.extension_element(),
        ),
        e("core:status", *status(), m.extension_element()),
        m.element(
            "core:svar",
            e("core:instans", "1"),
            m.element("core:delsvar", "text", id="1.1"),
            m.extension_element(),
            id="1",
        ),
        e("ext32:underskrift", underskrift if underskrift is not None else signature()),
    ]


def handelse(
    tidpunkt: str = "2024-01-02T10:00:00.123", *, sista: str = "2024-02-01", extra: Element | None = None
) -> list[Element]:
    children = [
        code("core:handelsekod", "NYFRFV", KV_HANDELSE),
        e("core:tidpunkt", tidpunkt),
        code("core:amne", "KOMPLT", KV_AMNE, "Komplettering"),
        e("core:sistaDatumForSvar", sista),
        ident("ext34:hanteratAv", m.HSA_ID_ROOT, m.DEFAULT_USER_HSA_ID),
    ]
    return children if extra is None else [*children, extra]


def arenden(totalt: str = "3") -> list[Element]:
    return [
        e("core:totalt", totalt),
        e("core:ejBesvarade", "1"),
        e("core:besvarade", "1"),
        e("core:hanterade", "1"),
    ]


# --- valid ------------------------------------------------------------------------------------


@valid
def full_certificate() -> bytes:
    """Intyg with every optional element, including a signature and extensions."""
    return probe("Intyg", *intyg())


@valid
def minimal_certificate() -> bytes:
    """Intyg with only the required elements and a minimal HosPersonal and Enhet."""
    return probe(
        "Intyg",
        ident("core:intygs-id", "a", "b"),
        code("core:typ", "LISJP", m.KV_INTYGSTYP),
        e("core:version", "1.0"),
        e("core:patient", *patient()),
        e("core:skapadAv", *hos_personal(full=False)),
    )


@valid
def unit_with_extensions_and_care_giver_extensions() -> bytes:
    """Enhet and Vardgivare end with wildcards."""
    children = enhet(epost=None)
    children[-1] = e("core:vardgivare", *vardgivare(m.extension_element()))
    return probe("Enhet", *children, m.extension_element())


@valid
def event_with_every_element() -> bytes:
    """Handelse with amne, sistaDatumForSvar and ext34:hanteratAv."""
    return probe("Handelse", *handelse())


@valid
def question_counts_with_extension() -> bytes:
    """Arenden: four counts and a wildcard."""
    return probe("Arenden", *arenden(), m.extension_element())


@valid
def message_reference() -> bytes:
    """MeddelandeReferens with the optional referens-id and an extension."""
    return probe(
        "MeddelandeReferens",
        e("core:meddelande-id", "m1"),
        e("core:referens-id", "r1"),
        m.extension_element(),
    )


@valid
def error_result() -> bytes:
    """ResultType with ERROR, text, error id and an extension."""
    return probe(
        "ResultType",
        e("core:resultCode", "ERROR"),
        e("core:resultText", "x"),
        e("core:errorId", "TECHNICAL_ERROR"),
        m.extension_element(),
    )


@valid
def certificate_status() -> bytes:
    """IntygsStatus: part, status, time."""
    return probe("IntygsStatus", *status())


# --- invalid ----------------------------------------------------------------------------------


@invalid
def event_time_without_milliseconds() -> bytes:
    """Handelse's tidpunkt has exactly three fraction digits."""
    return probe("Handelse", *handelse("2024-01-02T10:00:00"))


@invalid
def event_time_with_two_fraction_digits() -> bytes:
    """Exactly three fraction digits, not two."""
    return probe("Handelse", *handelse("2024-01-02T10:00:00.12"))


@invalid
def event_time_with_comma() -> bytes:
    """The fraction separator is a dot (the dateTime base type refuses a comma)."""
    return probe("Handelse", *handelse("2024-01-02T10:00:00,123"))


@invalid
def event_with_extension() -> bytes:
    """Handelse has no wildcard."""
    return probe("Handelse", *handelse(extra=m.extension_element()))


@invalid
def event_handled_by_in_core_namespace() -> bytes:
    """hanteratAv is the global element of the 3.4 namespace."""
    children = handelse()
    children[-1] = ident("core:hanteratAv", m.HSA_ID_ROOT, m.DEFAULT_USER_HSA_ID)
    return probe("Handelse", *children)


@invalid
def event_code_with_wrong_code_system() -> bytes:
    """Handelsekod fixes its code system to KV_HANDELSE."""
    children = handelse()
    children[0] = code("core:handelsekod", "NYFRFV", KV_AMNE)
    return probe("Handelse", *children)


@invalid
def last_answer_date_with_zone() -> bytes:
    """sistaDatumForSvar is a DateType without zone."""
    return probe("Handelse", *handelse(sista="2024-02-01+01:00"))


@invalid
def empty_unit_email() -> bytes:
    """epost is a nonEmptyString; leave it out instead."""
    return probe("Enhet", *enhet(epost=""))


@invalid
def wrong_workplace_code_root() -> bytes:
    """ArbetsplatsKod's root is fixed."""
    return probe("Enhet", *enhet(workplace_root=m.HSA_ID_ROOT))


@invalid
def unit_without_phone() -> bytes:
    """telefonnummer is required in the core Enhet."""
    return probe("Enhet", *enhet(phone=False))


@invalid
def wrong_position_code_system() -> bytes:
    """Befattning fixes its code system."""
    return probe("HosPersonal", *hos_personal(befattning_system=KV_PART))


@invalid
def personnel_with_extension() -> bytes:
    """The core HosPersonal has no wildcard."""
    return probe("HosPersonal", *hos_personal(), m.extension_element())


@invalid
def signing_time_with_zone() -> bytes:
    """TimeStampType has no zone."""
    return probe("Intyg", *intyg(signeringstidpunkt="2024-01-02T09:00:00Z"))


@invalid
def svar_after_signature() -> bytes:
    """underskrift closes Intyg."""
    children = intyg()
    children[-1], children[-2] = children[-2], children[-1]
    return probe("Intyg", *children)


@invalid
def status_time_with_fraction() -> bytes:
    """IntygsStatus' tidpunkt is a TimeStampType without fraction."""
    return probe("IntygsStatus", *status(tidpunkt="2024-01-02T10:00:00.000"))


@invalid
def recipient_with_wrong_code_system() -> bytes:
    """Part fixes its code system to KV_PART."""
    return probe("IntygsStatus", *status(part_system=KV_STATUS))


@invalid
def count_that_is_not_a_number() -> bytes:
    """The Arenden counts are xs:int."""
    return probe("Arenden", *arenden("många"))


@invalid
def licensed_profession_with_wrong_code_system() -> bytes:
    """legitimeratYrke fixes its code system."""
    children = hos_personal()
    children[-1] = code("ext32:legitimeratYrke", "LK", KV_PART)
    return probe("HosPersonal", *children)


@invalid
def relation_without_certificate_id() -> bytes:
    """Relation needs intygs-id after typ."""
    return probe("Relation", code("core:typ", "KOMPLT", KV_RELATION))


@invalid
def signature_outside_underskrift() -> bytes:
    """underskrift wraps ds:Signature; ds:Signature directly in Intyg is out of sequence."""
    children = intyg()
    children[-1] = signature()
    return probe("Intyg", *children)


# --- differences we chose ---------------------------------------------------------------------

#: See xsd/README.md: our XML Signature stand-in accepts any content in ds:Signature.
KNOWN_DIFFERENCES = Corpus("core 3.3 types, known differences")


@KNOWN_DIFFERENCES.valid
def empty_signature_in_underskrift() -> bytes:
    """The official schemas require SignedInfo and SignatureValue inside ds:Signature."""
    return probe("Intyg", *intyg(underskrift=e("ds:Signature")))
