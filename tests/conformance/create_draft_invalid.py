"""CreateDraftCertificate 3.3 requests that break one rule each.

Each kind of violation is here: a missing required element, wrong order, a child in the wrong
namespace, too many occurrences, a pattern, an enumeration, a fixed value, an empty
nonEmptyString, an element of the contract's own namespace at a ``##other`` wildcard, an extension
where there is no wildcard, a missing or malformed ``id`` attribute, an unknown body element. A
schema that loosened any rule would accept one of them.
"""

from __future__ import annotations

from tests import envelopes as m
from tests.conformance.corpus import Corpus
from tests.conformance.create_draft_corpus import (
    DELSVAR,
    ENHET,
    FORIFYLLNAD,
    INTYG,
    PATIENT,
    PERSON_ID,
    SCHEMA,
    SKAPAD_AV,
    SVAR,
    TYP,
    body_with_prefill,
    request,
)
from tests.conformance.edits import (
    append,
    at,
    duplicate,
    foreign,
    move_after,
    remove,
    rename,
    set_text,
)

__all__ = ["CORPUS", "SCHEMA"]

CORPUS = Corpus("CreateDraftCertificate 3.3, invalid requests")
invalid = CORPUS.invalid


@invalid
def missing_intyg() -> bytes:
    """intyg is required."""
    return request(body=remove(m.create_draft_body(), INTYG))


@invalid
def missing_type_code_system() -> bytes:
    """typAvIntyg needs codeSystem."""
    return request(body=remove(m.create_draft_body(), f"{TYP}/types:codeSystem"))


@invalid
def missing_patient_given_name() -> bytes:
    """fornamn is required."""
    return request(body=remove(m.create_draft_body(), f"{PATIENT}/core:fornamn"))


@invalid
def missing_patient_city() -> bytes:
    """The address is schema-required even though Webcert ignores it."""
    return request(body=remove(m.create_draft_body(), f"{PATIENT}/core:postort"))


@invalid
def missing_person_id_root() -> bytes:
    """PersonId needs root."""
    return request(body=remove(m.create_draft_body(), f"{PERSON_ID}/types:root"))


@invalid
def missing_user_hsa_extension() -> bytes:
    """HsaId needs extension (IIType's optional extension is required by the restriction)."""
    return request(body=remove(m.create_draft_body(), f"{SKAPAD_AV}/cdc:personal-id/types:extension"))


@invalid
def missing_unit_name() -> bytes:
    """enhet needs enhetsnamn."""
    return request(body=remove(m.create_draft_body(), f"{ENHET}/cdc:enhetsnamn"))


@invalid
def patient_before_type() -> bytes:
    """The sequence order is typAvIntyg, patient, skapadAv, ref, forifyllnad."""
    return request(body=move_after(m.create_draft_body(), TYP, PATIENT))


@invalid
def ref_after_forifyllnad() -> bytes:
    """ref comes before forifyllnad."""
    return request(body=move_after(body_with_prefill(ref="r"), f"{INTYG}/cdc:ref", FORIFYLLNAD))


@invalid
def middle_name_after_address() -> bytes:
    """mellannamn comes right after efternamn."""
    return request(
        body=move_after(
            m.create_draft_body(middle_name="M"), f"{PATIENT}/core:mellannamn", f"{PATIENT}/core:postadress"
        )
    )


@invalid
def instans_after_delsvar() -> bytes:
    """instans comes before the delsvar."""
    body = body_with_prefill(m.svar("1", m.delsvar("1.1", "x"), instans=1))
    return request(body=move_after(body, f"{SVAR}/core:instans", DELSVAR))


@invalid
def patient_child_in_responder_namespace() -> bytes:
    """patient has the core Patient type: its children are in core, not in the responder namespace."""
    return request(body=rename(m.create_draft_body(), f"{PATIENT}/core:fornamn", "cdc:fornamn"))


@invalid
def user_child_in_core_namespace() -> bytes:
    """skapadAv has the responder's HosPersonal type: its children are in the responder namespace."""
    return request(body=rename(m.create_draft_body(), f"{SKAPAD_AV}/cdc:personal-id", "core:personal-id"))


@invalid
def type_code_in_responder_namespace() -> bytes:
    """The children of typAvIntyg are in the types namespace."""
    return request(body=rename(m.create_draft_body(), f"{TYP}/types:code", "cdc:code"))


@invalid
def unqualified_svar() -> bytes:
    """forifyllnad's svar is in the 3.3 namespace; in no namespace it matches neither svar nor ##other."""
    return request(body=rename(body_with_prefill(), SVAR, "svar"))


