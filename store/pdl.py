"""The PDL access log (Patientdatalagen): every access to patient data, one row per record.

Rows are only ever appended. Each row is a ``PdlRecord`` column for column, so the StoreLog service
and the gateway's own logging write the same shape. The certificate a record is about travels in
``activity_level`` (as in StoreLog, where Webcert puts the certificate id there), which is what
``records_for_certificate`` selects on. A later migration adds hash chaining (a column per row with
the hash of its predecessor); ``id`` already gives the chain its order.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.pdl import PdlRecord
from store.base import Base, BigId


class PdlRow(Base):
    __tablename__ = "pdl_record"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    log_id: Mapped[str]
    system_id: Mapped[str]
    system_name: Mapped[str | None]
    activity: Mapped[str]
    activity_level: Mapped[str | None] = mapped_column(index=True)
    activity_args: Mapped[str | None]
    start_date: Mapped[datetime]
    purpose: Mapped[str]
    user_id: Mapped[str]
    user_name: Mapped[str | None]
    user_assignment: Mapped[str | None]
    user_title: Mapped[str | None]
    user_care_giver_id: Mapped[str]
    user_care_giver_name: Mapped[str | None]
    user_care_unit_id: Mapped[str]
    user_care_unit_name: Mapped[str | None]
    patient_id_root: Mapped[str | None]
    patient_id: Mapped[str | None]
    patient_name: Mapped[str | None]
    resource_type: Mapped[str]
    resource_care_giver_id: Mapped[str]
    resource_care_giver_name: Mapped[str | None]
    resource_care_unit_id: Mapped[str | None]
    resource_care_unit_name: Mapped[str | None]


_RECORD_FIELDS = tuple(field.name for field in fields(PdlRecord))


def append(session: Session, record: PdlRecord) -> None:
    """Add ``record`` to the log in the caller's transaction."""
    # A bulk-style INSERT: the log is append-only, so no ORM object is ever needed for a new record.
    session.execute(insert(PdlRow), [{name: getattr(record, name) for name in _RECORD_FIELDS}])


def records_for_certificate(session: Session, certificate_id: str) -> list[PdlRecord]:
    """Every record whose ``activity_level`` is this certificate id, in the order they were written."""
    rows = session.scalars(
        select(PdlRow).where(PdlRow.activity_level == certificate_id).order_by(PdlRow.id)
    )
    return [PdlRecord(**{name: getattr(row, name) for name in _RECORD_FIELDS}) for row in rows]
