"""Stored certificates: one row per certificate, from draft to revoked, with snapshots of who and where.

The patient, unit, care giver and issuer are copied into the row as they were when the draft was
created, not referenced: the certificate must show the data it was written with even after the
directory changes (a unit is renamed, a patient moves), and the directory may later be the national
HSA and PU services, which we cannot join against. So there are deliberately no foreign keys to the
directory tables.

The issuer's codes and assignments, which only the role rules read, are kept as one JSON document
(``created_by_detail``) rather than in child tables; extensions (XML found at ``xs:any`` positions) are
kept as a JSON list in their original order, and so is the content (the answers, see
``domain.certificates.content_to_json``). Which column holds which attribute, and how, is declared
once in ``domain.certificates.CERTIFICATE_COLUMNS``; this module maps rows only through it, and adds
``unit_key`` and ``signed_by_key``, the columns of its own (index keys derived from the unit's and
the signer's HSA-ids).

Changes after creation go through ``save_certificate``, which writes only the columns the lifecycle
changes and only if ``version`` is still the one the caller read (optimistic locking: a stale write
is a ``Conflict``, never a lost update). ``lock_stale_drafts`` is a single conditional ``UPDATE``, so
several gateway instances running the locking job at once lock each draft exactly once. A deleted
draft's row is removed; its events stay in the outbox, which has no foreign key to this table.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    Index,
    Row,
    Table,
    Text,
    bindparam,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.certificate_list import CertificateStamp
from domain.certificates import (
    HEADER_COLUMNS,
    Certificate,
    CertificateHeader,
    certificate_from_columns,
    certificate_header_from_columns,
    certificate_to_columns,
    lifecycle_columns,
)
from domain.lifecycle import SEND_ACCEPTED, SEND_FAILED
from domain.relations import Child
from domain.values import CertificateStatus, HsaId, PersonId, PersonIdKind, RelationCode, RevokeReason
from store import certificate_events, driver
from store.base import Base, among
from store.errors import Conflict
from store.session import translate_errors

# Statuses the locking job moves to LOCKED once a draft is older than the lock age.
_LOCKABLE = (CertificateStatus.DRAFT, CertificateStatus.READY)


class CertificateRow(Base):
    __tablename__ = "certificate"
    # The locking job selects unsigned drafts by status and age; an issuer's list of signed
    # certificates by signer and signing time (``signed_by``); a patient's list by the patient's
    # person id (``for_patient``, migration 0015).
    __table_args__ = (
        Index("ix_certificate_status_created_at", "status", "created_at"),
        Index("ix_certificate_signed_by_key_signed_at", "signed_by_key", "signed_at"),
        Index("ix_certificate_patient_id", "patient_id"),
    )

    certificate_id: Mapped[str] = mapped_column(primary_key=True)
    type_code: Mapped[str]
    type_code_system: Mapped[str]
    received_type_code: Mapped[str]
    received_type_code_system: Mapped[str]
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
    revoke_reason_code: Mapped[RevokeReason | None]  # migration 0010; None for older revocations
    # The signer's key (case-folded HSA-id), derived like ``unit_key``: what an issuer's list selects on.
    signed_by_key: Mapped[str | None]
    # The send (migration 0013): asked when, and its last failure for good (class, the receiver's text, when).
    send_requested_at: Mapped[datetime | None]
    send_failed_at: Mapped[datetime | None]
    send_failure_class: Mapped[str | None]
    send_failure_text: Mapped[str | None] = mapped_column(Text)
    # The relation to the parent (migration 0014): the rules of renew, replace and complete read a
    # parent's children by ``relation_parent_id`` (indexed).
    relation_code: Mapped[RelationCode | None]
    relation_parent_id: Mapped[str | None] = mapped_column(index=True)


# The table itself, for Core reads.
_CERTIFICATE = cast(Table, CertificateRow.__table__)
# Built once (bound parameter): every message and lifecycle operation reads a certificate this way.
_SELECT = select(_CERTIFICATE).where(_CERTIFICATE.c.certificate_id == bindparam("certificate_id"))
_SELECT_FOR_UPDATE = _SELECT.with_for_update()
_SELECT_MANY = select(_CERTIFICATE).where(among(_CERTIFICATE.c.certificate_id, "certificate_ids"))
# The writes, built once too: a Core INSERT and UPDATE on the table. The ORM-enabled statements
# (insert(CertificateRow), update(CertificateRow)) built per call cost twice (INSERT) and eight times
# (UPDATE) the Python time of these (bench/certificate_mapping.py), and no write here needs the ORM.
_INSERT = _CERTIFICATE.insert()
# The SET clause is whatever columns a call passes (the lifecycle columns); the WHERE's parameters
# are named apart from the columns they compare, because the UPDATE may also set those columns.
_SAVE = _CERTIFICATE.update().where(
    _CERTIFICATE.c.certificate_id == bindparam("where_certificate_id"),
    _CERTIFICATE.c.version == bindparam("where_version"),
)
# Several locked at once, in id order: rows are locked in the order the query returns them, so two
# transactions locking overlapping sets cannot deadlock on each other.
_LOCK_HEADERS = (
    select(*(_CERTIFICATE.c[name] for name in HEADER_COLUMNS))
    .where(among(_CERTIFICATE.c.certificate_id, "certificate_ids"))
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
    add_certificates(session, [certificate])


def add_certificates(session: Session, new: Sequence[Certificate]) -> None:
    """Store new certificates in the caller's transaction, with one statement (``add_certificate`` for each).

    Raises:
        Conflict: a certificate with one of these ids is already stored (or two of them share an id).
        ValueError: as ``add_certificate``.
    """
    if not new:
        return
    rows = [insert_row(certificate) for certificate in new]
    try:
        with translate_errors():
            # A Core INSERT instead of session.add(): it skips the unit of work's bookkeeping (about
            # a third of a draft's database time) and still reports a duplicate id here. Several rows
            # go as one executemany, which psycopg sends pipelined, converting the statement once.
            session.execute(_INSERT, rows[0] if len(rows) == 1 else rows)
    except Conflict as error:
        raise Conflict("a certificate with this id is already stored") from error


def insert_row(certificate: Certificate) -> dict[str, Any]:
    """The values of a new certificate's row, by column name."""
    row = certificate_to_columns(certificate)
    row["unit_key"] = certificate.unit.hsa_id.key
    row["signed_by_key"] = _signed_by_key(certificate)
    return row


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
    rows = driver.fetch_all(session, _LOCK_HEADERS, {"certificate_ids": sorted(ids)})
    return {row.certificate_id: certificate_header_from_columns(row._asdict()) for row in rows}


