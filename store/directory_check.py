"""Gathering what the directory check reads (``domain.directory_check.DirectoryFacts``), in one transaction.

Whole tables are read (units, care givers, the HSA unit file's facts, integrated units, assignments)
and certificates counted per care giver: a region's directory is tens of thousands of rows, read
once a month and after an import, so a plain read beats a query per check.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from domain.directory import HsaNode
from domain.directory_check import DirectoryFacts, UnitPlace
from domain.values import HsaId
from store.certificates import CertificateRow
from store.directory_tables import (
    AssignmentRow,
    CareGiverRow,
    HsaFactRow,
    PersonnelRow,
    UnitRow,
)
from store.units import IntegratedUnitRow


def _optional(value: str | None) -> HsaId | None:
    return HsaId(value) if value else None


def directory_facts(session: Session) -> DirectoryFacts:
    """The facts of the embedded directory and the certificates, as the check reads them."""
    stated_rows = session.scalars(select(HsaFactRow)).all()
    stated = [
        HsaNode(HsaId(row.hsa_id), row.care_giver, row.care_unit, _optional(row.responsible_care_giver),
                _optional(row.dn_care_giver), tuple(HsaId(m) for m in row.members if m.strip()), stated=True)
        for row in stated_rows
        if row.listed
    ]
    care_giver_rows = session.execute(select(CareGiverRow.hsa_key, CareGiverRow.hsa_id)).all()
    parent = aliased(UnitRow)
    unit_rows = session.execute(
        select(UnitRow.hsa_key, UnitRow.hsa_id, CareGiverRow.hsa_id, parent.hsa_id, UnitRow.arbetsplatskod)
        .join(CareGiverRow, CareGiverRow.hsa_key == UnitRow.care_giver_key)
        .outerjoin(parent, parent.hsa_key == UnitRow.parent_key)
    ).all()
    # An assignment's unit has a foreign key to ``unit``, so the outer join finds it; the check still
    # reads it from the assignment's key so that it would name a unit that went missing.
    assignments = session.execute(
        select(PersonnelRow.hsa_id, func.coalesce(UnitRow.hsa_id, AssignmentRow.unit_key), AssignmentRow.purpose)
        .join(PersonnelRow, PersonnelRow.hsa_key == AssignmentRow.personnel_key)
        .outerjoin(UnitRow, UnitRow.hsa_key == AssignmentRow.unit_key)
    ).all()
    integrated = session.execute(select(IntegratedUnitRow.unit_hsa_id, IntegratedUnitRow.care_giver_hsa_id)).all()
    # Certificates may spell a care giver's HSA-id in other cases; the directory's spelling is named.
    spelling = {HsaId(row.hsa_id): HsaId(row.hsa_id) for row in stated_rows}
    spelling.update({HsaId(cg): HsaId(cg) for _, cg in care_giver_rows})
    counts: dict[HsaId, int] = {}
    for care_giver, count in session.execute(
        select(CertificateRow.care_giver_hsa_id, func.count()).group_by(CertificateRow.care_giver_hsa_id)
    ):
        owner = spelling.get(HsaId(care_giver), HsaId(care_giver))
        counts[owner] = counts.get(owner, 0) + int(count)
    return DirectoryFacts(
        stated=tuple(stated),
        units=tuple(UnitPlace(HsaId(u), HsaId(cg), code, _optional(p)) for _, u, cg, p, code in unit_rows),
        care_givers=frozenset(HsaId(cg) for _, cg in care_giver_rows),
        gone=frozenset(HsaId(row.hsa_id) for row in stated_rows if not row.listed),
        integrated_units=tuple((HsaId(u), HsaId(cg)) for u, cg in integrated),
        assignments=tuple((HsaId(person), HsaId(unit), purpose) for person, unit, purpose in assignments),
        certificates_by_care_giver=counts,
    )
