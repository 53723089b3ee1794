"""Writing a checked directory document into the embedded directory (``import_directory``).

The import is an upsert per record: records of the document are inserted or overwritten, records
not in the document are left alone (nothing is deleted), except that a person's assignments and
codes are replaced by the document's lists. Every reference that leaves the document is checked
against the database before the first write, so a refused import has changed nothing even before
the caller's transaction rolls back. The format and its rules: ``docs/directory-format.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from domain.directory import CareGiver, HsaNode, Person, Personnel, Unit
from domain.directory_import import DirectoryDocument
from store.base import Base, upsert
from store.directory_tables import (
    AssignmentRow,
    CareGiverRow,
    CodeKind,
    DirectoryImportRow,
    HsaFactRow,
    PatientRow,
    PersonnelCodeRow,
    PersonnelRow,
    UnitRow,
)
from store.errors import DirectoryImportError


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What ``import_directory`` wrote: record counts per list, and the two timestamps."""

    produced_at: datetime
    imported_at: datetime
    care_givers: int
    units: int
    personnel: int
    patients: int


def import_directory(session: Session, document: DirectoryDocument, now: datetime) -> ImportSummary:
    """Upsert every record of ``document`` and record the import; ``producedAt`` defaults to ``now``.

    Raises:
        DirectoryImportError: a reference resolves neither in the document nor in the database, or
            the merged unit tree would have a cycle. Raised before anything is written.
    """
    _check_references(session, document)
    _check_merged_tree(session, document)
    _upsert_rows(session, CareGiverRow, [_care_giver_row(c) for c in document.care_givers])
    _upsert_rows(session, UnitRow, [_unit_row(unit) for unit in _parents_first(document.units)])
    _upsert_rows(session, PersonnelRow, [
        {"hsa_key": p.hsa_id.key, "hsa_id": p.hsa_id.value, "name": p.name,
         "prescriber_code": p.prescriber_code} for p in document.personnel
    ])
    _replace_personnel_lists(session, document.personnel)
    _upsert_rows(session, PatientRow, [_patient_row(patient) for patient in document.patients])
    summary = ImportSummary(
        produced_at=document.produced_at or now,
        imported_at=now,
        care_givers=len(document.care_givers),
        units=len(document.units),
        personnel=len(document.personnel),
        patients=len(document.patients),
    )
    session.add(DirectoryImportRow(
        produced_at=summary.produced_at, imported_at=summary.imported_at,
        care_givers=summary.care_givers, units=summary.units, personnel=summary.personnel,
        patients=summary.patients,
    ))
    session.flush()
    return summary


def _parents_first(units: Sequence[Unit]) -> list[Unit]:
    """The units ordered so that a parent in the list comes before its sub-units.

    A sub-unit's foreign key must find its parent when the row is written. Parents outside the list
    are already stored; a cycle (which the checks refuse) cannot loop forever here.
    """
    by_key = {unit.hsa_id.key: unit for unit in units}
    ordered: list[Unit] = []
    placed: set[str] = set()
    for unit in units:
        chain: list[Unit] = []
        current: Unit | None = unit
        while current is not None and current.hsa_id.key not in placed:
            placed.add(current.hsa_id.key)
            chain.append(current)
            current = by_key.get(current.parent.key) if current.parent else None
        ordered.extend(reversed(chain))
    return ordered


def _check_references(session: Session, document: DirectoryDocument) -> None:
    """Refuse references that resolve neither inside the document nor against the database."""
    care_givers = {care_giver.hsa_id.key for care_giver in document.care_givers}
    units = {unit.hsa_id.key for unit in document.units}
    wanted_care_givers = {unit.care_giver.key for unit in document.units} - care_givers
    wanted_units = {unit.parent.key for unit in document.units if unit.parent} | {
        assignment.unit.key for person in document.personnel for assignment in person.assignments
    }
    known_care_givers = set(_existing(session, CareGiverRow.hsa_key, wanted_care_givers))
    stored_units: dict[str, str] = {}  # unit key -> care giver key, for units outside the document
    wanted = sorted(wanted_units - units)
    for start in range(0, len(wanted), _CHUNK):
        stored_units.update(session.execute(
            select(UnitRow.hsa_key, UnitRow.care_giver_key)
            .where(UnitRow.hsa_key.in_(wanted[start:start + _CHUNK]))
        ).tuples().all())
    for index, unit in enumerate(document.units):
        where = f"units[{index}]"
        if unit.care_giver.key not in care_givers | known_care_givers:
            raise DirectoryImportError(where, "careGiver", f"care giver {unit.care_giver} {_NOWHERE}")
        if unit.parent is None or unit.parent.key in units:
            continue
        if unit.parent.key not in stored_units:
            raise DirectoryImportError(where, "parent", f"unit {unit.parent} {_NOWHERE}")
        if stored_units[unit.parent.key] != unit.care_giver.key:
            raise DirectoryImportError(
                where, "careGiver", f"differs from the care giver of parent unit {unit.parent}"
            )
    for index, person in enumerate(document.personnel):
        for position, assignment in enumerate(person.assignments):
            if assignment.unit.key not in units and assignment.unit.key not in stored_units:
                raise DirectoryImportError(
                    f"personnel[{index}]", f"assignments[{position}].unit",
                    f"unit {assignment.unit} {_NOWHERE}",
                )


_NOWHERE = "is neither in the document nor in the directory"


