"""CreateDraftCertificate as one unit of work: check, then store draft, unit, SKAPAT event and PDL record.

Order of decisions (contracts.md §4, improved): structural checks and the issuer's assignment first
(VALIDATION_ERROR, every problem reported together); then PU and the certificate type, role, deceased
and protected-identity rules (APPLICATION_ERROR). Directory and database outages answer
TECHNICAL_ERROR so journal systems may resend. Nothing is written unless everything passes, and then
everything is written in one transaction.

Every check runs on the request's own thread, before any transaction (``_check``), and yields a
``NewDraft``: the certificate, its SKAPAT event and its PDL record, all decided. In the server, the
drafts that one process has ready at the same time are stored together (``group_commit``): one
transaction inserts their certificates, events and records with one statement each and registers
their units (``draft_rows`` folds several sightings of one unit into the upsert that one transaction
per draft would have left behind). Drafts never depend on each other, so a group answers each
draft exactly as its own transaction would have: OK, or TECHNICAL_ERROR when the database is down.
A group the database refuses (a certificate id already stored, which only a broken id source can
cause) is stored again one draft at a time, so that only the draft at fault fails.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import structlog

from domain.certificate_types import CertificateTypes
from domain.certificates import Certificate
from domain.directory import Directory, DirectoryUnavailable, Personnel
from domain.draft_checks import check_draft_allowed, check_issuer, check_request, placement_of_unit
from domain.drafts import NewDraftRequest
from domain.events import OutboxEvent, event_about
from domain.pdl import Activity, PdlRecord, SystemIdentity
from domain.personnummer import parse_person_id
from domain.result_texts import DEPENDENCY_UNAVAILABLE, Problem
from domain.roles import role_of
from domain.values import CertificateStatus, EventCode, HsaId, swedish_date
from store import UnitOfWork, draft_groups
from store.errors import Conflict, DatabaseUnavailable
from store.units import IntegratedUnit
from usecases import call_line
from usecases.acting_user import units_around
from usecases.group_commit import GroupCommit
from usecases.pdl_log import certificate_access_record

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
    # This process's group committer (``group_commit``); None stores each draft in its own
    # transaction (tests, tools).
    group: GroupCommit[NewDraft, StoreOutcome] | None = None


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


UNAVAILABLE = DraftRefused((DEPENDENCY_UNAVAILABLE.problem(dependency="intygsgatewayns databas"),))


@dataclass(frozen=True, slots=True)
class NewDraft:
    """A draft that passed every check, with everything its transaction writes, and its answer."""

    certificate: Certificate
    event: OutboxEvent  # SKAPAT
    record: PdlRecord | None  # None for test data, which gets no PDL record
    register_unit: bool  # False: this process registered the unit less than a resolution ago
    answer: DraftCreated


#: What storing a draft comes to: its answer, TECHNICAL_ERROR (database down), or the ``Conflict``
#: of a certificate id already stored, which the request's own thread raises (as without grouping).
StoreOutcome = DraftCreated | DraftRefused | Conflict


def create_draft(
    deps: CreateDraftDeps, request: NewDraftRequest, correlation_id: str
) -> DraftCreated | DraftRefused:
    """Check a CreateDraftCertificate request and, if it passes, store everything it causes.

    Raises:
        Conflict: the new certificate's id is already stored (the id source is broken).
    """
    try:
        checked = _check(deps, request, correlation_id)
    except DirectoryUnavailable:
        log.warning("directory_unavailable")
        return DraftRefused((DEPENDENCY_UNAVAILABLE.problem(dependency="HSA/PU"),))
    if isinstance(checked, DraftRefused):
        return checked
    stored = deps.group.submit(checked) if deps.group is not None else store_each(deps.transaction, [checked])[0]
    if isinstance(stored, Conflict):
        raise stored
    if isinstance(stored, DraftCreated):
        _created(deps, checked)
    return stored


def _created(deps: CreateDraftDeps, draft: NewDraft) -> None:
    """What follows a committed draft: remember its unit's registration, and name the draft on the call's line."""
    certificate = draft.certificate
    if draft.register_unit:
        deps.registered_units.remember(certificate.unit.hsa_id, certificate.care_giver.hsa_id, certificate.created_at)
        if deps.on_unit_registered is not None:
            deps.on_unit_registered(certificate.unit.hsa_id.value)
    call_line.add(
        certificate_id=certificate.id,
        unit=certificate.unit.hsa_id.value,
        certificate_type=certificate.type_code,
        test_certificate=certificate.test_certificate,
    )


def _check(
    deps: CreateDraftDeps, request: NewDraftRequest, correlation_id: str
) -> NewDraft | DraftRefused:
    """Every check of the request, in the contract's order, and the draft it would create."""
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
    event = event_about(
        draft.header,
        EventCode.SKAPAT,
        now,
        correlation_id,
        acting_user=issuer.hsa_id,
        payload={"ref": request.ref} if request.ref is not None else {},
    )
    return NewDraft(
        certificate=draft,
        event=event,
        record=certificate_access_record(deps.system, draft, issuer.hsa_id, Activity.WRITE, now),
        register_unit=not deps.registered_units.is_fresh(unit.hsa_id, care_giver.hsa_id, now),
        answer=DraftCreated(draft.id, request.issuer.unit_hsa_id.strip(), test_certificate),
    )


