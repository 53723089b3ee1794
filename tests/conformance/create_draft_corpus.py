"""CreateDraftCertificate 3.3 messages built with ``tests.envelopes``: valid requests, responses.

Valid cases reach every optional element and every ``##other`` wildcard of the request and the
response; the invalid requests, one broken rule each, are in ``create_draft_invalid``. The request
wrappers here are shared by both; the tree edits come from ``tests.conformance.edits``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from tests import envelopes as m
from tests.conformance.corpus import Corpus
from tests.conformance.edits import at, foreign, move_after, remove, rename, set_text
from tests.conformance.schemas import RootSchema
from tests.envelopes import Element

SCHEMA = RootSchema(
    domain="clinicalprocess-healthcond-certificate",
    imports={
        m.CDC_NS: "interactions/CreateDraftCertificateInteraction/CreateDraftCertificateResponder_3.3.xsd",
        m.ITR_NS: "core_components/itintegration_registry_1.0.xsd",
    },
)

CORPUS = Corpus("CreateDraftCertificate 3.3")
valid = CORPUS.valid
invalid = CORPUS.invalid

# Where things are, as XPath over the body element.
INTYG = "cdc:intyg"
TYP = f"{INTYG}/cdc:typAvIntyg"
PATIENT = f"{INTYG}/cdc:patient"
PERSON_ID = f"{PATIENT}/core:person-id"
SKAPAD_AV = f"{INTYG}/cdc:skapadAv"
ENHET = f"{SKAPAD_AV}/cdc:enhet"
FORIFYLLNAD = f"{INTYG}/ext33:forifyllnad"
SVAR = f"{FORIFYLLNAD}/ext33:svar"
DELSVAR = f"{SVAR}/core:delsvar"


def request(body: Element | None = None, **overrides: Any) -> bytes:
    """Wrap a (possibly broken) body in a request envelope with the LogicalAddress header."""
    return m.create_draft_envelope(body=body if body is not None else m.create_draft_body(**overrides))


def response(body: Element) -> bytes:
    """Wrap a response body; responses carry no header."""
    return m.soap_envelope(body)


def body_with_prefill(*svar_elements: Element, **overrides: Any) -> Element:
    """A default request with a forifyllnad holding ``svar_elements`` (one text svar if none)."""
    if not svar_elements:
        svar_elements = (m.svar("1", m.delsvar("1.1", "Arbetar som snickare")),)
    return m.create_draft_body(prefill=m.prefill_element(*svar_elements), **overrides)


# --- valid requests ---------------------------------------------------------------------------


@valid
def minimal_request() -> bytes:
    """Only the required elements: type, patient with address, user and unit."""
    return request()


@valid
def request_with_every_optional_element() -> bytes:
    """displayName, mellannamn, kallaAdressuppgifter, ref, a prefill, and extensions everywhere."""
    prefill = m.prefill_element(
        m.svar(
            "1",
            m.delsvar("1.1", "Snickare"),
            m.delsvar("1.2", m.cv("NUVARANDE_ARBETE", "KV_SYSSELSATTNING")),
            instans=1,
        ),
        m.svar(
            "32",
            m.delsvar("32.1", m.cv("HELT_NEDSATT", "KV_SJUKSKRIVNINGSNIVA")),
            m.delsvar("32.2", m.date_period("2024-01-01", "2024-01-14")),
            instans=1,
            extensions=[foreign()],
        ),
        extensions=[foreign()],
    )
    return request(
        type_display_name="Läkarintyg för sjukpenning",
        middle_name="Mellan",
        address_source="PU",
        ref="journal-ref-4711",
        prefill=prefill,
        extensions=[foreign(), m.extension_element("second")],
    )


@valid
def samordningsnummer_as_person_id() -> bytes:
    """The person-id root may be the samordningsnummer OID as well as the personnummer OID."""
    return request(person_id="191212721212", person_id_root=m.SAMORDNINGSNUMMER_ROOT)


@valid
def legacy_type_code_system() -> bytes:
    """typAvIntyg's code system is not fixed: KV_UTLATANDE_TYP passes the schema."""
    return request(type_code="TSTRK1007", type_code_system=m.KV_UTLATANDE_TYP)


@valid
def address_source_entered_by_user() -> bytes:
    """ext32:kallaAdressuppgifter closes the patient, with its fixed code system."""
    return request(address_source="ANVANDARE")


@valid
def empty_strings_where_only_a_string_is_required() -> bytes:
    """fornamn, fullstandigtNamn and ref are plain xs:string: empty is schema-valid (rules check it)."""
    return request(given_name="", user_name="", ref="")


@valid
def empty_fixed_hsa_root() -> bytes:
    """An empty element with a fixed value is valid: the validator supplies the value."""
    return request(body=set_text(m.create_draft_body(), f"{SKAPAD_AV}/cdc:personal-id/types:root", ""))


