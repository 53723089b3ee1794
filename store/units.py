"""Integrated units: care units that have created a draft through CreateDraftCertificate.

A unit becomes integrated the first time a journal system creates a draft for it; from then on it
receives status updates (CertificateStatusUpdateForCare) and its users are sent to the journal system
rather than to standalone use. ``first_seen`` records when that happened, ``last_seen`` the latest
draft, which tells an operator whether an integration is still alive.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, bindparam, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.values import HsaId
from store.base import Base
from store.types import UtcDateTime


class IntegratedUnitRow(Base):
    __tablename__ = "integrated_unit"

    unit_key: Mapped[str] = mapped_column(primary_key=True)  # HsaId.key
    unit_hsa_id: Mapped[str]  # the spelling of the first request
    care_giver_hsa_id: Mapped[str]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class IntegratedUnit:
    """A unit known to be integrated, with its care giver and when it was first and last seen."""

    unit: HsaId
    care_giver: HsaId
    first_seen: datetime
    last_seen: datetime


def register_integrated_unit(
    session: Session, unit: HsaId, care_giver: HsaId, now: datetime, *, first_seen: datetime | None = None
) -> None:
    """Record that ``unit`` created a draft at ``now``: insert it, or move ``last_seen`` to ``now``.

    ``first_seen`` (default ``now``) is for several drafts registered at once: the earliest of them
    (``usecases.create_draft.draft_rows`` folds them by the rule below).

    One ``INSERT ... ON CONFLICT DO UPDATE`` statement, so two first drafts for the same unit at the
    same moment (two gateway instances on PostgreSQL) cannot both insert and fail on the key. Since
    such transactions may commit in either order, ``last_seen`` only ever moves forward and
    ``first_seen`` only backward. The care giver follows the newest request: a unit that moved
    between care givers must get its status updates addressed with the new one. The spelling of
    the unit's HSA-id from the first request is kept.
    """
    sighting = IntegratedUnit(unit, care_giver, now if first_seen is None else first_seen, now)
    session.execute(_registration(session.get_bind().dialect.name), upsert_row(sighting))


@functools.cache
def _registration(dialect: str) -> TextClause:
    """``register_integrated_unit``'s upsert for ``dialect``, as text written once.

    Not built with SQLAlchemy's ``insert().on_conflict_do_update()``: the dialects' ON CONFLICT
    insert opts out of SQLAlchemy's statement cache, so that statement was built and compiled anew
    for every group of new drafts (about 300 µs of CPU, a sixth of a CreateDraftCertificate alone).
    """
    values = "VALUES (:unit_key, :unit_hsa_id, :care_giver_hsa_id, :first_seen, :last_seen)"
    return text(upsert_sql(dialect, values)).bindparams(
        bindparam("first_seen", type_=UtcDateTime()), bindparam("last_seen", type_=UtcDateTime()))


#: The columns ``upsert_sql``'s rows give, in order, by the names ``register_integrated_unit`` binds.
UPSERT_COLUMNS = ("unit_key", "unit_hsa_id", "care_giver_hsa_id", "first_seen", "last_seen")


def upsert_sql(dialect: str, rows: str) -> str:
    """The integrated-unit upsert of ``rows`` (a ``VALUES`` list or a ``SELECT`` of ``UPSERT_COLUMNS``).

    The rule of ``register_integrated_unit``, in SQL: concurrent requests may commit out of order,
    so keep the extremes, not the last writer, and the care giver of the newest request. The larger
    and smaller of two times: ``greatest``/``least`` on PostgreSQL, the two-argument ``max``/``min`` on
    SQLite (which compares the fixed-width UTC text ``UtcDateTime`` writes).
    """
    larger, smaller = {"postgresql": ("greatest", "least"), "sqlite": ("max", "min")}[dialect]
    table = IntegratedUnitRow.__tablename__
    return (
        f"INSERT INTO {table} ({', '.join(UPSERT_COLUMNS)}) {rows} "
        "ON CONFLICT (unit_key) DO UPDATE SET "
        f"first_seen = {smaller}({table}.first_seen, excluded.first_seen), "
        f"last_seen = {larger}({table}.last_seen, excluded.last_seen), "
        f"care_giver_hsa_id = CASE WHEN excluded.last_seen >= {table}.last_seen "
        f"THEN excluded.care_giver_hsa_id ELSE {table}.care_giver_hsa_id END"
    )


def upsert_row(sighting: IntegratedUnit) -> dict[str, Any]:
    """The values ``upsert_sql`` takes for one unit, by ``UPSERT_COLUMNS``."""
    return {"unit_key": sighting.unit.key, "unit_hsa_id": sighting.unit.value,
            "care_giver_hsa_id": sighting.care_giver.value, "first_seen": sighting.first_seen,
            "last_seen": sighting.last_seen}


def get_integrated_unit(session: Session, unit: HsaId) -> IntegratedUnit | None:
    """The integrated unit with this HSA-id (compared case-insensitively), or None."""
    row = session.get(IntegratedUnitRow, unit.key, populate_existing=True)
    if row is None:
        return None
    return IntegratedUnit(
        unit=HsaId(row.unit_hsa_id),
        care_giver=HsaId(row.care_giver_hsa_id),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


def integrated_unit_keys(session: Session, units: Iterable[HsaId]) -> set[str]:
    """The keys (``HsaId.key``) of those of ``units`` that are integrated, in one query."""
    keys = {unit.key for unit in units}
    if not keys:
        return set()
    return set(session.scalars(select(IntegratedUnitRow.unit_key).where(IntegratedUnitRow.unit_key.in_(keys))))