@invalid
def delsvar_in_ext33_namespace() -> bytes:
    """delsvar is in core, although its parent svar is in the 3.3 namespace."""
    return request(body=rename(body_with_prefill(), DELSVAR, "ext33:delsvar"))


@invalid
def forifyllnad_in_responder_namespace() -> bytes:
    """forifyllnad is a reference to the global element of the 3.3 namespace."""
    return request(body=rename(body_with_prefill(), FORIFYLLNAD, "cdc:forifyllnad"))


@invalid
def address_source_in_core_namespace() -> bytes:
    """kallaAdressuppgifter is a reference to the global element of the 3.2 namespace."""
    return request(
        body=rename(
            m.create_draft_body(address_source="PU"),
            f"{PATIENT}/ext32:kallaAdressuppgifter",
            "core:kallaAdressuppgifter",
        )
    )


@invalid
def two_intyg() -> bytes:
    """intyg occurs once."""
    return request(body=duplicate(m.create_draft_body(), INTYG))


@invalid
def two_patients() -> bytes:
    """patient occurs once."""
    return request(body=duplicate(m.create_draft_body(), PATIENT))


@invalid
def two_refs() -> bytes:
    """ref occurs at most once."""
    return request(body=duplicate(m.create_draft_body(ref="r"), f"{INTYG}/cdc:ref"))


@invalid
def two_middle_names() -> bytes:
    """mellannamn occurs at most once."""
    return request(body=duplicate(m.create_draft_body(middle_name="M"), f"{PATIENT}/core:mellannamn"))


@invalid
def two_type_display_names() -> bytes:
    """displayName occurs at most once."""
    return request(body=duplicate(m.create_draft_body(type_display_name="d"), f"{TYP}/types:displayName"))


@invalid
def two_forifyllnad() -> bytes:
    """forifyllnad occurs at most once."""
    return request(body=duplicate(body_with_prefill(), FORIFYLLNAD))


@invalid
def person_id_with_eleven_digits() -> bytes:
    """The person-id extension is exactly twelve digits."""
    return request(person_id="19121212121")


@invalid
def person_id_with_thirteen_digits() -> bytes:
    """The person-id extension is exactly twelve digits."""
    return request(person_id="1912121212121")


@invalid
def person_id_with_dash() -> bytes:
    """No separator in the person-id extension."""
    return request(person_id="19121212-1212")


@invalid
def person_id_with_surrounding_space() -> bytes:
    """xs:string keeps whitespace, so the pattern sees it."""
    return request(person_id=" 191212121212")


@invalid
def unknown_person_id_root() -> bytes:
    """The person-id root is one of two OIDs."""
    return request(person_id_root="1.2.752.129.2.1.3.2")


@invalid
def hsa_id_as_person_id_root() -> bytes:
    """The HSA OID is not a person-id root."""
    return request(person_id_root=m.HSA_ID_ROOT)


@invalid
def wrong_fixed_hsa_root() -> bytes:
    """HsaId's root is fixed to the HSA OID."""
    return request(
        body=set_text(m.create_draft_body(), f"{SKAPAD_AV}/cdc:personal-id/types:root", "1.2.752.129.2.1.4.2")
    )


@invalid
def hsa_root_with_surrounding_space() -> bytes:
    """A fixed value is compared exactly; xs:string keeps the spaces."""
    return request(
        body=set_text(m.create_draft_body(), f"{ENHET}/cdc:enhets-id/types:root", f" {m.HSA_ID_ROOT} ")
    )


@invalid
def wrong_fixed_address_source_code_system() -> bytes:
    """kallaAdressuppgifter has a fixed code system."""
    body = m.create_draft_body(address_source="PU")
    return request(
        body=set_text(body, f"{PATIENT}/ext32:kallaAdressuppgifter/types:codeSystem", m.KV_INTYGSTYP)
    )


@invalid
def empty_user_hsa_id() -> bytes:
    """An HsaId extension is a nonEmptyString."""
    return request(user_hsa_id="")


@invalid
def empty_unit_hsa_id() -> bytes:
    """An HsaId extension is a nonEmptyString."""
    return request(unit_hsa_id="")


@invalid
def type_with_code_system_name() -> bytes:
    """TypAvIntyg restricts CVType to code, codeSystem and displayName."""
    body = m.create_draft_body()
    at(body, f"{TYP}/types:codeSystem").addnext(m.element("types:codeSystemName", "KV"))
    return request(body=body)


