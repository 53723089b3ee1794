"""The embedded directory: HSA (care givers, units, personnel) and PU (patients) in our database.

``SqlDirectory`` answers the domain's ``Directory`` protocol from the tables in
``store.directory_tables``; ``import_directory`` (from ``store.directory_import``) fills them from a
checked ``DirectoryDocument``, and ``directory_produced_at`` says how fresh the data is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from domain.directory import (
    Assignment,
    CareGiver,
    DirectoryUnavailable,
    Person,
    Personnel,
    Unit,
)
from domain.values import HsaId, PersonId
from store.directory_import import ImportSummary, import_directory
from store.directory_tables import (
    AssignmentRow,
    CareGiverRow,
    CodeKind,
    DirectoryImportRow,
    PatientRow,
    PersonnelCodeRow,
    PersonnelRow,
    UnitRow,
)
from store.errors import DatabaseUnavailable
from store.session import transaction

__all__ = ["ImportSummary", "SqlDirectory", "directory_produced_at", "import_directory"]


def directory_produced_at(session: Session) -> datetime | None:
    """When the data of the latest import was produced (for ``/readyz``), or None before any import."""
    return session.scalar(
        select(DirectoryImportRow.produced_at).order_by(DirectoryImportRow.id.desc()).limit(1)
    )


class SqlDirectory:
    """``domain.directory.Directory`` answered from the imported tables.

    Each lookup runs in its own short transaction, so a usecase can ask the directory before it opens
    its own unit of work. A database that does not answer becomes ``DirectoryUnavailable``.
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def personnel(self, hsa_id: HsaId) -> Personnel | None:
        with self._read() as session:
            row = session.get(PersonnelRow, hsa_id.key)
            if row is None:
                return None
            codes = session.execute(
                select(PersonnelCodeRow.kind, PersonnelCodeRow.code)
                .where(PersonnelCodeRow.personnel_key == row.hsa_key)
                .order_by(PersonnelCodeRow.kind, PersonnelCodeRow.position)
            ).all()
            assignments = session.execute(
                select(UnitRow.hsa_id, AssignmentRow.purpose)
                .join(UnitRow, UnitRow.hsa_key == AssignmentRow.unit_key)
                .where(AssignmentRow.personnel_key == row.hsa_key)
                .order_by(AssignmentRow.position)
            ).all()

            def of_kind(kind: CodeKind) -> tuple[str, ...]:
                return tuple(code for code_kind, code in codes if code_kind == kind)

            return Personnel(
                hsa_id=HsaId(row.hsa_id),
                name=row.name,
                licensed_professions=of_kind(CodeKind.LICENSED_PROFESSION),
                position_codes=of_kind(CodeKind.POSITION_CODE),
                group_prescriber_codes=of_kind(CodeKind.GROUP_PRESCRIBER_CODE),
                prescriber_code=row.prescriber_code,
                assignments=tuple(Assignment(HsaId(unit), purpose) for unit, purpose in assignments),
            )

    def unit(self, hsa_id: HsaId) -> Unit | None:
        parent = aliased(UnitRow)
        with self._read() as session:
            found = session.execute(
                select(UnitRow, CareGiverRow.hsa_id, parent.hsa_id)
                .join(CareGiverRow, CareGiverRow.hsa_key == UnitRow.care_giver_key)
                .outerjoin(parent, parent.hsa_key == UnitRow.parent_key)
                .where(UnitRow.hsa_key == hsa_id.key)
            ).one_or_none()
            if found is None:
                return None
            row, care_giver_id, parent_id = found
            return Unit(
                hsa_id=HsaId(row.hsa_id), name=row.name, care_giver=HsaId(care_giver_id),
                parent=HsaId(parent_id) if parent_id else None, arbetsplatskod=row.arbetsplatskod,
                postal_address=row.postal_address, postal_code=row.postal_code, city=row.city,
                phone=row.phone, email=row.email,
            )

    def care_giver(self, hsa_id: HsaId) -> CareGiver | None:
        with self._read() as session:
            row = session.get(CareGiverRow, hsa_id.key)
            return CareGiver(HsaId(row.hsa_id), row.name) if row is not None else None

    def person(self, person_id: PersonId) -> Person | None:
        with self._read() as session:
            row = session.get(PatientRow, person_id.digits)
            if row is None:
                return None
            return Person(
                person_id=PersonId(row.kind, row.person_id), given_name=row.given_name,
                family_name=row.family_name, middle_name=row.middle_name,
                postal_address=row.postal_address, postal_code=row.postal_code, city=row.city,
                deceased=row.deceased, protected_identity=row.protected_identity,
                test_indicator=row.test_indicator,
            )

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with transaction(self._factory) as session:
                yield session
        except DatabaseUnavailable as error:
            raise DirectoryUnavailable(str(error)) from error