@valid
def person_id_with_non_ascii_digits() -> bytes:
    """The pattern \\d{12} matches any Unicode decimal digits; only the rules can refuse these."""
    return request(person_id="١٩١٢١٢١٢١٢١٢")


@valid
def empty_logical_address() -> bytes:
    """LogicalAddress is a plain string: empty is valid (test samples send it empty)."""
    return m.create_draft_envelope(logical_address="")


@valid
def prefill_without_svar() -> bytes:
    """forifyllnad may hold no svar at all."""
    return request(prefill=m.element("ext33:forifyllnad"))


@valid
def sample_prefill() -> bytes:
    """The builder's sample forifyllnad: coded, text and date-period delsvar, one svar with instans."""
    return request(prefill=m.prefill_element())


@valid
def prefill_with_several_svar_and_instans() -> bytes:
    """Several svar with instans and several text delsvar each."""
    return request(
        body=body_with_prefill(
            m.svar("1", m.delsvar("1.1", "Första"), m.delsvar("1.2", "Andra"), instans=1),
            m.svar("1", m.delsvar("1.1", "Tredje"), instans=2),
            m.svar("27", m.delsvar("27.1", "true")),
        )
    )


@valid
def typed_delsvar_of_every_types_element() -> bytes:
    """Every global element of the types namespace is allowed (and checked, lax) in a delsvar."""
    values = [
        m.cv(
            "KOD",
            "SYSTEM",
            code_system_name="namn",
            code_system_version="1",
            display_name="Kod",
            original_text="kod",
        ),
        m.date_period("2024-01-01", "2024-02-01"),
        m.date_period(),
        m.pq("37.5", "Cel"),
        m.typed_value("pqInterval", low="1", high="2.5E1", unit="mg"),
        m.typed_value("partialDate", format="YYYY-MM", value="2024-02"),
        m.typed_value("timePeriod", start="2024-01-01T08:00:00", end="2024-01-01T17:00:00"),
        m.typed_value("ii", root="1.2.3", extension="4"),
        m.typed_value("date", "2024-03-01"),
        m.typed_value("timestamp", "2024-03-01T12:30:00"),
    ]
    return request(
        body=body_with_prefill(*(m.svar(str(n), m.delsvar(f"{n}.1", v)) for n, v in enumerate(values, 1)))
    )


@valid
def delsvar_mixing_text_and_elements() -> bytes:
    """delsvar has mixed content: text around and between elements."""
    return request(
        body=body_with_prefill(
            m.svar("1", m.delsvar("1.1", "före ", m.cv("A", "B"), " mellan ", m.pq("1", "st"), " efter"))
        )
    )


@valid
def empty_delsvar() -> bytes:
    """Mixed content may also be empty."""
    return request(body=body_with_prefill(m.svar("1", m.delsvar("1.1"))))


@valid
def derived_type_by_xsi_type() -> bytes:
    """PersonId restricts IIType, so a types:ii may declare xsi:type="types:PersonId"."""
    ii = m.element(
        "types:ii",
        m.element("types:root", m.PERSONNUMMER_ROOT),
        m.element("types:extension", "191212121212"),
        **{"xsi:type": "types:PersonId"},
    )
    return request(body=body_with_prefill(m.svar("1", m.delsvar("1.1", ii))))


@valid
def extensions_at_every_request_wildcard() -> bytes:
    """Foreign elements after intyg, after skapadAv/enhet and after enhet/enhetsnamn."""
    nested = m.element("ext:note", m.element("ext:line", "a"), m.element("ext:line", "b"), kind="x")
    return request(extensions=[foreign(), nested])


@valid
def extensions_at_every_prefill_wildcard() -> bytes:
    """Foreign elements after the svar of forifyllnad, after the delsvar of svar, inside delsvar."""
    prefill = m.prefill_element(
        m.svar("1", m.delsvar("1.1", "text", foreign()), extensions=[foreign()]),
        extensions=[foreign(), foreign()],
    )
    return request(prefill=prefill)


@valid
def ext33_element_at_the_svar_wildcard() -> bytes:
    """ext33:svar has the core Svar type, whose wildcard excludes core, not the 3.3 namespace."""
    return request(
        body=body_with_prefill(m.svar("1", m.delsvar("1.1", "x"), extensions=[m.element("ext33:note", "n")]))
    )


@valid
def svar_in_core_namespace_is_an_unknown_extension() -> bytes:
    """A core:svar is not forifyllnad's svar but matches its lax wildcard (core declares no global
    svar), so the schema accepts it and a reader that looks for ext33:svar finds no prefill."""
    return request(body=rename(body_with_prefill(), SVAR, "core:svar"))