@invalid
def responder_element_at_request_wildcard() -> bytes:
    """##other excludes the responder namespace, in which the request type is declared."""
    return request(extensions={"CreateDraftCertificate": [m.element("cdc:note", "n")]})


@invalid
def responder_element_at_user_wildcard() -> bytes:
    """##other after skapadAv/enhet excludes the responder namespace."""
    return request(extensions={"skapadAv": [m.element("cdc:note", "n")]})


@invalid
def responder_element_at_unit_wildcard() -> bytes:
    """##other after enhetsnamn excludes the responder namespace."""
    return request(extensions={"enhet": [m.element("cdc:note", "n")]})


@invalid
def ext33_element_at_forifyllnad_wildcard() -> bytes:
    """Forifyllnad is declared in the 3.3 namespace, so its wildcard excludes that namespace."""
    return request(prefill=m.element("ext33:forifyllnad", m.element("ext33:note", "n")))


@invalid
def core_element_at_svar_wildcard() -> bytes:
    """The Svar type is declared in core, so its wildcard excludes core."""
    return request(
        body=body_with_prefill(m.svar("1", m.delsvar("1.1", "x"), extensions=[m.element("core:note", "n")]))
    )


@invalid
def core_element_inside_delsvar() -> bytes:
    """The delsvar wildcard excludes core."""
    return request(body=body_with_prefill(m.svar("1", m.delsvar("1.1", m.element("core:note", "n")))))


@invalid
def unqualified_element_at_wildcard() -> bytes:
    """##other also excludes elements in no namespace."""
    return request(extensions={"CreateDraftCertificate": [m.element("note", "n")]})


@invalid
def extension_inside_patient() -> bytes:
    """core:Patient has no wildcard."""
    return request(body=append(m.create_draft_body(), PATIENT, foreign()))


@invalid
def extension_inside_intyg() -> bytes:
    """The responder's Intyg has no wildcard."""
    return request(body=append(m.create_draft_body(), INTYG, foreign()))


@invalid
def extension_inside_type() -> bytes:
    """TypAvIntyg has no wildcard."""
    return request(body=append(m.create_draft_body(), TYP, foreign()))


@invalid
def malformed_types_element_at_request_wildcard() -> bytes:
    """Lax means a known element is still validated: a types:cv without code fails."""
    return request(extensions={"CreateDraftCertificate": [m.typed_value("cv", codeSystem="B")]})


@invalid
def date_period_with_impossible_date() -> bytes:
    """DateType is an xs:date: month 13 fails even though the pattern matches."""
    return request(body=body_with_prefill(m.svar("1", m.delsvar("1.1", m.date_period("2024-13-01")))))


@invalid
def date_with_time_zone() -> bytes:
    """DateType allows no time zone."""
    return request(
        body=body_with_prefill(m.svar("1", m.delsvar("1.1", m.typed_value("date", "2024-01-01Z"))))
    )


@invalid
def timestamp_with_time_zone() -> bytes:
    """TimeStampType is YYYY-MM-DDThh:mm:ss with no zone."""
    return request(
        body=body_with_prefill(
            m.svar("1", m.delsvar("1.1", m.typed_value("timestamp", "2024-01-01T12:00:00+01:00")))
        )
    )


@invalid
def timestamp_with_fraction() -> bytes:
    """TimeStampType allows no fraction of a second."""
    return request(
        body=body_with_prefill(
            m.svar("1", m.delsvar("1.1", m.typed_value("timestamp", "2024-01-01T12:00:00.000")))
        )
    )


@invalid
def time_period_with_date_only() -> bytes:
    """timePeriod bounds are timestamps, not dates."""
    return request(
        body=body_with_prefill(m.svar("1", m.delsvar("1.1", m.typed_value("timePeriod", start="2024-01-01"))))
    )


@invalid
def quantity_that_is_not_a_number() -> bytes:
    """pq's value is an xs:double."""
    return request(body=body_with_prefill(m.svar("1", m.delsvar("1.1", m.pq("37,5", "Cel")))))


@invalid
def partial_date_with_unknown_format() -> bytes:
    """partialDate's format is one of three values."""
    return request(
        body=body_with_prefill(
            m.svar("1", m.delsvar("1.1", m.typed_value("partialDate", format="MM-YYYY", value="2024")))
        )
    )


@invalid
def partial_date_with_month_thirteen() -> bytes:
    """partialDate's value pattern allows months 01 to 12 only."""
    return request(
        body=body_with_prefill(
            m.svar("1", m.delsvar("1.1", m.typed_value("partialDate", format="YYYY-MM", value="2024-13")))
        )
    )


