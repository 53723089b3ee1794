"""The PDL sealer thread on SQLite and PostgreSQL: seals in the background, survives failures, is wired per process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import pytest
import structlog
from sqlalchemy.orm import Session, sessionmaker

from cli.settings import Settings
from cli.wiring import gateway_deps
from cli.worker import build_worker
from domain.pdl_chain import Verification
from scheduler.pdl_sealer import PdlSealer
from store import pdl
from store.errors import DatabaseUnavailable
from store.session import UnitOfWork, transaction
from tests.integration.store.test_pdl_chain import record, verify

WAIT_S = 20.0


def _append(factory: sessionmaker[Session], count: int) -> None:
    with transaction(factory) as session:
        pdl.append_all(session, [record(n) for n in range(count)])


def _wait_until_sealed(factory: sessionmaker[Session]) -> Verification:
    """Poll, without sealing, until nothing is pending (bounded)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        result = verify(factory, seal=False)
        if result.pending == 0 or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def _sealer_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == "pdl-sealer")


def test_sealer_thread_seals_committed_records(session_factory: sessionmaker[Session]) -> None:
    """Records committed while the thread runs are sealed by it, without anyone else sealing."""
    sealer = PdlSealer(UnitOfWork(session_factory), 0.05)
    sealer.start()
    try:
        _append(session_factory, 3)
        result = _wait_until_sealed(session_factory)
    finally:
        sealer.stop()
    assert result.broken is None and (result.checked, result.pending) == (3, 0)


def test_a_failing_round_is_logged_and_the_next_one_seals(session_factory: sessionmaker[Session]) -> None:
    """A database outage and an unexpected error are each logged; neither escapes, and the next round works."""
    failures: list[Exception] = [DatabaseUnavailable("connect"), RuntimeError("driver failed")]

    @contextmanager
    def flaky() -> Iterator[Session]:
        if failures:
            raise failures.pop(0)
        with transaction(session_factory) as session:
            yield session

    sealer = PdlSealer(flaky, 60)
    _append(session_factory, 2)
    with structlog.testing.capture_logs() as logs:
        assert sealer.seal_once() == 0
        assert sealer.seal_once() == 0
        assert sealer.seal_once() == 2
    assert [(entry["event"], entry["log_level"]) for entry in logs] == [("pdl_seal_failed", "warning"), ("pdl_seal_failed", "error")]


def test_sealer_needs_a_positive_period() -> None:
    """0 means "no sealer" in the settings, and is not a period the thread could run at."""
    with pytest.raises(ValueError):
        PdlSealer(nullcontext, 0)


def test_each_gateway_process_runs_a_sealer_until_closed(db_url: str, session_factory: sessionmaker[Session]) -> None:
    """gateway_deps starts a sealer (pdl_seal_seconds) and close() stops it; with 0 there is none."""
    before = _sealer_threads()
    deps = gateway_deps(Settings(database_url=db_url, pdl_seal_seconds=0.05))
    try:
        assert _sealer_threads() == before + 1
        _append(session_factory, 4)
        result = _wait_until_sealed(session_factory)
    finally:
        deps.close()
    assert result.broken is None and (result.checked, result.pending) == (4, 0)
    assert _sealer_threads() == before
    off = gateway_deps(Settings(database_url=db_url, pdl_seal_seconds=0))
    off.close()
    assert _sealer_threads() == before


def test_worker_process_runs_a_sealer(db_url: str, session_factory: sessionmaker[Session]) -> None:
    """The worker seals too, from start() to stop(); with pdl_seal_seconds 0 it has no sealer."""
    worker = build_worker(Settings(database_url=db_url, pdl_seal_seconds=0.05))
    assert worker.sealer is not None
    worker.start()
    try:
        _append(session_factory, 2)
        result = _wait_until_sealed(session_factory)
    finally:
        worker.stop()
    assert result.broken is None and result.checked == 2
    idle = build_worker(Settings(database_url=db_url, pdl_seal_seconds=0))
    assert idle.sealer is None
    idle.close()
