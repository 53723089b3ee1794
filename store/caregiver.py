"""A care giver's certificates as one set: counted, read whole for export, and purged with a record.

When a care giver disappears from HSA (a merger, new HSA-ids) its certificates lose their owner, and
someone must decide what happens to them (``usecases.caregiver``). This module holds the SQL of
those decisions: the inventory, reading every certificate with its outbox events and ärenden, the
``caregiver_export`` record of each export (the digest of its file and a fingerprint per
certificate), and the purge's steps: delete the ärenden and the certificates, and turn the outbox
events into tombstones.

Tombstones, not deletions: the journal system received SKAPAT, SIGNAT... for these certificates, and
the outbox row ids order every certificate's events, so the rows stay with their code, time, unit,
care giver, status and attempts (what was told to whom, and when), while the payload, which may
carry patient data (a RADERA snapshot, a question's topic), is replaced by a ``purged`` marker.
Events not yet delivered can never be built now (the certificate is gone) and become ``PURGED``.

Care givers are matched by HSA-id case-insensitively (``lower()``, as ``HsaId.key`` for the ASCII
HSA-ids are); there is no index for it, since these are rare operator commands.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Index, Table, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.arenden import Arende
from domain.certificates import Certificate
from domain.values import HsaId
from store import arenden, certificate_events
from store.arenden import ArendeRow
from store.base import Base, BigId
from store.certificates import CertificateRow, certificates_by_id
from store.directory_tables import CareGiverRow, HsaFactRow
from store.outbox.tables import OutboxRow, OutboxStatus
from store.session import translate_errors

_CHUNK = 500  # ids per IN list: well below both databases' parameter limits


class CaregiverExportRow(Base):
    """One export of a care giver's certificates: the file's digest and what it held; the purge it allowed."""

    __tablename__ = "caregiver_export"
    __table_args__ = (Index("ix_caregiver_export_care_giver_key", "care_giver_key"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    care_giver_key: Mapped[str]
    care_giver_hsa_id: Mapped[str]
    digest: Mapped[str] = mapped_column(unique=True)  # SHA-256 of the file, hex
    file_name: Mapped[str]
    exported_at: Mapped[datetime]
    exported_by: Mapped[str]
    certificates: Mapped[int]
    manifest: Mapped[dict[str, str]] = mapped_column(JSON)  # certificate id -> fingerprint of its line
    purged_at: Mapped[datetime | None]
    purged_by: Mapped[str | None]
    purge_reason: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class CaregiverExport:
    """A stored export record."""

    id: int
    care_giver: HsaId
    digest: str
    file_name: str
    exported_at: datetime
    exported_by: str
    certificates: int
    manifest: Mapping[str, str]
    purged_at: datetime | None


@dataclass(frozen=True, slots=True)
class Inventory:
    """What a care giver holds: counts by (type, status) and by unit, the total, oldest and newest creation."""

    care_giver: HsaId
    total: int
    by_type_and_status: tuple[tuple[str, str, int], ...]
    by_unit: tuple[tuple[str, int], ...]
    oldest: datetime | None
    newest: datetime | None


def _of(care_giver: HsaId) -> Any:
    return func.lower(CertificateRow.care_giver_hsa_id) == care_giver.key


def inventory(session: Session, care_giver: HsaId) -> Inventory:
    """The counts of ``care_giver``'s certificates (no certificate is read whole)."""
    by_type = session.execute(
        select(CertificateRow.type_code, CertificateRow.status, func.count())
        .where(_of(care_giver)).group_by(CertificateRow.type_code, CertificateRow.status)
        .order_by(CertificateRow.type_code, CertificateRow.status)
    ).all()
    by_unit = session.execute(
        select(CertificateRow.unit_hsa_id, func.count()).where(_of(care_giver))
        .group_by(CertificateRow.unit_hsa_id).order_by(CertificateRow.unit_hsa_id)
    ).all()
    oldest, newest = session.execute(
        select(func.min(CertificateRow.created_at), func.max(CertificateRow.created_at)).where(_of(care_giver))
    ).one()
    return Inventory(
        care_giver=care_giver,
        total=sum(int(count) for _, _, count in by_type),
        by_type_and_status=tuple((code, status.value, int(count)) for code, status, count in by_type),
        by_unit=tuple((unit, int(count)) for unit, count in by_unit),
        oldest=oldest,
        newest=newest,
    )


def certificate_ids(session: Session, care_giver: HsaId, *, for_update: bool = False) -> list[str]:
    """The ids of ``care_giver``'s certificates, sorted; ``for_update`` locks their rows (in id order)."""
    query = select(CertificateRow.certificate_id).where(_of(care_giver)).order_by(CertificateRow.certificate_id)
    if for_update:
        query = query.with_for_update()
    return list(session.scalars(query))


