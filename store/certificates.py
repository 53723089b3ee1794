"""Stored certificates: one row per certificate, from draft to revoked, with snapshots of who and where.

The patient, unit, care giver and issuer are copied into the row as they were when the draft was
created, not referenced: the certificate must show the data it was written with even after the
directory changes (a unit is renamed, a patient moves), and the directory may later be the national
HSA and PU services, which we cannot join against. So there are deliberately no foreign keys to the
directory tables.

The issuer's codes and assignments, which only the role rules read, are kept as one JSON document
(``created_by_detail``) rather than in child tables; extensions (XML found at ``xs:any`` positions) are
kept as a JSON list in their original order, and so is the content (the answers, see
``domain.certificates.content_to_json``).

Changes after creation go through ``save_certificate``, which writes only the columns the lifecycle
changes and only if ``version`` is still the one the caller read (optimistic locking: a stale write
is a ``Conflict``, never a lost update). ``lock_stale_drafts`` is a single conditional ``UPDATE``, so
several gateway instances running the locking job at once lock each draft exactly once. A deleted
draft's row is removed; its events stay in the outbox, which has no foreign key to this table.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Index,
    Row,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.certificates import (
    Certificate,
    CertificateHeader,
    content_from_json,
    content_to_json,
)
from domain.directory import Assignment, CareGiver, Person, Personnel, Unit
from domain.drafts import Extension
from domain.values import CertificateStatus, HsaId, PersonId, PersonIdKind
from store.base import Base
from store.errors import Conflict
from store.session import translate_errors

# Statuses the locking job moves to LOCKED once a draft is older than the lock age.
_LOCKABLE = (CertificateStatus.DRAFT, CertificateStatus.READY)


class CertificateRow(Base):
    __tablename__ = "certificate"
    # The locking job selects unsigned drafts by status and age.
    __table_args__ = (Index("ix_certificate_status_created_at", "status", "created_at"),)

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

    content: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    version: Mapped[int]
    updated_at: Mapped[datetime | None]
    ready_at: Mapped[datetime | None]
    ready_by_hsa_id: Mapped[str | None]
    signed_at: Mapped[datetime | None]
    signed_by_hsa_id: Mapped[str | None]
    signed_by_name: Mapped[str | None]
    sent_at: Mapped[datetime | None]
    sent_to: Mapped[str | None]
    locked_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_hsa_id: Mapped[str | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    copied_from: Mapped[str | None]


def _lifecycle_columns(certificate: Certificate) -> dict[str, Any]:
    """The columns that change after creation: what ``save_certificate`` writes."""
    c = certificate
    return {
        "status": c.status,
        "content": content_to_json(c.content),
        "version": c.version,
        "updated_at": c.updated_at,
        "ready_at": c.ready_at,
        "ready_by_hsa_id": _hsa(c.ready_by),
        "signed_at": c.signed_at,
        "signed_by_hsa_id": _hsa(c.signed_by),
        "signed_by_name": c.signed_by_name,
        "sent_at": c.sent_at,
        "sent_to": c.sent_to,
        "locked_at": c.locked_at,
        "revoked_at": c.revoked_at,
        "revoked_by_hsa_id": _hsa(c.revoked_by),
        "revoke_reason": c.revoke_reason,
    }


def _hsa(value: HsaId | None) -> str | None:
    return value.value if value is not None else None


# The table itself, for Core reads.
_CERTIFICATE = cast(Table, CertificateRow.__table__)
# Built once (bound parameter): every message and lifecycle operation reads a certificate this way.
_SELECT = select(_CERTIFICATE).where(_CERTIFICATE.c.certificate_id == bindparam("certificate_id"))
_SELECT_FOR_UPDATE = _SELECT.with_for_update()
_IN_IDS = _CERTIFICATE.c.certificate_id.in_(bindparam("certificate_ids", expanding=True))
_SELECT_MANY = select(_CERTIFICATE).where(_IN_IDS)
# Several locked at once, in id order: rows are locked in the order the query returns them, so two
# transactions locking overlapping sets cannot deadlock on each other.
_LOCK_HEADERS = (
    select(
        _CERTIFICATE.c.certificate_id,
        _CERTIFICATE.c.status,
        _CERTIFICATE.c.patient_id_kind,
        _CERTIFICATE.c.patient_id,
        _CERTIFICATE.c.unit_hsa_id,
        _CERTIFICATE.c.care_giver_hsa_id,
        _CERTIFICATE.c.test_certificate,
        _CERTIFICATE.c.signed_at,
    )
    .where(_IN_IDS)
    .order_by(_CERTIFICATE.c.certificate_id)
    .with_for_update()
)


def add_certificate(session: Session, certificate: Certificate) -> None:
    """Store a new certificate (usually a draft) in the caller's transaction.

    The unit's care giver must be the certificate's care giver: the row keeps one care giver for both.

    Raises:
        Conflict: a certificate with this id is already stored.
        ValueError: the unit belongs to another care giver than ``certificate.care_giver``.
    """
    if certificate.unit.care_giver != certificate.care_giver.hsa_id:
        raise ValueError("the certificate's unit belongs to another care giver than the certificate's")
    patient, unit, issuer = certificate.patient, certificate.unit, certificate.created_by
    row = dict(
        certificate_id=certificate.id,
        type_code=certificate.type_code,
        type_code_system=certificate.type_code_system,
        created_at=certificate.created_at,
        test_certificate=certificate.test_certificate,
        ref=certificate.ref,
        prefill_xml=certificate.prefill_xml,
        extensions=[{"path": e.path, "xml": e.xml} for e in certificate.extensions],
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
        care_giver_hsa_id=certificate.care_giver.hsa_id.value,
        care_giver_name=certificate.care_giver.name,
        created_by_hsa_id=issuer.hsa_id.value,
        created_by_name=issuer.name,
        created_by_detail={
            "licensedProfessions": list(issuer.licensed_professions),
            "positionCodes": list(issuer.position_codes),
            "groupPrescriberCodes": list(issuer.group_prescriber_codes),
            "prescriberCode": issuer.prescriber_code,
            "assignments": [{"unit": a.unit.value, "purpose": a.purpose} for a in issuer.assignments],
        },
        copied_from=certificate.copied_from,
        **_lifecycle_columns(certificate),
    )
    try:
        with translate_errors():
            # A bulk-style INSERT instead of session.add(): it skips the unit of work's bookkeeping
            # (about a third of a draft's database time) and still reports a duplicate id here.
            session.execute(insert(CertificateRow), [row])
    except Conflict as error:
        raise Conflict("a certificate with this id is already stored") from error


def get_certificate(
    session: Session, certificate_id: str, *, for_update: bool = False
) -> Certificate | None:
    """The certificate with this id as stored now, or None.

    ``for_update`` locks the row until the caller's transaction ends (``SELECT ... FOR UPDATE`` on
    PostgreSQL; SQLite serialises writers anyway), so that a check-then-change use case is not
    interleaved with another change of the same certificate.
    """
    # A Core SELECT on the table: the row is only read and mapped to a Certificate, so the ORM's
    # identity map and instance state would be pure cost (and could serve a stale row after
    # save_certificate's Core UPDATE).
    query = _SELECT_FOR_UPDATE if for_update else _SELECT
    row = session.execute(query, {"certificate_id": certificate_id}).one_or_none()
    return _to_certificate(row) if row is not None else None


def certificates_by_id(session: Session, ids: Collection[str]) -> dict[str, Certificate]:
    """The stored certificates with these ids, in one query (a batch needs them all at once)."""
    if not ids:
        return {}
    rows = session.execute(_SELECT_MANY, {"certificate_ids": sorted(ids)}).all()
    return {row.certificate_id: _to_certificate(row) for row in rows}


def lock_headers(session: Session, ids: Collection[str]) -> dict[str, CertificateHeader]:
    """Lock the stored certificates with these ids until the caller's transaction ends; return their headers.

    As ``get_certificate(for_update=True)`` for several at once, in id order (``_LOCK_HEADERS``),
    reading only the columns of a ``CertificateHeader``: receiving messages needs no more, and a
    certificate's content can be large.
    """
    if not ids:
        return {}
    rows = session.execute(_LOCK_HEADERS, {"certificate_ids": sorted(ids)}).all()
    return {
        row.certificate_id: CertificateHeader(
            id=row.certificate_id,
            status=row.status,
            patient=PersonId(row.patient_id_kind, row.patient_id),
            unit=HsaId(row.unit_hsa_id),
            care_giver=HsaId(row.care_giver_hsa_id),
            test_certificate=row.test_certificate,
            is_signed=row.signed_at is not None,
        )
        for row in rows
    }


def save_certificate(session: Session, certificate: Certificate, expected_version: int) -> None:
    """Write the lifecycle columns of ``certificate`` if the stored version is ``expected_version``.

    Raises:
        Conflict: the certificate is gone or another change was saved since ``expected_version``.
    """
    with translate_errors():
        result = session.execute(
            update(CertificateRow)
            .where(
                CertificateRow.certificate_id == certificate.id,
                CertificateRow.version == expected_version,
            )
            .values(**_lifecycle_columns(certificate))
            .execution_options(synchronize_session=False)
        )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the certificate was changed or removed by someone else; read it again")


def delete_certificate(session: Session, certificate_id: str) -> None:
    """Remove the certificate's row (its outbox events and PDL records stay)."""
    with translate_errors():
        session.execute(
            delete(CertificateRow)
            .where(CertificateRow.certificate_id == certificate_id)
            .execution_options(synchronize_session=False)
        )


