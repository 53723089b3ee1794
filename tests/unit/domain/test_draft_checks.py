"""Tests for domain.draft_checks: the CreateDraftCertificate v3 rules, asserted by catalogue id."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from domain import result_texts as texts
from domain.activation import Placement
from domain.certificate_types import AcceptedCode, CertificateType, CodeSystem, from_mapping, load_default_registry
from domain.directory import CARE_AND_TREATMENT, Assignment, Person, Personnel, Unit
from domain.draft_checks import check_draft_allowed, check_issuer, check_request
from domain.drafts import CertificateTypeRef, IssuerRef, NewDraftRequest, PatientRef
from domain.personnummer import parse_person_id
from domain.result_texts import Problem, result_for
from domain.values import (
    KV_INTYGSTYP,
    PERSONNUMMER_ROOT,
    SAMORDNINGSNUMMER_ROOT,
    ErrorId,
    HsaId,
    Role,
)

PNR = "191212121212"
CARE_GIVER = HsaId("SE2321000016-VG01")
CARE_UNIT = HsaId("SE2321000016-VE01")
SUB_UNIT = HsaId("SE2321000016-MO01")
OTHER_UNIT = HsaId("SE2321000016-VE99")
USER = HsaId("SE2321000016-U001")

UNITS: dict[HsaId, Unit] = {
    CARE_UNIT: Unit(CARE_UNIT, "Vårdcentralen", CARE_GIVER),
    SUB_UNIT: Unit(SUB_UNIT, "Mottagningen", CARE_GIVER, parent=CARE_UNIT),
    OTHER_UNIT: Unit(OTHER_UNIT, "Annan vårdcentral", CARE_GIVER),
}


def _request(**patient: Any) -> NewDraftRequest:
    return NewDraftRequest(
        logical_address=str(CARE_UNIT),
        certificate_type=CertificateTypeRef("LISJP", KV_INTYGSTYP),
        patient=replace(PatientRef(PERSONNUMMER_ROOT, PNR, "Tolvan", "Tolvansson"), **patient),
        issuer=IssuerRef(str(USER), "Ada Testsson", str(CARE_UNIT), "Vårdcentralen"),
    )


def _with_issuer(**issuer: Any) -> NewDraftRequest:
    request = _request()
    return replace(request, issuer=replace(request.issuer, **issuer))


def _personnel(*units: HsaId, purpose: str = CARE_AND_TREATMENT) -> Personnel:
    return Personnel(
        USER, "Ada Testsson", assignments=tuple(Assignment(unit, purpose) for unit in units)
    )


def _type(**changes: Any) -> CertificateType:
    base = CertificateType(
        code="LISJP",
        code_system=KV_INTYGSTYP,
        accepts=(AcceptedCode("LISJP", CodeSystem("KV_INTYGSTYP", KV_INTYGSTYP, True)),),
        name="Läkarintyg för sjukpenning",
        recipient="FKASSA",
        version="1.0",
        active=True,
        allowed_roles=frozenset({Role.LAKARE, Role.TANDLAKARE, Role.VARDADMINISTRATOR}),
        allowed_for_protected=True,
        allowed_for_deceased=False,
    )
    return replace(base, **changes)


def _patient(**changes: Any) -> Person:
    person = Person(parse_person_id(PERSONNUMMER_ROOT, PNR), "Tolvan", "Tolvansson")
    return replace(person, **changes)


REF = CertificateTypeRef("LISJP", KV_INTYGSTYP)


def _ids(problems: list[Problem]) -> list[str]:
    return [problem.text_id for problem in problems]


# --- check_request ----------------------------------------------------------------------------


def test_well_formed_request_has_no_problems() -> None:
    """A complete request with a valid personnummer passes the structural checks."""
    assert check_request(_request()) == []


def test_valid_samordningsnummer_passes() -> None:
    """A samordningsnummer with its own root passes."""
    request = _request(person_id_root=SAMORDNINGSNUMMER_ROOT, person_id="197010632391")
    assert check_request(request) == []


def test_blank_family_name_is_a_validation_error() -> None:
    """A blank efternamn is reported with its element path."""
    (problem,) = check_request(_request(family_name="  "))
    assert problem.text_id == texts.PATIENT_FAMILY_NAME_MISSING.id
    assert problem.error_id is ErrorId.VALIDATION_ERROR
    assert problem.path == "intyg/patient/efternamn"


def test_empty_given_name_is_allowed() -> None:
    """Some people have no given name; an empty fornamn passes, as in Webcert."""
    assert check_request(_request(given_name="")) == []


def test_blank_issuer_name_is_reported() -> None:
    """A blank skapadAv/fullstandigtNamn is a validation problem."""
    assert _ids(check_request(_with_issuer(full_name=""))) == [texts.ISSUER_NAME_MISSING.id]


def test_blank_unit_name_is_reported() -> None:
    """A blank enhetsnamn is a validation problem."""
    assert _ids(check_request(_with_issuer(unit_name=" "))) == [texts.UNIT_NAME_MISSING.id]


def test_blank_issuer_hsa_id_is_reported() -> None:
    """A blank skapadAv/personal-id extension is a validation problem."""
    assert _ids(check_request(_with_issuer(hsa_id=""))) == [texts.ISSUER_HSA_ID_MISSING.id]


def test_blank_unit_hsa_id_is_reported() -> None:
    """A blank enhets-id extension is a validation problem."""
    assert _ids(check_request(_with_issuer(unit_hsa_id=""))) == [texts.UNIT_HSA_ID_MISSING.id]


def test_bad_checksum_is_reported_with_its_path() -> None:
    """A wrong check digit gives CDC-PERSON-ID-CHECKSUM at the person-id extension."""
    (problem,) = check_request(_request(person_id="197001011234"))
    assert problem.text_id == texts.PERSON_ID_CHECKSUM.id
    assert problem.path == "intyg/patient/person-id/extension"


def test_invalid_date_is_reported() -> None:
    """30 February gives CDC-PERSON-ID-DATE."""
    assert _ids(check_request(_request(person_id="199002301234"))) == [texts.PERSON_ID_DATE.id]


def test_bad_format_is_reported() -> None:
    """A dash in the person id gives CDC-PERSON-ID-FORMAT."""
    request = _request(person_id="19121212-1212")
    assert _ids(check_request(request)) == [texts.PERSON_ID_FORMAT.id]


def test_blank_person_id_is_reported() -> None:
    """An empty person id gives CDC-PERSON-ID-MISSING."""
    assert _ids(check_request(_request(person_id=""))) == [texts.PERSON_ID_MISSING.id]


def test_unknown_root_is_reported_at_the_root() -> None:
    """A root that is neither OID gives CDC-PERSON-ID-UNKNOWN-ROOT at the root element."""
    (problem,) = check_request(_request(person_id_root="1.2.3"))
    assert problem.text_id == texts.PERSON_ID_UNKNOWN_ROOT.id
    assert problem.path == "intyg/patient/person-id/root"


def test_samordningsnummer_with_personnummer_root_is_reported() -> None:
    """Day + 60 under the personnummer root gives CDC-PERSON-ID-NOT-PERSONNUMMER."""
    request = _request(person_id="197010632391")
    assert _ids(check_request(request)) == [texts.PERSON_ID_NOT_PERSONNUMMER.id]


def test_personnummer_with_samordningsnummer_root_is_reported() -> None:
    """A personnummer under the samordningsnummer root gives CDC-PERSON-ID-NOT-SAMORDNINGSNUMMER."""
    request = _request(person_id_root=SAMORDNINGSNUMMER_ROOT)
    assert _ids(check_request(request)) == [texts.PERSON_ID_NOT_SAMORDNINGSNUMMER.id]


def test_every_structural_problem_is_collected() -> None:
    """All problems are reported together, in document order, not just the first."""
    request = replace(
        _request(person_id="197001011234", family_name=""),
        issuer=IssuerRef("", "", "", ""),
    )
    assert _ids(check_request(request)) == [
        texts.PERSON_ID_CHECKSUM.id,
        texts.PATIENT_FAMILY_NAME_MISSING.id,
        texts.ISSUER_HSA_ID_MISSING.id,
        texts.ISSUER_NAME_MISSING.id,
        texts.UNIT_HSA_ID_MISSING.id,
        texts.UNIT_NAME_MISSING.id,
    ]


# --- check_issuer -----------------------------------------------------------------------------


def test_assignment_on_the_requested_unit_passes() -> None:
    """A care assignment on exactly the requested unit is enough."""
    assert check_issuer(_request(), _personnel(CARE_UNIT), UNITS) == []


def test_assignment_matches_unit_case_insensitively() -> None:
    """HSA-ids compare case-insensitively, so a lower-case enhets-id still matches."""
    request = _with_issuer(unit_hsa_id=str(CARE_UNIT).lower())
    assert check_issuer(request, _personnel(CARE_UNIT), UNITS) == []


def test_assignment_on_a_sub_unit_covers_the_care_unit() -> None:
    """An assignment on a mottagning lets the user act on its vårdenhet."""
    assert check_issuer(_request(), _personnel(SUB_UNIT), UNITS) == []


def test_assignment_on_the_care_unit_covers_its_sub_unit() -> None:
    """An assignment on a vårdenhet covers its sub-units (the incumbent's behaviour)."""
    request = _with_issuer(unit_hsa_id=str(SUB_UNIT))
    assert check_issuer(request, _personnel(CARE_UNIT), UNITS) == []


def test_assignment_on_another_unit_is_a_validation_error() -> None:
    """An assignment on an unrelated unit does not count."""
    (problem,) = check_issuer(_request(), _personnel(OTHER_UNIT), UNITS)
    assert problem.text_id == texts.ISSUER_NO_ASSIGNMENT.id
    assert problem.error_id is ErrorId.VALIDATION_ERROR


def test_no_assignment_text_names_user_and_unit() -> None:
    """The text names both HSA-ids, which are safe to echo, so the user knows what to fix."""
    (problem,) = check_issuer(_request(), _personnel(), UNITS)
    assert str(USER) in problem.text and str(CARE_UNIT) in problem.text


def test_assignment_for_another_purpose_does_not_count() -> None:
    """Only assignments for "Vård och behandling" allow creating certificates."""
    issuer = _personnel(CARE_UNIT, purpose="Administration")
    assert _ids(check_issuer(_request(), issuer, UNITS)) == [texts.ISSUER_NO_ASSIGNMENT.id]


def test_unknown_issuer_is_a_validation_error() -> None:
    """A user the directory does not know gives CDC-ISSUER-UNKNOWN."""
    assert _ids(check_issuer(_request(), None, UNITS)) == [texts.ISSUER_UNKNOWN.id]


def test_unknown_unit_is_a_validation_error() -> None:
    """A unit missing from the fetched units gives CDC-UNIT-UNKNOWN, not a missing assignment."""
    request = _with_issuer(unit_hsa_id="SE2321000016-NONE")
    assert _ids(check_issuer(request, _personnel(CARE_UNIT), UNITS)) == [texts.UNIT_UNKNOWN.id]


def test_unknown_issuer_and_unit_are_both_reported() -> None:
    """When neither the user nor the unit exists, both problems are reported."""
    request = _with_issuer(unit_hsa_id="SE2321000016-NONE")
    assert _ids(check_issuer(request, None, UNITS)) == [
        texts.ISSUER_UNKNOWN.id,
        texts.UNIT_UNKNOWN.id,
    ]


def test_blank_ids_are_left_to_check_request() -> None:
    """Blank HSA-ids are structural problems and are not reported twice."""
    request = _with_issuer(hsa_id="", unit_hsa_id="")
    assert check_issuer(request, None, UNITS) == []


def test_cyclic_unit_parents_do_not_hang() -> None:
    """Broken directory data with a parent cycle ends in a refusal, not an endless loop."""
    a, b = HsaId("SE-A"), HsaId("SE-B")
    units = {a: Unit(a, "A", CARE_GIVER, parent=b), b: Unit(b, "B", CARE_GIVER, parent=a)}
    request = _with_issuer(unit_hsa_id="SE-A")
    issuer = _personnel(OTHER_UNIT)
    assert _ids(check_issuer(request, issuer, units)) == [texts.ISSUER_NO_ASSIGNMENT.id]


# --- check_draft_allowed ----------------------------------------------------------------------

TODAY = dt.date(2026, 12, 1)
AT_CARE_UNIT = Placement((CARE_UNIT,), CARE_GIVER)


def _allowed(certificate_type: CertificateType | None, ref: CertificateTypeRef, role: Role,
             patient: Person | None) -> list[Problem]:
    """``check_draft_allowed`` at the care unit today (activation has its own tests below)."""
    return check_draft_allowed(certificate_type, ref, role, patient, placement=AT_CARE_UNIT, day=TODAY)


def test_allowed_draft_has_no_problems() -> None:
    """A läkare creating an active type for a living, unprotected patient passes."""
    assert _allowed(_type(), REF, Role.LAKARE, _patient()) == []


def test_unknown_type_is_an_application_error_and_stops() -> None:
    """An unknown type gives only CDC-TYPE-UNKNOWN, whatever else is wrong."""
    problems = _allowed(None, REF, Role.BARNMORSKA, None)
    assert _ids(problems) == [texts.TYPE_UNKNOWN.id]
    assert problems[0].error_id is ErrorId.APPLICATION_ERROR


def test_unknown_type_text_names_code_and_code_system() -> None:
    """Type codes are safe to echo, and help the integrator spot the typo."""
    (problem,) = _allowed(None, CertificateTypeRef("LISJPX", "urn:x"), Role.LAKARE, None)
    assert "LISJPX" in problem.text and "urn:x" in problem.text


def test_a_known_code_in_a_code_system_that_does_not_take_it_names_the_accepted_pairs() -> None:
    """``lisjp`` in KV_INTYGSTYP is no type, but the answer says which pairs LISJP is accepted as."""
    registry = load_default_registry()
    ref = CertificateTypeRef("lisjp", KV_INTYGSTYP)
    assert registry.lookup(ref.code, ref.code_system) is None
    (problem,) = check_draft_allowed(None, ref, Role.LAKARE, None, placement=AT_CARE_UNIT, day=TODAY,
                                      accepted=registry.accepted_for(ref.code))
    assert problem.text_id == texts.TYPE_CODE_SYSTEM.id and problem.error_id is ErrorId.APPLICATION_ERROR
    assert problem.text.endswith(
        "Koden tas emot som: LISJP (KV_INTYGSTYP, b64ea353-e8f6-4832-b563-fc7d46f29548), "
        "LISJP (KV_UTLATANDE_TYP, f6fb361a-e31d-48b8-8657-99b63912dd9b)."
    )


def test_a_code_no_type_accepts_in_any_code_system_is_unknown() -> None:
    """With nothing accepted for the code the answer stays CDC-TYPE-UNKNOWN."""
    registry = load_default_registry()
    ref = CertificateTypeRef("LUSEX", KV_INTYGSTYP)
    problems = check_draft_allowed(None, ref, Role.LAKARE, None, placement=AT_CARE_UNIT, day=TODAY,
                                   accepted=registry.accepted_for(ref.code))
    assert _ids(problems) == [texts.TYPE_UNKNOWN.id]


def test_echoed_values_are_cut_short() -> None:
    """A runaway code is echoed only in part, so the answer stays readable."""
    ref = CertificateTypeRef("X" * 5000, KV_INTYGSTYP)
    (problem,) = _allowed(None, ref, Role.LAKARE, None)
    assert "X" * 63 + "…" in problem.text
    assert "X" * 64 not in problem.text


def test_inactive_type_is_an_application_error_and_stops() -> None:
    """A deactivated type gives only CDC-TYPE-INACTIVE."""
    problems = _allowed(_type(active=False), REF, Role.BARNMORSKA, None)
    assert _ids(problems) == [texts.TYPE_INACTIVE.id]


def test_role_not_allowed_for_type_is_an_application_error() -> None:
    """A barnmorska may not create an LISJP."""
    problems = _allowed(_type(), REF, Role.BARNMORSKA, _patient())
    assert _ids(problems) == [texts.ROLE_NOT_ALLOWED.id]
    assert problems[0].error_id is ErrorId.APPLICATION_ERROR


def test_role_text_lists_who_may_create_in_swedish() -> None:
    """The text says which roles may create the type, so the user knows whom to ask."""
    (problem,) = _allowed(_type(), REF, Role.BARNMORSKA, _patient())
    assert "läkare, tandläkare eller vårdadministratör" in problem.text


def test_unknown_patient_is_an_application_error() -> None:
    """A patient PU does not know gives CDC-PATIENT-UNKNOWN."""
    assert _ids(_allowed(_type(), REF, Role.LAKARE, None)) == [texts.PATIENT_UNKNOWN.id]


def test_role_problem_is_kept_when_patient_is_unknown() -> None:
    """The role check runs before the patient check, so both are reported."""
    problems = _allowed(_type(), REF, Role.BARNMORSKA, None)
    assert _ids(problems) == [texts.ROLE_NOT_ALLOWED.id, texts.PATIENT_UNKNOWN.id]


def test_deceased_patient_gets_application_error() -> None:
    """A type not allowed for the deceased is refused for a deceased patient."""
    problems = _allowed(_type(), REF, Role.LAKARE, _patient(deceased=True))
    assert _ids(problems) == [texts.PATIENT_DECEASED.id]


def test_deceased_patient_is_fine_for_types_allowed_for_deceased() -> None:
    """A DOI-like type may be created for a deceased patient."""
    certificate_type = _type(allowed_for_deceased=True)
    assert _allowed(certificate_type, REF, Role.LAKARE, _patient(deceased=True)) == []


def test_protected_patient_with_vardadministrator_is_refused() -> None:
    """Only läkare and tandläkare may create certificates for a protected patient."""
    patient = _patient(protected_identity=True)
    problems = _allowed(_type(), REF, Role.VARDADMINISTRATOR, patient)
    assert _ids(problems) == [texts.PROTECTED_PATIENT_ROLE.id]


@pytest.mark.parametrize("role", [Role.LAKARE, Role.TANDLAKARE])
def test_protected_patient_with_lakare_or_tandlakare_is_allowed(role: Role) -> None:
    """Läkare and tandläkare may create an allowed type for a protected patient."""
    assert _allowed(_type(), REF, role, _patient(protected_identity=True)) == []


def test_protected_patient_with_type_not_allowed_is_refused() -> None:
    """A type not allowed for protected patients is refused even for a läkare."""
    certificate_type = _type(allowed_for_protected=False)
    patient = _patient(protected_identity=True)
    problems = _allowed(certificate_type, REF, Role.LAKARE, patient)
    assert _ids(problems) == [texts.PROTECTED_PATIENT_TYPE.id]


def test_protected_patient_role_and_type_are_distinct_problems() -> None:
    """A sjuksköterska asking for a type barred for protected patients gets both problems."""
    certificate_type = _type(
        allowed_for_protected=False, allowed_roles=frozenset({Role.SJUKSKOTERSKA})
    )
    patient = _patient(protected_identity=True)
    problems = _allowed(certificate_type, REF, Role.SJUKSKOTERSKA, patient)
    assert _ids(problems) == [texts.PROTECTED_PATIENT_ROLE.id, texts.PROTECTED_PATIENT_TYPE.id]


def test_all_application_problems_are_collected_in_order() -> None:
    """Role, deceased and both protected problems come together, in the documented order."""
    certificate_type = _type(allowed_for_protected=False)
    patient = _patient(deceased=True, protected_identity=True)
    problems = _allowed(certificate_type, REF, Role.BARNMORSKA, patient)
    assert _ids(problems) == [
        texts.ROLE_NOT_ALLOWED.id,
        texts.PATIENT_DECEASED.id,
        texts.PROTECTED_PATIENT_ROLE.id,
        texts.PROTECTED_PATIENT_TYPE.id,
    ]


def test_registry_type_added_by_data_is_checked_like_any_other() -> None:
    """A type that exists only in a deployment's data is allowed and refused by its own fields."""
    registry = from_mapping(
        {
            "code_systems": {"KV_INTYGSTYP": {"value": KV_INTYGSTYP, "case_sensitive_codes": True}},
            "certificate_types": {
                "NYTT1": {
                    "accepts": [{"code": "NYTT1", "code_system": "KV_INTYGSTYP"}],
                    "name": "Nytt intyg",
                    "recipient": "HSVARD",
                    "version": "1.0",
                    "active": True,
                    "allowed_roles": ["BARNMORSKA"],
                    "allowed_for_protected": True,
                    "allowed_for_deceased": False,
                }
            },
        }
    )
    ref = CertificateTypeRef("NYTT1", KV_INTYGSTYP)
    certificate_type = registry.lookup(ref.code, ref.code_system)
    assert _allowed(certificate_type, ref, Role.BARNMORSKA, _patient()) == []
    assert _ids(_allowed(certificate_type, ref, Role.LAKARE, _patient())) == [
        texts.ROLE_NOT_ALLOWED.id
    ]


# --- result_for -------------------------------------------------------------------------------


def test_validation_error_wins_over_application_and_technical() -> None:
    """Any validation problem makes the answer VALIDATION_ERROR: the request must be fixed."""
    problems = [
        texts.DEPENDENCY_UNAVAILABLE.problem(dependency="PU"),
        texts.PATIENT_UNKNOWN.problem(),
        texts.PATIENT_FAMILY_NAME_MISSING.problem(),
    ]
    assert result_for(problems)[0] is ErrorId.VALIDATION_ERROR


def test_application_error_wins_over_technical() -> None:
    """A definite refusal is not turned into a retryable answer by a failed dependency."""
    problems = [
        texts.DEPENDENCY_UNAVAILABLE.problem(dependency="HSA"),
        texts.TYPE_UNKNOWN.problem(code="X", code_system="Y"),
    ]
    assert result_for(problems)[0] is ErrorId.APPLICATION_ERROR


def test_technical_error_alone_is_technical() -> None:
    """Only a request with nothing else wrong is told to retry."""
    problems = [texts.DEPENDENCY_UNAVAILABLE.problem(dependency="PU")]
    assert result_for(problems)[0] is ErrorId.TECHNICAL_ERROR


def test_result_text_joins_every_problem_with_semicolons() -> None:
    """Every problem's text appears, in order, separated by "; "."""
    problems = check_request(_request(person_id="197001011234", family_name=""))
    _, text = result_for(problems)
    assert text == f"{problems[0].text}; {problems[1].text}"


def test_repeated_texts_appear_once() -> None:
    """The same problem reported twice is shown once."""
    problem = texts.PATIENT_UNKNOWN.problem()
    assert result_for([problem, problem])[1] == problem.text


def test_result_for_without_problems_is_an_error() -> None:
    """There is no ERROR answer for a request without problems."""
    with pytest.raises(ValueError):
        result_for([])


# --- personal data ----------------------------------------------------------------------------


def test_no_problem_text_contains_the_personnummer_or_the_patient_name() -> None:
    """Every rule that looks at the patient renders without the person id's digits or the name."""
    digits = "197001011234"  # wrong check digit
    request = _request(person_id=digits)
    samordning = _request(person_id="197010632391")  # root mismatch
    patient = _patient(deceased=True, protected_identity=True)
    barred = _type(allowed_for_protected=False)
    problems = [
        *check_request(request),
        *check_request(samordning),
        *check_request(_request(person_id="199002301234")),
        *check_request(_request(person_id="19121212-1212")),
        *_allowed(barred, REF, Role.BARNMORSKA, patient),
        *_allowed(_type(), REF, Role.LAKARE, None),
    ]
    rendered = result_for(problems)[1]
    secrets = [
        digits, digits[2:], "7001011234", "197010632391", "7010632391", "199002301234",
        "19121212-1212", PNR, PNR[2:], "121212-1212", "Tolvan", "Tolvansson",
    ]  # fmt: skip
    for secret in secrets:
        assert secret not in rendered
        assert all(secret not in str(problem.fields) for problem in problems)


# --- activation (domain.activation) in check_draft_allowed ----------------------------------------

PILOT_TYPE_ACTIVATION = {"from": dt.date(2024, 9, 16), "to": dt.date(2027, 6, 30), "units": [str(CARE_UNIT)]}


def _pilot_type() -> CertificateType:
    data = {
        "code_systems": {"KV_INTYGSTYP": {"value": KV_INTYGSTYP, "case_sensitive_codes": True}},
        "certificate_types": {"ITFP": {
            "accepts": [{"code": "ITFP", "code_system": "KV_INTYGSTYP"}],
            "name": "Intyg om tillfällig föräldrapenning", "recipient": "FKASSA",
            "version": "1.0", "active": True, "allowed_roles": ["LAKARE"], "allowed_for_protected": True,
            "allowed_for_deceased": False, "activation": PILOT_TYPE_ACTIVATION,
        }},
    }  # fmt: skip
    found = from_mapping(data).lookup("ITFP", KV_INTYGSTYP)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("placement", "day", "expected"),
    [
        (AT_CARE_UNIT, dt.date(2024, 9, 15), [texts.TYPE_NOT_YET_ACTIVE.id]),
        (AT_CARE_UNIT, dt.date(2024, 9, 16), []),
        (Placement((SUB_UNIT, CARE_UNIT), CARE_GIVER), dt.date(2024, 9, 16), []),
        (Placement((OTHER_UNIT,), CARE_GIVER), dt.date(2024, 9, 16), [texts.TYPE_NOT_IN_PILOT.id]),
        (AT_CARE_UNIT, dt.date(2027, 7, 1), [texts.TYPE_ENDED.id]),
    ],
)
def test_a_pilot_type_is_refused_outside_its_units_and_dates(
    placement: Placement, day: dt.date, expected: list[str]
) -> None:
    """Before its day, outside its units and after its end: APPLICATION_ERROR, and nothing else is checked."""
    problems = check_draft_allowed(_pilot_type(), REF, Role.LAKARE, None if expected else _patient(),
                                   placement=placement, day=day)
    assert _ids(problems) == expected
    assert all(problem.error_id is ErrorId.APPLICATION_ERROR for problem in problems)


def test_the_pilot_refusal_says_from_when_and_for_whom() -> None:
    """The text names the go-live day, the pilot's units and the unit that asked, on the unit's path."""
    (problem,) = check_draft_allowed(_pilot_type(), REF, Role.LAKARE, _patient(),
                                     placement=Placement((OTHER_UNIT,), CARE_GIVER), day=dt.date(2025, 1, 1))
    assert problem.path == "intyg/skapadAv/enhet/enhets-id/extension"
    assert "från och med 2024-09-16 aktiverad bara för enheterna SE2321000016-VE01 med underenheter" in problem.text
    assert "inte för enheten SE2321000016-VE99" in problem.text