def certificates(session: Session, ids: Sequence[str]) -> list[Certificate]:
    """The certificates with these ids, in the order of ``ids``."""
    found: dict[str, Certificate] = {}
    for start in range(0, len(ids), _CHUNK):
        found.update(certificates_by_id(session, ids[start:start + _CHUNK]))
    return [found[certificate_id] for certificate_id in ids if certificate_id in found]


def arenden_of(session: Session, certificate_id: str) -> list[Arende]:
    """The certificate's ärenden in storage order."""
    return arenden.arenden_for_certificate(session, certificate_id)


_EVENT_FIELDS = ("id", "event_code", "occurred_at", "unit_hsa_id", "care_giver_hsa_id", "correlation_id",
                 "acting_user_hsa_id", "payload", "payload_version", "status", "attempts", "last_attempt_at",
                 "last_outcome", "finished_at", "superseded_by")


def events_of(session: Session, ids: Collection[str]) -> dict[str, list[dict[str, Any]]]:
    """Each certificate's outbox rows, oldest first, as plain values (codes and statuses as text)."""
    table = cast(Table, OutboxRow.__table__)
    wanted = sorted(ids)
    events: dict[str, list[dict[str, Any]]] = {certificate_id: [] for certificate_id in wanted}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(table.c.certificate_id, *(table.c[name] for name in _EVENT_FIELDS))
            .where(table.c.certificate_id.in_(wanted[start:start + _CHUNK])).order_by(table.c.id)
        )
        for row in rows:
            values = {name: getattr(row, name) for name in _EVENT_FIELDS}
            values["event_code"] = values["event_code"].value
            values["status"] = values["status"].value
            events[row.certificate_id].append(values)
    return events


def add_export(session: Session, care_giver: HsaId, digest: str, file_name: str, at: datetime, by: str,
               manifest: Mapping[str, str]) -> int:
    """Record an export; return its id."""
    row = CaregiverExportRow(
        care_giver_key=care_giver.key, care_giver_hsa_id=care_giver.value, digest=digest, file_name=file_name,
        exported_at=at, exported_by=by, certificates=len(manifest), manifest=dict(manifest),
    )
    with translate_errors():
        session.add(row)
        session.flush()
    return row.id


def find_export(session: Session, care_giver: HsaId, digest: str) -> CaregiverExport | None:
    """The export of ``care_giver`` whose file had this digest (case-insensitive hex), or None."""
    row = session.scalars(
        select(CaregiverExportRow).where(
            CaregiverExportRow.care_giver_key == care_giver.key,
            CaregiverExportRow.digest == digest.strip().lower(),
        )
    ).one_or_none()
    if row is None:
        return None
    return CaregiverExport(row.id, HsaId(row.care_giver_hsa_id), row.digest, row.file_name, row.exported_at,
                           row.exported_by, row.certificates, dict(row.manifest), row.purged_at)


def mark_purged(session: Session, export_id: int, at: datetime, by: str, reason: str) -> None:
    """Note on the export that the purge it allowed was done, by whom and why."""
    session.execute(
        update(CaregiverExportRow).where(CaregiverExportRow.id == export_id)
        .values(purged_at=at, purged_by=by, purge_reason=reason)
    )


def purge_rows(session: Session, ids: Sequence[str], tombstone: Mapping[str, Any], at: datetime) -> int:
    """Delete the certificates and their ärenden; turn their outbox events into tombstones. Returns
    the number of events kept as tombstones.

    Undelivered events (pending or failed) become ``PURGED`` (final: nothing is left to send); every
    event's payload becomes ``{"purged": tombstone}``. Attempts stay as they are.
    """
    events = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start:start + _CHUNK])
        with translate_errors():
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.certificate_id.in_(chunk),
                       OutboxRow.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
                .values(status=OutboxStatus.PURGED, finished_at=at, claimed_by=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            result = session.execute(
                update(OutboxRow).where(OutboxRow.certificate_id.in_(chunk))
                .values(payload={"purged": dict(tombstone)})
                .execution_options(synchronize_session=False)
            )
            events += int(result.rowcount)  # type: ignore[attr-defined]
            session.execute(delete(ArendeRow).where(ArendeRow.certificate_id.in_(chunk))
                            .execution_options(synchronize_session=False))
            session.execute(delete(CertificateRow).where(CertificateRow.certificate_id.in_(chunk))
                            .execution_options(synchronize_session=False))
            certificate_events.forget(session, chunk)
    return events


def in_directory(session: Session, care_giver: HsaId) -> bool:
    """Whether ``care_giver`` is in the embedded directory and not marked gone by the latest HSA unit file."""
    if session.get(CareGiverRow, care_giver.key) is None:
        return False
    fact = session.get(HsaFactRow, care_giver.key)
    return fact is None or fact.listed