def lock_stale_drafts(session: Session, created_before: datetime, now: datetime) -> list[str]:
    """Lock every DRAFT or READY certificate created before ``created_before``; return their ids.

    One conditional ``UPDATE ... RETURNING``: a draft that is already locked (or was signed meanwhile)
    no longer matches, so running it again changes nothing, and on PostgreSQL a concurrent run waits
    for the row and then re-checks the condition, so each draft is locked and reported once.
    """
    with translate_errors():
        ids = session.scalars(
            update(CertificateRow)
            .where(
                CertificateRow.status.in_(_LOCKABLE),
                CertificateRow.created_at < created_before,
            )
            .values(
                status=CertificateStatus.LOCKED,
                locked_at=now,
                updated_at=now,
                version=CertificateRow.version + 1,
            )
            .returning(CertificateRow.certificate_id)
            .execution_options(synchronize_session=False)
        ).all()
    return sorted(ids)


def _to_certificate(row: Row[Any]) -> Certificate:
    care_giver = CareGiver(HsaId(row.care_giver_hsa_id), row.care_giver_name)
    detail = row.created_by_detail
    return Certificate(
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
        content=content_from_json(row.content),
        version=row.version,
        updated_at=row.updated_at,
        ready_at=row.ready_at,
        ready_by=HsaId(row.ready_by_hsa_id) if row.ready_by_hsa_id else None,
        signed_at=row.signed_at,
        signed_by=HsaId(row.signed_by_hsa_id) if row.signed_by_hsa_id else None,
        signed_by_name=row.signed_by_name,
        sent_at=row.sent_at,
        sent_to=row.sent_to,
        locked_at=row.locked_at,
        revoked_at=row.revoked_at,
        revoked_by=HsaId(row.revoked_by_hsa_id) if row.revoked_by_hsa_id else None,
        revoke_reason=row.revoke_reason,
        copied_from=row.copied_from,
    )