def _check_merged_tree(session: Session, document: DirectoryDocument) -> None:
    """Refuse an import after which the unit tree, document and database together, has a cycle.

    The parser already refused cycles inside the document; this catches one closed through stored
    units, e.g. the document makes A a child of B while the database has B as a child of A. Parents
    of stored units are fetched one by one as the walk needs them, which touches only the few units
    above the document's.
    """
    document_parents = {u.hsa_id.key: u.parent.key if u.parent else None for u in document.units}
    stored_parents: dict[str, str | None] = {}

    def parent_of(key: str) -> str | None:
        if key in document_parents:
            return document_parents[key]
        if key not in stored_parents:
            stored_parents[key] = session.scalar(
                select(UnitRow.parent_key).where(UnitRow.hsa_key == key)
            )
        return stored_parents[key]

    reaches_root: set[str] = set()
    for index, unit in enumerate(document.units):
        path: list[str] = []
        key: str | None = unit.hsa_id.key
        while key is not None and key not in reaches_root:
            if key in path:
                raise DirectoryImportError(
                    f"units[{index}]", "parent",
                    "with the units already in the directory, the unit tree would have a cycle",
                )
            path.append(key)
            key = parent_of(key)
        reaches_root.update(path)


def _existing(session: Session, column: InstrumentedAttribute[str], keys: set[str]) -> list[str]:
    wanted = sorted(keys)
    found: list[str] = []
    for start in range(0, len(wanted), _CHUNK):
        found.extend(session.scalars(select(column).where(column.in_(wanted[start:start + _CHUNK]))))
    return found


def _upsert_rows(session: Session, mapped: type[Base], rows: list[dict[str, object]]) -> None:
    """Upsert on the primary key, overwriting every other column."""
    table = cast(Table, mapped.__table__)
    key = [column.name for column in table.primary_key]
    update = [column.name for column in table.columns if column.name not in key]
    upsert(session, table, rows, key, update)


def _care_giver_row(care_giver: CareGiver) -> dict[str, object]:
    return {"hsa_key": care_giver.hsa_id.key, "hsa_id": care_giver.hsa_id.value, "name": care_giver.name}


def _unit_row(unit: Unit) -> dict[str, object]:
    return {
        "hsa_key": unit.hsa_id.key, "hsa_id": unit.hsa_id.value, "name": unit.name,
        "care_giver_key": unit.care_giver.key, "parent_key": unit.parent.key if unit.parent else None,
        "arbetsplatskod": unit.arbetsplatskod, "postal_address": unit.postal_address,
        "postal_code": unit.postal_code, "city": unit.city, "phone": unit.phone, "email": unit.email,
    }


def _patient_row(patient: Person) -> dict[str, object]:
    return {
        "person_id": patient.person_id.digits, "kind": patient.person_id.kind.value,
        "given_name": patient.given_name, "middle_name": patient.middle_name,
        "family_name": patient.family_name, "postal_address": patient.postal_address,
        "postal_code": patient.postal_code, "city": patient.city, "deceased": patient.deceased,
        "protected_identity": patient.protected_identity, "test_indicator": patient.test_indicator,
    }


_CHUNK = 500  # keeps IN lists and statements well below both databases' parameter limits


def _replace_personnel_lists(session: Session, personnel: Sequence[Personnel]) -> None:
    keys = [person.hsa_id.key for person in personnel]
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        session.execute(delete(PersonnelCodeRow).where(PersonnelCodeRow.personnel_key.in_(chunk)))
        session.execute(delete(AssignmentRow).where(AssignmentRow.personnel_key.in_(chunk)))
    codes: list[dict[str, object]] = []
    assignments: list[dict[str, object]] = []
    for person in personnel:
        key = person.hsa_id.key
        for kind, values in ((CodeKind.LICENSED_PROFESSION, person.licensed_professions),
                             (CodeKind.POSITION_CODE, person.position_codes),
                             (CodeKind.GROUP_PRESCRIBER_CODE, person.group_prescriber_codes)):
            codes.extend({"personnel_key": key, "kind": kind.value, "position": position,
                          "code": code} for position, code in enumerate(values))
        assignments.extend({"personnel_key": key, "position": position, "unit_key": a.unit.key,
                            "purpose": a.purpose} for position, a in enumerate(person.assignments))
    if codes:
        session.execute(insert(PersonnelCodeRow), codes)
    if assignments:
        session.execute(insert(AssignmentRow), assignments)


def record_hsa_unit_file(session: Session, nodes: Sequence[HsaNode], now: datetime) -> None:
    """Keep what an HSA unit file states about its nodes (``store.directory_tables.HsaFactRow``).

    Call it in the import's transaction. The file is the whole of HSA, so nodes recorded from an
    earlier file and absent from this one are marked not listed (gone); they are not deleted, so
    that their history and the certificates they hold stay explainable.
    """
    rows: list[dict[str, object]] = [
        {"hsa_key": node.hsa_id.key, "hsa_id": node.hsa_id.value, "care_giver": node.care_giver,
         "care_unit": node.care_unit,
         "responsible_care_giver": node.responsible_care_giver.value if node.responsible_care_giver else None,
         "dn_care_giver": node.dn_care_giver.value if node.dn_care_giver else None,
         "members": [member.value for member in node.members], "listed": True, "listed_at": now}
        for node in nodes
    ]
    session.execute(update(HsaFactRow).where(HsaFactRow.listed.is_(True)).values(listed=False))
    for start in range(0, len(rows), _CHUNK):
        _upsert_rows(session, HsaFactRow, rows[start:start + _CHUNK])