@valid
def responder_element_inside_delsvar() -> bytes:
    """The delsvar wildcard belongs to core: an undeclared responder-namespace element is skipped."""
    return request(body=body_with_prefill(m.svar("1", m.delsvar("1.1", m.element("cdc:note", "n")))))


@valid
def well_formed_types_element_at_request_wildcard() -> bytes:
    """A known element at a lax wildcard is validated, and passes when well formed."""
    return request(extensions={"CreateDraftCertificate": [m.cv("A", "B")]})


@valid
def pretty_printed_request_with_comments() -> bytes:
    """Indentation and comments between elements do not matter to element-only content."""
    body = m.create_draft_body(ref="r")
    at(body, PATIENT).insert(0, etree.Comment(" patient "))
    pretty = etree.tostring(etree.fromstring(request(body)), pretty_print=True, encoding="UTF-8")
    return bytes(pretty)


# --- responses --------------------------------------------------------------------------------


@valid
def response_ok() -> bytes:
    """Success: the new certificate's id and OK."""
    return response(m.create_draft_response_body())


@valid
def response_info() -> bytes:
    """Success with a warning to show: INFO and resultText."""
    return response(
        m.create_draft_response_body(result_code="INFO", result_text="Patienten har skyddad identitet")
    )


@valid
def response_error() -> bytes:
    """Failure: no id, ERROR with resultText and errorId in that order."""
    return response(
        m.create_draft_response_body(
            certificate_id=None, result_code="ERROR", result_text="Fel", error_id="VALIDATION_ERROR"
        )
    )


@valid
def response_revoked_without_text() -> bytes:
    """resultText and errorId are each optional in the schema; REVOKED is a known error id."""
    return response(
        m.create_draft_response_body(certificate_id=None, result_code="ERROR", error_id="REVOKED")
    )


@valid
def response_with_extensions() -> bytes:
    """Foreign elements after result and after the result's own fields."""
    body = m.create_draft_response_body(extensions=[foreign()])
    at(body, "cdc:result").append(foreign())
    return response(body)


@invalid
def response_without_result() -> bytes:
    """result is required."""
    return response(remove(m.create_draft_response_body(), "cdc:result"))


@invalid
def response_with_unknown_result_code() -> bytes:
    """resultCode is OK, INFO or ERROR."""
    return response(m.create_draft_response_body(result_code="FAIL"))


@invalid
def response_with_lower_case_result_code() -> bytes:
    """Enumerations are case-sensitive."""
    return response(m.create_draft_response_body(result_code="ok"))


@invalid
def response_with_unknown_error_id() -> bytes:
    """errorId is one of four values."""
    return response(
        m.create_draft_response_body(
            certificate_id=None, result_code="ERROR", result_text="x", error_id="NOT_FOUND"
        )
    )


@invalid
def response_with_error_id_before_text() -> bytes:
    """resultText comes before errorId."""
    body = m.create_draft_response_body(
        certificate_id=None, result_code="ERROR", result_text="x", error_id="APPLICATION_ERROR"
    )
    return response(move_after(body, "cdc:result/core:resultText", "cdc:result/core:errorId"))


@invalid
def response_certificate_id_without_extension() -> bytes:
    """IntygId requires extension."""
    return response(remove(m.create_draft_response_body(), "cdc:intygs-id/types:extension"))


@invalid
def response_result_fields_in_responder_namespace() -> bytes:
    """result has the core ResultType: resultCode is in core."""
    return response(rename(m.create_draft_response_body(), "cdc:result/core:resultCode", "cdc:resultCode"))


@invalid
def response_id_after_result() -> bytes:
    """intygs-id comes before result."""
    return response(move_after(m.create_draft_response_body(), "cdc:intygs-id", "cdc:result"))


# --- differences we chose ---------------------------------------------------------------------

#: Messages on which xsd/ (accepting) and the official schemas (refusing) knowingly differ: our
#: stand-in for XML Signature is lax and we import no XPath-filter schema (see xsd/README.md).
KNOWN_DIFFERENCES = Corpus("CreateDraftCertificate 3.3, known differences")


@KNOWN_DIFFERENCES.valid
def empty_signature_at_request_wildcard() -> bytes:
    """The official schemas validate a ds:Signature at a lax wildcard against XML Signature."""
    return request(extensions={"CreateDraftCertificate": [m.element("ds:Signature")]})


@KNOWN_DIFFERENCES.valid
def xpath_filter_with_unknown_operation() -> bytes:
    """The official schemas know the XPath filter element and its Filter enumeration."""
    xpath = etree.Element("{http://www.w3.org/2002/06/xmldsig-filter2}XPath", Filter="ignore")
    xpath.text = "/"
    return request(extensions={"CreateDraftCertificate": [xpath]})