@invalid
def svar_without_id() -> bytes:
    """svar's id attribute is required."""
    body = body_with_prefill()
    del at(body, SVAR).attrib["id"]
    return request(body=body)


@invalid
def delsvar_without_id() -> bytes:
    """delsvar's id attribute is required."""
    body = body_with_prefill()
    del at(body, DELSVAR).attrib["id"]
    return request(body=body)


@invalid
def svar_id_with_letters() -> bytes:
    """A question id is digits only."""
    return request(body=body_with_prefill(m.svar("1a", m.delsvar("1.1", "x"))))


@invalid
def delsvar_id_without_dot() -> bytes:
    """A delsvar id is digits, a dot, digits."""
    return request(body=body_with_prefill(m.svar("1", m.delsvar("1", "x"))))


@invalid
def delsvar_id_with_two_dots() -> bytes:
    """A delsvar id has exactly one dot."""
    return request(body=body_with_prefill(m.svar("1", m.delsvar("1.1.1", "x"))))


@invalid
def qualified_id_attribute() -> bytes:
    """Attributes are unqualified: core:id is not id (and is not allowed)."""
    body = body_with_prefill()
    svar = at(body, SVAR)
    svar.set(f"{{{m.CORE_NS}}}id", svar.attrib.pop("id"))
    return request(body=body)


@invalid
def unknown_attribute_on_svar() -> bytes:
    """Svar declares no attribute wildcard."""
    body = body_with_prefill()
    at(body, SVAR).set("typ", "x")
    return request(body=body)


@invalid
def svar_without_delsvar() -> bytes:
    """A svar has at least one delsvar."""
    return request(body=body_with_prefill(m.svar("1", instans=1)))


@invalid
def instans_that_is_not_a_number() -> bytes:
    """instans is an xs:int."""
    body = body_with_prefill(m.svar("1", m.delsvar("1.1", "x"), instans=1))
    return request(body=set_text(body, f"{SVAR}/core:instans", "ett"))


@invalid
def instans_beyond_xs_int() -> bytes:
    """instans is a 32-bit xs:int."""
    return request(body=body_with_prefill(m.svar("1", m.delsvar("1.1", "x"), instans=2**31)))


@invalid
def text_directly_in_svar() -> bytes:
    """Only delsvar has mixed content; svar does not."""
    body = body_with_prefill()
    at(body, SVAR).text = "fritext"
    return request(body=body)


@invalid
def text_directly_in_patient() -> bytes:
    """Patient has element-only content."""
    body = m.create_draft_body()
    at(body, PATIENT).text = "Tolvan"
    return request(body=body)


@invalid
def nil_ref() -> bytes:
    """No element is nillable, so xsi:nil is refused."""
    body = m.create_draft_body(ref="r")
    at(body, f"{INTYG}/cdc:ref").set(f"{{{m.XSI_NS}}}nil", "true")
    return request(body=body)


@invalid
def xsi_type_that_is_not_derived() -> bytes:
    """xsi:type must name a type derived from the declared one; Specialistkompetens is not a CVType."""
    cv = m.element("types:cv", m.element("types:code", "A"), **{"xsi:type": "types:Specialistkompetens"})
    return request(body=body_with_prefill(m.svar("1", m.delsvar("1.1", cv))))


@invalid
def unknown_request_element() -> bytes:
    """Only the contract's global elements may be the body."""
    return request(body=rename(m.create_draft_body(), ".", "cdc:CreateDraftCertificateRequest"))


@invalid
def request_of_another_major_version() -> bytes:
    """Version 2's namespace is not declared here."""
    body = m.create_draft_body()
    version_2 = m.CDC_NS.removesuffix(":3") + ":2"
    body.tag = f"{{{version_2}}}CreateDraftCertificate"
    return request(body=body)


@invalid
def logical_address_with_child_element() -> bytes:
    """LogicalAddress is a simple string type."""
    header = m.logical_address_header("")
    header.append(m.element("ext:address", "x"))
    return m.soap_envelope(m.create_draft_body(), headers=[header])


@invalid
def logical_address_with_attribute() -> bytes:
    """A simple-typed element carries no attributes."""
    header = m.logical_address_header("SE123")
    header.set("type", "hsa")
    return m.soap_envelope(m.create_draft_body(), headers=[header])


@invalid
def logical_address_in_wrong_namespace() -> bytes:
    """Only the registry namespace declares LogicalAddress."""
    header = m.element("ext:LogicalAddress", "SE123")
    return m.soap_envelope(m.create_draft_body(), headers=[header])
