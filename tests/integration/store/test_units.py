"""Integrated units remember when they were first and last seen."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
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


def test_simultaneous_first_registrations_all_succeed(session_factory: sessionmaker[Session]) -> None:
    """Eight transactions registering the same new unit at once neither fail nor duplicate it."""
    unit, care_giver = HsaId("SE2321000016-1000"), HsaId("SE2321000016-0001")
    start = threading.Barrier(8)

    def register(offset: int) -> None:
        with transaction(session_factory) as session:
            start.wait(timeout=10)
            register_integrated_unit(session, unit, care_giver, FIRST + timedelta(seconds=offset))

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(register, offset) for offset in range(8)]:
            future.result(timeout=30)  # re-raises whatever failed in the thread
    with transaction(session_factory) as session:
        stored = get_integrated_unit(session, unit)
    assert stored is not None
    assert FIRST <= stored.first_seen <= stored.last_seen <= FIRST + timedelta(seconds=7)


def test_out_of_order_registrations_keep_the_extremes(session_factory: sessionmaker[Session]) -> None:
    """A registration with an older time (a transaction that committed late) moves neither time inward."""
    with transaction(session_factory) as session:
        register_integrated_unit(session, HsaId("SE2321000016-1000"), HsaId("SE2321000016-0002"), LATER)
        register_integrated_unit(session, HsaId("SE2321000016-1000"), HsaId("SE2321000016-0001"), FIRST)
        stored = get_integrated_unit(session, HsaId("SE2321000016-1000"))
    assert stored == IntegratedUnit(
        HsaId("SE2321000016-1000"), HsaId("SE2321000016-0002"), FIRST, LATER
    )


def test_the_registration_is_compiled_once_and_then_taken_from_the_statement_cache(engine: Engine) -> None:
    """Every group of new drafts registers its units: the upsert must not be compiled anew each time
    (SQLAlchemy does not cache an ON CONFLICT insert built with its dialect constructs)."""
    compiled: dict[object, object] = {}
    with engine.connect() as connection:
        session = Session(bind=connection.execution_options(compiled_cache=compiled))
        for n, unit in enumerate(("SE2321000016-1000", "SE2321000016-1001", "se2321000016-1000")):
            register_integrated_unit(session, HsaId(unit), HsaId("SE2321000016-0001"), FIRST + timedelta(hours=n))
        assert len(compiled) == 1
        assert get_integrated_unit(session, HsaId("SE2321000016-1000")) == IntegratedUnit(
            HsaId("SE2321000016-1000"), HsaId("SE2321000016-0001"), FIRST, FIRST + timedelta(hours=2)
        )
        session.close()
