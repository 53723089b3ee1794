"""The business rules of CreateDraftCertificate v3, as pure functions over what was fetched.

The use case fetches first (the issuer and units from HSA, the patient from PU, the type from the
registry) and then asks these functions; none of them does I/O, so every rule is tested as plain
Python. Each check returns every problem it finds rather than stopping at the first, because a
journal system integrator fixing a request wants the whole list in one round trip (Webcert's
``ResultValidator`` does the same). The texts come from ``domain.result_texts``.

The order is the contract's: structure and the issuer (VALIDATION_ERROR), then what may be created
for whom (APPLICATION_ERROR).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

from domain import result_texts as texts
from domain.activation import ActivationState, Placement, activation_state, scope_text
from domain.certificate_types import AcceptedCode, CertificateType
from domain.directory import CARE_AND_TREATMENT, Person, Personnel, Unit
from domain.drafts import CertificateTypeRef, NewDraftRequest
from domain.personnummer import InvalidPersonId, PersonIdProblem, parse_person_id
from domain.result_texts import Problem, ResultText
from domain.result_texts import echo as _echo
from domain.values import HsaId, PersonIdKind, Role

PERSON_ID_PATH = "intyg/patient/person-id/extension"
PERSON_ID_ROOT_PATH = "intyg/patient/person-id/root"
FAMILY_NAME_PATH = "intyg/patient/efternamn"
ISSUER_HSA_ID_PATH = "intyg/skapadAv/personal-id/extension"
ISSUER_NAME_PATH = "intyg/skapadAv/fullstandigtNamn"
UNIT_HSA_ID_PATH = "intyg/skapadAv/enhet/enhets-id/extension"
UNIT_NAME_PATH = "intyg/skapadAv/enhet/enhetsnamn"
TYPE_PATH = "intyg/typAvIntyg"

_PERSON_ID_TEXTS: dict[PersonIdProblem, tuple[ResultText, str]] = {
    PersonIdProblem.MISSING: (texts.PERSON_ID_MISSING, PERSON_ID_PATH),
    PersonIdProblem.UNKNOWN_ROOT: (texts.PERSON_ID_UNKNOWN_ROOT, PERSON_ID_ROOT_PATH),
    PersonIdProblem.FORMAT: (texts.PERSON_ID_FORMAT, PERSON_ID_PATH),
    PersonIdProblem.DATE: (texts.PERSON_ID_DATE, PERSON_ID_PATH),
    PersonIdProblem.CHECKSUM: (texts.PERSON_ID_CHECKSUM, PERSON_ID_PATH),
}

# Roles that may see, and so create certificates for, patients with sekretessmarkering.
_PROTECTED_PATIENT_ROLES = frozenset({Role.LAKARE, Role.TANDLAKARE})


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def person_id_problem(error: InvalidPersonId) -> Problem:
    """The catalogue problem for a failed person id check; the id itself is never part of it."""
    if error.reason is PersonIdProblem.ROOT_MISMATCH:
        text = (
            texts.PERSON_ID_NOT_PERSONNUMMER
            if error.actual is PersonIdKind.SAMORDNINGSNUMMER
            else texts.PERSON_ID_NOT_SAMORDNINGSNUMMER
        )
        return text.problem(PERSON_ID_ROOT_PATH)
    text, path = _PERSON_ID_TEXTS[error.reason]
    return text.problem(path)


def check_request(request: NewDraftRequest) -> list[Problem]:
    """Structural checks the schema cannot make: blank required values and the person id's rules.

    All are VALIDATION_ERROR (the caller must fix the request), reported in document order. Webcert
    also requires a ``fornamn`` element, which the schema already enforces; an empty one is allowed
    because people with only a family name exist.
    """
    problems: list[Problem] = []
    patient = request.patient
    try:
        parse_person_id(patient.person_id_root, patient.person_id)
    except InvalidPersonId as error:
        problems.append(person_id_problem(error))
    if _blank(patient.family_name):
        problems.append(texts.PATIENT_FAMILY_NAME_MISSING.problem(FAMILY_NAME_PATH))
    issuer = request.issuer
    if _blank(issuer.hsa_id):
        problems.append(texts.ISSUER_HSA_ID_MISSING.problem(ISSUER_HSA_ID_PATH))
    if _blank(issuer.full_name):
        problems.append(texts.ISSUER_NAME_MISSING.problem(ISSUER_NAME_PATH))
    if _blank(issuer.unit_hsa_id):
        problems.append(texts.UNIT_HSA_ID_MISSING.problem(UNIT_HSA_ID_PATH))
    if _blank(issuer.unit_name):
        problems.append(texts.UNIT_NAME_MISSING.problem(UNIT_NAME_PATH))
    return problems


def _unit_and_ancestors(unit_id: HsaId, units: Mapping[HsaId, Unit]) -> Iterator[HsaId]:
    """``unit_id`` and then each parent in turn, as far as ``units`` knows them.

    A cycle in directory data would otherwise loop forever, so each unit is visited once.
    """
    seen: set[HsaId] = set()
    current: HsaId | None = unit_id
    while current is not None and current not in seen:
        seen.add(current)
        yield current
        unit = units.get(current)
        current = unit.parent if unit is not None else None


def _covers(assignment_unit: HsaId, requested: HsaId, units: Mapping[HsaId, Unit]) -> bool:
    """Whether an assignment on ``assignment_unit`` lets its holder act on ``requested``.

    It does when it is the same unit, when it is above the requested unit (an assignment on a care
    unit covers its sub-units, as in Webcert) or below it (Webcert matches the user's vårdenheter
    and their mottagningar alike).
    """
    return assignment_unit in _unit_and_ancestors(requested, units) or requested in (
        _unit_and_ancestors(assignment_unit, units)
    )


def has_care_assignment(user: Personnel, unit_id: HsaId, units: Mapping[HsaId, Unit]) -> bool:
    """Whether ``user`` holds a care-and-treatment assignment covering ``unit_id`` (see ``_covers``).

    ``units`` must hold the unit, the user's assignment units and their ancestors
    (``usecases.acting_user.units_around`` fetches exactly those).
    """
    purpose = CARE_AND_TREATMENT.casefold()
    return any(
        assignment.purpose.strip().casefold() == purpose
        and _covers(assignment.unit, unit_id, units)
        for assignment in user.assignments
    )


def check_issuer(
    request: NewDraftRequest, issuer: Personnel | None, units: Mapping[HsaId, Unit]
) -> list[Problem]:
    """Check that the issuing user and unit exist in HSA and that the user may act on the unit.

    ``issuer`` is what the directory returned for ``skapadAv/personal-id`` (None: unknown) and
    ``units`` every unit the caller fetched: the requested unit, each assignment's unit and their
    ancestors. A unit missing from ``units`` counts as unknown. Blank ids are left to
    ``check_request``. All problems are VALIDATION_ERROR, as in Webcert ("No valid MIU").
    """
    problems: list[Problem] = []
    hsa_id = request.issuer.hsa_id.strip()
    unit_text = request.issuer.unit_hsa_id.strip()
    if hsa_id and issuer is None:
        problems.append(texts.ISSUER_UNKNOWN.problem(ISSUER_HSA_ID_PATH, hsa_id=_echo(hsa_id)))
    if not unit_text:
        return problems
    unit_id = HsaId(unit_text)
    if unit_id not in units:
        # Without the unit there is no tree to check an assignment against: one problem, not two.
        problems.append(texts.UNIT_UNKNOWN.problem(UNIT_HSA_ID_PATH, unit_id=_echo(unit_text)))
    elif issuer is not None and not has_care_assignment(issuer, unit_id, units):
        problems.append(
            texts.ISSUER_NO_ASSIGNMENT.problem(
                UNIT_HSA_ID_PATH, hsa_id=_echo(hsa_id), unit_id=_echo(unit_text)
            )
        )
    return problems


def _role_list(roles: frozenset[Role]) -> str:
    """Roles as Swedish running text in priority order: "läkare, tandläkare eller barnmorska"."""
    names = [texts.ROLE_NAMES[role] for role in Role if role in roles]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} eller {names[-1]}"


def placement_of_unit(unit: Unit, units: Mapping[HsaId, Unit]) -> Placement:
    """Where a draft on ``unit`` is created: the unit and its ancestors (as far as ``units`` knows
    them) and its care giver, for the activation check."""
    return Placement(tuple(_unit_and_ancestors(unit.hsa_id, units)), unit.care_giver)


def _activation_problem(certificate_type: CertificateType, placement: Placement, day: dt.date) -> Problem | None:
    """The problem for a type not active at ``placement`` on ``day`` (``domain.activation``), or None."""
    activation = certificate_type.activation
    state = activation_state(certificate_type.active, activation, placement, day)
    named = {"name": certificate_type.name, "code": certificate_type.code}
    starts = activation.starts.isoformat() if activation.starts else ""
    if state is ActivationState.WITHDRAWN:
        return texts.TYPE_INACTIVE.problem(TYPE_PATH, **named)
    if state is ActivationState.NOT_YET:
        return texts.TYPE_NOT_YET_ACTIVE.problem(TYPE_PATH, from_date=starts, scope=scope_text(activation), **named)
    if state is ActivationState.ENDED:
        ends = activation.ends.isoformat() if activation.ends else ""
        return texts.TYPE_ENDED.problem(TYPE_PATH, to_date=ends, **named)
    if state is ActivationState.NOT_IN_PILOT:
        return texts.TYPE_NOT_IN_PILOT.problem(
            UNIT_HSA_ID_PATH, from_date=starts, scope=scope_text(activation),
            unit_id=_echo(placement.units[0].value), **named,
        )
    return None


def check_draft_allowed(
    certificate_type: CertificateType | None,
    type_ref: CertificateTypeRef,
    role: Role,
    patient: Person | None,
    *,
    placement: Placement,
    day: dt.date,
    accepted: Sequence[AcceptedCode] = (),
) -> list[Problem]:
    """Check that this role may create this type for this patient here today (APPLICATION_ERROR problems).

    ``certificate_type`` is the registry's answer for ``type_ref`` and ``patient`` PU's (None:
    unknown). When no type accepts ``type_ref``, ``accepted`` holds the pairs the registry accepts
    for its code in other code systems or spellings (``CertificateTypeRegistry.accepted_for``): the
    answer names them, so that an integrator sending ``lisjp`` in KV_INTYGSTYP learns what works.
    ``placement`` is the requesting unit with its ancestors and care giver and ``day`` the Swedish
    calendar day, for the type's activation rules.

    The checks run in this order and stop where later ones would be meaningless: the type is
    unknown, or not active for this unit on this day (withdrawn, not yet, phased out, outside the
    pilot; stop), the role may not create the type, the patient is unknown to PU (stop), the patient
    is deceased and the type is not allowed for the deceased, the patient is protected and the role
    is not läkare/tandläkare, the patient is protected and the type is not allowed for protected
    patients. The two protected-patient problems are distinct because they have different remedies
    (another colleague, or another channel).
    """
    if certificate_type is None:
        sent = {"code": _echo(type_ref.code), "code_system": _echo(type_ref.code_system)}
        if accepted:
            pairs = ", ".join(pair.describe() for pair in accepted)
            return [texts.TYPE_CODE_SYSTEM.problem(TYPE_PATH, accepted=pairs, **sent)]
        return [texts.TYPE_UNKNOWN.problem(TYPE_PATH, **sent)]
    named = {"name": certificate_type.name, "code": certificate_type.code}
    inactive = _activation_problem(certificate_type, placement, day)
    if inactive is not None:
        return [inactive]
    problems: list[Problem] = []
    if role not in certificate_type.allowed_roles:
        problems.append(
            texts.ROLE_NOT_ALLOWED.problem(
                TYPE_PATH,
                role=texts.ROLE_NAMES[role],
                allowed_roles=_role_list(certificate_type.allowed_roles),
                **named,
            )
        )
    if patient is None:
        problems.append(texts.PATIENT_UNKNOWN.problem(PERSON_ID_PATH))
        return problems
    if patient.deceased and not certificate_type.allowed_for_deceased:
        problems.append(texts.PATIENT_DECEASED.problem(TYPE_PATH, **named))
    if patient.protected_identity and role not in _PROTECTED_PATIENT_ROLES:
        problems.append(
            texts.PROTECTED_PATIENT_ROLE.problem(ISSUER_HSA_ID_PATH, role=texts.ROLE_NAMES[role])
        )
    if patient.protected_identity and not certificate_type.allowed_for_protected:
        problems.append(texts.PROTECTED_PATIENT_TYPE.problem(TYPE_PATH, **named))
    return problems
