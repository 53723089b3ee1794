"""Integrated units remember when they were first and last seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from domain.values import HsaId
from store.session import transaction
from store.units import IntegratedUnit, get_integrated_unit, register_integrated_unit

FIRST = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
LATER = FIRST + timedelta(days=3, hours=2)


def test_first_registration_sets_first_and_last_seen(session_factory: sessionmaker[Session]) -> None:
    """A new unit is stored with both times set to now."""
    with transaction(session_factory) as session:
        register_integrated_unit(session, HsaId("SE2321000016-1000"), HsaId("SE2321000016-0001"), FIRST)
        assert get_integrated_unit(session, HsaId("SE2321000016-1000")) == IntegratedUnit(
            HsaId("SE2321000016-1000"), HsaId("SE2321000016-0001"), FIRST, FIRST
        )


def test_later_registration_moves_only_last_seen(session_factory: sessionmaker[Session]) -> None:
    """Registering again, in another spelling, keeps first_seen and the first spelling."""
    with transaction(session_factory) as session:
        register_integrated_unit(session, HsaId("SE2321000016-1000"), HsaId("SE2321000016-0001"), FIRST)
    with transaction(session_factory) as session:
        register_integrated_unit(session, HsaId("se2321000016-1000"), HsaId("SE2321000016-0001"), LATER)
    with transaction(session_factory) as session:
        stored = get_integrated_unit(session, HsaId(" SE2321000016-1000"))
    assert stored is not None
    assert (stored.first_seen, stored.last_seen) == (FIRST, LATER)
    assert stored.unit.value == "SE2321000016-1000"


def test_unregistered_unit_is_none(session_factory: sessionmaker[Session]) -> None:
    """A unit that never created a draft is not integrated."""
    with transaction(session_factory) as session:
        assert get_integrated_unit(session, HsaId("SE2321000016-2000")) is None
