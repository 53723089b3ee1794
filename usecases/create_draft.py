"""CreateDraftCertificate as one unit of work: check, then store draft, unit, SKAPAT event and PDL record.

Order of decisions (contracts.md §4, improved): structural checks and the issuer's assignment first
(VALIDATION_ERROR, every problem reported together); then PU and the certificate type, role, deceased
and protected-identity rules (APPLICATION_ERROR). Directory and database outages answer
TECHNICAL_ERROR so journal systems may resend. Nothing is written unless everything passes, and then
everything is written in one transaction.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from domain.certificate_types import CertificateTypes
from domain.certificates import Certificate
from domain.directory import Directory, DirectoryUnavailable, Personnel
from domain.draft_checks import check_draft_allowed, check_issuer, check_request, placement_of_unit
from domain.drafts import NewDraftRequest
from domain.events import event_about
from domain.pdl import Activity, SystemIdentity
from domain.personnummer import parse_person_id
from domain.result_texts import DEPENDENCY_UNAVAILABLE, Problem
from domain.roles import role_of
from domain.values import CertificateStatus, EventCode, HsaId, swedish_date
from store import UnitOfWork, certificates, outbox, units
from store.errors import DatabaseUnavailable
from usecases.acting_user import units_around
from usecases.pdl_log import record_certificate_access

log = structlog.get_logger("usecases.create_draft")

LAST_SEEN_RESOLUTION = timedelta(minutes=1)


class RecentlyRegistered:
    """The integrated units this process registered lately, to skip rewriting them on every draft.

    A busy unit creates many drafts a minute; upserting its register row each time costs a database
    round trip for nothing but a fresher ``last_seen``. A unit is remembered only after the
    transaction that registered it has committed, so a rolled-back registration is never taken for
    a real one. ``last_seen`` is therefore accurate to ``LAST_SEEN_RESOLUTION``; a change of care
    giver is written at once.
    """

    def __init__(self, resolution: timedelta = LAST_SEEN_RESOLUTION) -> None:
        self._resolution = resolution
        self._until: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()

    def is_fresh(self, unit: HsaId, care_giver: HsaId, now: datetime) -> bool:
        """True when this process registered ``unit`` under ``care_giver`` less than a resolution ago."""
        with self._lock:
            until = self._until.get((unit.key, care_giver.key))
        return until is not None and now < until

    def remember(self, unit: HsaId, care_giver: HsaId, now: datetime) -> None:
        """Note a committed registration."""
        with self._lock:
            self._until[(unit.key, care_giver.key)] = now + self._resolution


@dataclass(frozen=True, slots=True)
class CreateDraftDeps:
    """What creating a draft needs from the outside world."""

    transaction: UnitOfWork
    directory: Directory
    registry: CertificateTypes
    system: SystemIdentity
    clock: Callable[[], datetime]
    validation_persons: frozenset[str] = frozenset()
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    registered_units: RecentlyRegistered = field(default_factory=RecentlyRegistered)
    # Called with a unit's HSA-id after a transaction that registered it has committed (at most once
    # a minute per unit and process): the routing check hooks in here. It must not raise or block.
    on_unit_registered: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class DraftCreated:
    """The draft exists: answer OK with ``intygs-id`` = (unit as sent, certificate id)."""

    certificate_id: str
    unit_hsa_id: str
    test_certificate: bool


@dataclass(frozen=True, slots=True)
class DraftRefused:
    """Nothing was stored; ``problems`` say why."""

    problems: tuple[Problem, ...]


def create_draft(
    deps: CreateDraftDeps, request: NewDraftRequest, correlation_id: str
) -> DraftCreated | DraftRefused:
    """Check a CreateDraftCertificate request and, if it passes, store everything it causes."""
    try:
        return _create(deps, request, correlation_id)
    except DirectoryUnavailable:
        log.warning("directory_unavailable")
        return DraftRefused((DEPENDENCY_UNAVAILABLE.problem(dependency="HSA/PU"),))
    except DatabaseUnavailable:
        log.warning("database_unavailable")
        return DraftRefused((DEPENDENCY_UNAVAILABLE.problem(dependency="intygsgatewayns databas"),))


def _create(
    deps: CreateDraftDeps, request: NewDraftRequest, correlation_id: str
) -> DraftCreated | DraftRefused:
    directory = deps.directory
    issuer = _personnel(directory, request.issuer.hsa_id)
    known_units = units_around(directory, request.issuer.unit_hsa_id, issuer)
    problems = check_request(request) + check_issuer(request, issuer, known_units)
    if problems or issuer is None:
        return DraftRefused(tuple(problems))

    person_id = parse_person_id(request.patient.person_id_root, request.patient.person_id)
    patient = directory.person(person_id)
    certificate_type = deps.registry.lookup(
        request.certificate_type.code, request.certificate_type.code_system
    )
    unit = known_units[HsaId(request.issuer.unit_hsa_id)]
    now = deps.clock()
    problems = check_draft_allowed(
        certificate_type,
        request.certificate_type,
        role_of(issuer),
        patient,
        placement=placement_of_unit(unit, known_units),
        day=swedish_date(now),
        accepted=deps.registry.accepted_for(request.certificate_type.code) if certificate_type is None else (),
    )
    if problems or patient is None or certificate_type is None:
        return DraftRefused(tuple(problems))

    care_giver = directory.care_giver(unit.care_giver)
    if care_giver is None:
        # Directory data names a care giver it does not hold: a directory fault, not the caller's.
        raise DirectoryUnavailable(f"care giver {unit.care_giver} of unit {unit.hsa_id} is missing")

    test_certificate = person_id.digits in deps.validation_persons
    draft = Certificate(
        id=deps.new_id(),
        type_code=certificate_type.code,
        type_code_system=certificate_type.code_system,
        received_type_code=request.certificate_type.code.strip(),
        received_type_code_system=request.certificate_type.code_system.strip(),
        status=CertificateStatus.DRAFT,
        patient=patient,
        unit=unit,
        care_giver=care_giver,
        created_by=issuer,
        created_at=now,
        test_certificate=test_certificate,
        ref=request.ref,
        prefill_xml=request.prefill_xml,
        extensions=request.extensions,
    )
    register_unit = not deps.registered_units.is_fresh(unit.hsa_id, care_giver.hsa_id, now)
    with deps.transaction() as session:
        certificates.add_certificate(session, draft)
        if register_unit:
            units.register_integrated_unit(session, unit.hsa_id, care_giver.hsa_id, now)
        outbox.enqueue(
            session,
            event_about(
                draft.header,
                EventCode.SKAPAT,
                now,
                correlation_id,
                acting_user=issuer.hsa_id,
                payload={"ref": request.ref} if request.ref is not None else {},
            ),
        )
        record_certificate_access(session, deps.system, draft, issuer.hsa_id, Activity.WRITE, now)
    if register_unit:
        deps.registered_units.remember(unit.hsa_id, care_giver.hsa_id, now)
        if deps.on_unit_registered is not None:
            deps.on_unit_registered(unit.hsa_id.value)
    log.info(
        "draft_created",
        certificate_id=draft.id,
        unit=unit.hsa_id.value,
        certificate_type=certificate_type.code,
        test_certificate=test_certificate,
    )
    return DraftCreated(draft.id, request.issuer.unit_hsa_id.strip(), test_certificate)


def _personnel(directory: Directory, hsa_id: str) -> Personnel | None:
    return directory.personnel(HsaId(hsa_id)) if hsa_id.strip() else None
