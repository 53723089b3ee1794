"""Stored drafts: one row per certificate draft, with snapshots of who and where it was made for.

The patient, unit, care giver and issuer are copied into the row as they were when the draft was
created, not referenced: the certificate must show the data it was written with even after the
directory changes (a unit is renamed, a patient moves), and the directory may later be the national
HSA and PU services, which we cannot join against. So there are deliberately no foreign keys to the
directory tables.

The issuer's codes and assignments, which only the role rules read, are kept as one JSON document
(``created_by_detail``) rather than in child tables; extensions (XML found at ``xs:any`` positions) are
kept as a JSON list in their original order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.directory import Assignment, CareGiver, Person, Personnel, Unit
from domain.drafts import Draft, Extension
from domain.values import CertificateStatus, HsaId, PersonId, PersonIdKind
from store.base import Base
from store.errors import Conflict
from store.session import translate_errors


class DraftRow(Base):
    __tablename__ = "draft"

    certificate_id: Mapped[str] = mapped_column(primary_key=True)
    type_code: Mapped[str]
    type_code_system: Mapped[str]
    status: Mapped[CertificateStatus]
    created_at: Mapped[datetime]
    test_certificate: Mapped[bool]
    ref: Mapped[str | None]
    prefill_xml: Mapped[str | None] = mapped_column(Text)
    extensions: Mapped[list[dict[str, str]]] = mapped_column(JSON)

    patient_id_kind: Mapped[PersonIdKind]
    patient_id: Mapped[str]
    patient_given_name: Mapped[str]
    patient_middle_name: Mapped[str | None]
    patient_family_name: Mapped[str]
    patient_postal_address: Mapped[str | None]
    patient_postal_code: Mapped[str | None]
    patient_city: Mapped[str | None]
    patient_deceased: Mapped[bool]
    patient_protected_identity: Mapped[bool]
    patient_test_indicator: Mapped[bool]

    # The unit's key (case-folded HSA-id) is what status updates and lists will select on.
    unit_key: Mapped[str] = mapped_column(index=True)
    unit_hsa_id: Mapped[str]
    unit_name: Mapped[str]
    unit_parent_hsa_id: Mapped[str | None]
    unit_arbetsplatskod: Mapped[str | None]
    unit_postal_address: Mapped[str | None]
    unit_postal_code: Mapped[str | None]
    unit_city: Mapped[str | None]
    unit_phone: Mapped[str | None]
    unit_email: Mapped[str | None]

    care_giver_hsa_id: Mapped[str]
    care_giver_name: Mapped[str]

    created_by_hsa_id: Mapped[str]
    created_by_name: Mapped[str]
    created_by_detail: Mapped[dict[str, Any]] = mapped_column(JSON)


def add_draft(session: Session, draft: Draft) -> None:
    """Store a new draft in the caller's transaction.

    The unit's care giver must be the draft's care giver: the row keeps one care giver for both.

    Raises:
        Conflict: a draft with this id is already stored.
        ValueError: the unit belongs to another care giver than ``draft.care_giver``.
    """
    if draft.unit.care_giver != draft.care_giver.hsa_id:
        raise ValueError("the draft's unit belongs to another care giver than the draft's")
    patient, unit, issuer = draft.patient, draft.unit, draft.created_by
    row = dict(
        certificate_id=draft.id,
        type_code=draft.type_code,
        type_code_system=draft.type_code_system,
        status=draft.status,
        created_at=draft.created_at,
        test_certificate=draft.test_certificate,
        ref=draft.ref,
        prefill_xml=draft.prefill_xml,
        extensions=[{"path": e.path, "xml": e.xml} for e in draft.extensions],
        patient_id_kind=patient.person_id.kind,
        patient_id=patient.person_id.digits,
        patient_given_name=patient.given_name,
        patient_middle_name=patient.middle_name,
        patient_family_name=patient.family_name,
        patient_postal_address=patient.postal_address,
        patient_postal_code=patient.postal_code,
        patient_city=patient.city,
        patient_deceased=patient.deceased,
        patient_protected_identity=patient.protected_identity,
        patient_test_indicator=patient.test_indicator,
        unit_key=unit.hsa_id.key,
        unit_hsa_id=unit.hsa_id.value,
        unit_name=unit.name,
        unit_parent_hsa_id=unit.parent.value if unit.parent else None,
        unit_arbetsplatskod=unit.arbetsplatskod,
        unit_postal_address=unit.postal_address,
        unit_postal_code=unit.postal_code,
        unit_city=unit.city,
        unit_phone=unit.phone,
        unit_email=unit.email,
        care_giver_hsa_id=draft.care_giver.hsa_id.value,
        care_giver_name=draft.care_giver.name,
        created_by_hsa_id=issuer.hsa_id.value,
        created_by_name=issuer.name,
        created_by_detail={
            "licensedProfessions": list(issuer.licensed_professions),
            "positionCodes": list(issuer.position_codes),
            "groupPrescriberCodes": list(issuer.group_prescriber_codes),
            "prescriberCode": issuer.prescriber_code,
            "assignments": [{"unit": a.unit.value, "purpose": a.purpose} for a in issuer.assignments],
        },
    )
    try:
        with translate_errors():
            # A bulk-style INSERT instead of session.add(): it skips the unit of work's bookkeeping
            # (about a third of a draft's database time) and still reports a duplicate id here.
            session.execute(insert(DraftRow), [row])
    except Conflict as error:
        raise Conflict("a draft with this certificate id is already stored") from error


def get_draft(session: Session, certificate_id: str) -> Draft | None:
    """The draft with this id as it was stored, or None."""
    row = session.get(DraftRow, certificate_id)
    return _to_draft(row) if row is not None else None


def _to_draft(row: DraftRow) -> Draft:
    care_giver = CareGiver(HsaId(row.care_giver_hsa_id), row.care_giver_name)
    detail = row.created_by_detail
    return Draft(
        id=row.certificate_id,
        type_code=row.type_code,
        type_code_system=row.type_code_system,
        status=row.status,
        patient=Person(
            person_id=PersonId(row.patient_id_kind, row.patient_id),
            given_name=row.patient_given_name,
            family_name=row.patient_family_name,
            middle_name=row.patient_middle_name,
            postal_address=row.patient_postal_address,
            postal_code=row.patient_postal_code,
            city=row.patient_city,
            deceased=row.patient_deceased,
            protected_identity=row.patient_protected_identity,
            test_indicator=row.patient_test_indicator,
        ),
        unit=Unit(
            hsa_id=HsaId(row.unit_hsa_id),
            name=row.unit_name,
            care_giver=care_giver.hsa_id,
            parent=HsaId(row.unit_parent_hsa_id) if row.unit_parent_hsa_id else None,
            arbetsplatskod=row.unit_arbetsplatskod,
            postal_address=row.unit_postal_address,
            postal_code=row.unit_postal_code,
            city=row.unit_city,
            phone=row.unit_phone,
            email=row.unit_email,
        ),
        care_giver=care_giver,
        created_by=Personnel(
            hsa_id=HsaId(row.created_by_hsa_id),
            name=row.created_by_name,
            licensed_professions=tuple(detail.get("licensedProfessions", ())),
            position_codes=tuple(detail.get("positionCodes", ())),
            group_prescriber_codes=tuple(detail.get("groupPrescriberCodes", ())),
            prescriber_code=detail.get("prescriberCode"),
            assignments=tuple(
                Assignment(HsaId(a["unit"]), a["purpose"]) for a in detail.get("assignments", ())
            ),
        ),
        created_at=row.created_at,
        test_certificate=row.test_certificate,
        ref=row.ref,
        prefill_xml=row.prefill_xml,
        extensions=tuple(Extension(e["path"], e["xml"]) for e in row.extensions),
    )