def _personnel(directory: Directory, hsa_id: str) -> Personnel | None:
    return directory.personnel(HsaId(hsa_id)) if hsa_id.strip() else None


@dataclass(frozen=True, slots=True)
class DraftRows:
    """What one transaction writes for a group of drafts, each list in arrival order."""

    certificates: list[Certificate]
    units: list[IntegratedUnit]  # as the drafts saw them, each unit spelled as by the first
    events: list[OutboxEvent]
    records: list[PdlRecord]


def draft_rows(drafts: Sequence[NewDraft]) -> DraftRows:
    """The rows of ``drafts``, in order, as one transaction per draft would have left them.

    Certificates, events and records are independent rows. A unit that several drafts register is
    folded into one sighting (an upsert may not touch one row twice), by the rule of
    ``store.units.register_integrated_unit`` applied in arrival order: the earliest ``first_seen``, the
    latest ``last_seen``, the care giver of the last draft that reached the latest time, and the
    spelling of the first draft.
    """
    sightings: dict[str, IntegratedUnit] = {}
    for draft in drafts:
        if not draft.register_unit:
            continue
        certificate = draft.certificate
        unit, care_giver, now = certificate.unit.hsa_id, certificate.care_giver.hsa_id, certificate.created_at
        seen = sightings.get(unit.key)
        if seen is None:
            sightings[unit.key] = IntegratedUnit(unit, care_giver, now, now)
            continue
        sightings[unit.key] = IntegratedUnit(
            seen.unit,
            care_giver if now >= seen.last_seen else seen.care_giver,
            min(seen.first_seen, now),
            max(seen.last_seen, now),
        )
    return DraftRows(
        certificates=[draft.certificate for draft in drafts],
        units=list(sightings.values()),
        events=[draft.event for draft in drafts],
        records=[draft.record for draft in drafts if draft.record is not None],
    )


def store_together(transaction: UnitOfWork, drafts: Sequence[NewDraft]) -> None:
    """Store ``drafts`` in one transaction (``draft_rows``): one statement, its own transaction, on
    PostgreSQL, one statement per table on SQLite (``store.draft_groups.store_drafts``).

    Raises:
        Conflict: one of the certificate ids is already stored; nothing was stored.
        DatabaseUnavailable: the database did not answer; nothing was stored.
    """
    rows = draft_rows(drafts)
    draft_groups.store_drafts(transaction, rows.certificates, rows.units, rows.events, rows.records)


def store_each(transaction: UnitOfWork, drafts: Sequence[NewDraft]) -> list[StoreOutcome]:
    """Store each draft in its own transaction: its answer, TECHNICAL_ERROR, or the ``Conflict``."""
    outcomes: list[StoreOutcome] = []
    for draft in drafts:
        try:
            store_together(transaction, [draft])
        except Conflict as conflict:
            outcomes.append(conflict)
        except DatabaseUnavailable:
            log.warning("database_unavailable")
            outcomes.append(UNAVAILABLE)
        else:
            outcomes.append(draft.answer)
    return outcomes


def store_group(transaction: UnitOfWork, drafts: Sequence[NewDraft]) -> list[StoreOutcome]:
    """Store a group of drafts in one transaction; each draft's outcome, in order (``group_commit``).

    If the database refuses the group (``Conflict``), its drafts are stored one at a time, so that
    only the draft at fault fails. If the database dropped the connection, the group is tried once
    more (SQLAlchemy replaces the pool's connections after a disconnect); if that fails too, every
    draft answers TECHNICAL_ERROR at once, and the journal systems resend.
    """
    if len(drafts) == 1:
        return store_each(transaction, drafts)
    for attempt in (1, 2):
        try:
            store_together(transaction, drafts)
        except Conflict:
            log.info("draft_group_split", drafts=len(drafts))
            return store_each(transaction, drafts)
        except DatabaseUnavailable:
            log.warning("database_unavailable", drafts=len(drafts), attempt=attempt)
        else:
            return [draft.answer for draft in drafts]
    return [UNAVAILABLE] * len(drafts)


def group_commit(
    transaction: UnitOfWork, max_drafts: int = 64, wait_seconds: float = 30.0
) -> GroupCommit[NewDraft, StoreOutcome]:
    """This process's group committer for new drafts (``usecases.group_commit``, ``store_group``).

    A group holds at most ``max_drafts``; a draft that waits longer than ``wait_seconds`` for its
    group answers TECHNICAL_ERROR.
    """
    return GroupCommit(
        partial(store_group, transaction),
        on_timeout=UNAVAILABLE,
        name="draft-group-commit",
        max_size=max_drafts,
        wait_seconds=wait_seconds,
    )