def save_certificate(session: Session, certificate: Certificate, expected_version: int) -> None:
    """Write the lifecycle columns of ``certificate`` if the stored version is ``expected_version``.

    Raises:
        Conflict: the certificate is gone or another change was saved since ``expected_version``.
    """
    parameters = lifecycle_columns(certificate)
    parameters.update(
        signed_by_key=_signed_by_key(certificate), where_certificate_id=certificate.id, where_version=expected_version
    )
    with translate_errors():
        result = session.execute(_SAVE, parameters)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the certificate was changed or removed by someone else; read it again")


def delete_certificate(session: Session, certificate_id: str) -> None:
    """Remove the certificate's row and its history (its outbox events and PDL records stay)."""
    with translate_errors():
        session.execute(
            delete(CertificateRow)
            .where(CertificateRow.certificate_id == certificate_id)
            .execution_options(synchronize_session=False)
        )
        certificate_events.forget(session, [certificate_id])


def lock_stale_drafts(
    session: Session,
    created_before: datetime,
    now: datetime,
    *,
    type_codes: Collection[str] | None = None,
    except_codes: Collection[str] = (),
) -> list[str]:
    """Lock every DRAFT or READY certificate created before ``created_before``; return their ids.

    Only certificates whose type code is in ``type_codes`` (None: any) and not in ``except_codes``
    (``domain.lifecycle.LockRule``: the lock period differs per type). One conditional
    ``UPDATE ... RETURNING``: a draft that is already locked (or was signed meanwhile) no longer
    matches, so running it again changes nothing, and on PostgreSQL a concurrent run waits for the
    row and then re-checks the condition, so each draft is locked and reported once.
    """
    conditions = [CertificateRow.status.in_(_LOCKABLE), CertificateRow.created_at < created_before]
    if type_codes is not None:
        conditions.append(CertificateRow.type_code.in_(sorted(type_codes)))
    if except_codes:
        conditions.append(CertificateRow.type_code.not_in(sorted(except_codes)))
    with translate_errors():
        ids = session.scalars(
            update(CertificateRow)
            .where(*conditions)
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


def _signed_by_key(certificate: Certificate) -> str | None:
    return certificate.signed_by.key if certificate.signed_by is not None else None


def signed_by(
    session: Session, signer: HsaId, since: datetime, offset: int, limit: int
) -> tuple[int, list[Certificate]]:
    """The certificates ``signer`` signed at or after ``since``, newest signing first (then by id):
    how many in all, and ``limit`` of them from ``offset``. Revoked ones included (they were signed)."""
    where = (CertificateRow.signed_by_key == signer.key, CertificateRow.signed_at >= since)
    total = session.scalar(select(func.count()).select_from(CertificateRow).where(*where)) or 0
    rows = session.execute(
        select(_CERTIFICATE).where(*where)
        .order_by(CertificateRow.signed_at.desc(), CertificateRow.certificate_id)
        .offset(offset).limit(limit)
    ).all()
    return int(total), [_to_certificate(row) for row in rows]


def for_patient(
    session: Session,
    patient: PersonId,
    units: Collection[HsaId],
    care_giver: HsaId | None,
    start: datetime | None,
    end: datetime | None,
) -> list[CertificateStamp]:
    """The stamps of the patient's certificates at ``units`` (or, when none is given, at ``care_giver``)
    with at least one event in their history between ``start`` and ``end`` (both inclusive, None:
    open); newest first (creation time, then id). HSA-ids compare case-insensitively.

    Only the stamps: the caller reads (or reuses) the certificates themselves. The patient's index
    narrows the rows to one person's certificates before anything else is looked at; the window is
    probed per certificate on the history's (certificate, time) index.
    """
    events = certificate_events.CertificateEventRow
    window = [events.certificate_id == CertificateRow.certificate_id]
    if start is not None:
        window.append(events.occurred_at >= start)
    if end is not None:
        window.append(events.occurred_at <= end)
    place: ColumnElement[bool]
    if units:
        place = CertificateRow.unit_key.in_(sorted({unit.key for unit in units}))
    elif care_giver is not None:
        place = func.lower(CertificateRow.care_giver_hsa_id) == care_giver.key
    else:
        return []
    rows = session.execute(
        select(CertificateRow.certificate_id, CertificateRow.version, CertificateRow.updated_at)
        .where(CertificateRow.patient_id == patient.digits, place, exists().where(*window))
        .order_by(CertificateRow.created_at.desc(), CertificateRow.certificate_id.desc())
    ).all()
    return [CertificateStamp(row[0], row[1], row[2]) for row in rows]


def _to_certificate(row: Row[Any]) -> Certificate:
    # By the row's mapping, not its attributes: a Row's attribute access costs about ten times a
    # mapping lookup, and this runs for every certificate read.
    return certificate_from_columns(row._mapping)


# --- a send's settlement (the outbox's outcome step, many certificates at once) -------------------


@dataclass(frozen=True, slots=True)
class SendFailure:
    """A send that failed for good: the certificate, the outcome class, the receiver's text, when."""

    certificate_id: str
    outcome: str
    text: str | None
    at: datetime


def accept_sends(session: Session, ids: Collection[str], at: datetime) -> list[str]:
    """The recipient accepted these certificates' sends: SENDING → SENT (``lifecycle.SEND_ACCEPTED``)
    with ``sent_at`` = ``at``; return the ids changed.

    One conditional ``UPDATE ... RETURNING``: a certificate no longer SENDING (revoked meanwhile, or
    settled by an earlier outcome) is left as it is, and on PostgreSQL an update waits for a
    revocation that holds the row and then re-checks, so a revoked certificate never becomes SENT.
    """
    if not ids:
        return []
    with translate_errors():
        changed = session.scalars(_ACCEPT_SENDS, {"ids": sorted(ids), "at": at}).all()
    return sorted(changed)


# On the table, not the mapped class: the ORM's bulk-update machinery cost more than the statement
# (the outcome writer accepts every send of a drain). Built once; the ids and time are bound.
_ACCEPT_SENDS = (
    update(_CERTIFICATE)
    .where(among(_CERTIFICATE.c.certificate_id, "ids"), _CERTIFICATE.c.status == SEND_ACCEPTED[0])
    .values(status=SEND_ACCEPTED[1], sent_at=bindparam("at"), updated_at=bindparam("at"),
            version=_CERTIFICATE.c.version + 1)
    .returning(_CERTIFICATE.c.certificate_id)
)


def fail_sends(session: Session, failures: Sequence[SendFailure]) -> list[str]:
    """These sends failed for good: SENDING → SIGNED (``lifecycle.SEND_FAILED``) with the failure; the ids changed."""
    before, after = SEND_FAILED
    changed: list[str] = []
    with translate_errors():
        for failure in sorted(failures, key=lambda f: f.certificate_id):  # rows locked in id order
            found = session.scalars(
                update(CertificateRow)
                .where(CertificateRow.certificate_id == failure.certificate_id, CertificateRow.status == before)
                .values(status=after, updated_at=failure.at, version=CertificateRow.version + 1,
                        send_failed_at=failure.at, send_failure_class=failure.outcome,
                        send_failure_text=failure.text)
                .returning(CertificateRow.certificate_id)
                .execution_options(synchronize_session=False)
            ).all()
            changed.extend(found)
    return changed


def children(session: Session, parent_id: str) -> list[Child]:
    """The certificates made from ``parent_id`` (renewals, replacements, completions, copies): their id,
    relation and status, oldest first (the ``relation_parent_id`` index)."""
    rows = session.execute(
        select(CertificateRow.certificate_id, CertificateRow.relation_code, CertificateRow.status)
        .where(CertificateRow.relation_parent_id == parent_id, CertificateRow.relation_code.is_not(None))
        .order_by(CertificateRow.created_at, CertificateRow.certificate_id))
    return [Child(cid, RelationCode(code), CertificateStatus(status)) for cid, code, status in rows]


def statuses(session: Session, ids: Collection[str]) -> dict[str, CertificateStatus]:
    """The status of each certificate that still exists."""
    if not ids:
        return {}
    rows = session.execute(select(CertificateRow.certificate_id, CertificateRow.status)
                           .where(CertificateRow.certificate_id.in_(sorted(ids))))
    return {certificate_id: CertificateStatus(status) for certificate_id, status in rows}
