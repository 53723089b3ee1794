"""SQLite's writer gate: one writer at a time, across threads and processes, never held past its transaction.

Several processes (as gunicorn's workers and the outbox worker) and several threads each write to
one file at once through ``store.session`` engines: every transaction commits, none meets "database
is locked". The gate is let go when a transaction commits, rolls back or its connection closes, and
when its process dies; a writer that cannot get it within the timeout gets "database is locked",
which the store answers as ``DatabaseUnavailable``, as SQLite's own busy timeout would.
"""

from __future__ import annotations

import multiprocessing
import signal
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from domain.values import HsaId
from store.errors import DatabaseUnavailable
from store.migrate import upgrade
from store.session import make_engine, make_session_factory, transaction
from store.sqlite_gate import LOCK_SUFFIX, WriterGate, gate_for
from store.units import IntegratedUnitRow, register_integrated_unit

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WRITERS, THREADS, ROWS = 3, 4, 25


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade(url)
    yield url


def _write_rows(url: str, prefix: str, threads: int, rows: int) -> None:
    """``threads`` threads each register ``rows`` units, one transaction each (what requests do)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    failures: list[BaseException] = []

    def writer(thread: int) -> None:
        try:
            for row in range(rows):
                with transaction(factory) as session:
                    register_integrated_unit(session, HsaId(f"{prefix}-{thread}-{row}"), HsaId("SE1"), NOW)
        except BaseException as error:  # noqa: BLE001 - reported to the process's exit code below
            failures.append(error)

    pool = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    engine.dispose()
    if failures:
        raise SystemExit(f"{len(failures)} writers failed: {failures[0]!r}")


def _count(url: str) -> int:
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            return int(session.execute(select(func.count()).select_from(IntegratedUnitRow)).scalar_one())
    finally:
        engine.dispose()


def test_processes_and_threads_writing_at_once_all_commit(sqlite_url: str) -> None:
    """Three processes of four threads, 300 transactions at once: every one commits, the lock file is used."""
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_write_rows, args=(sqlite_url, f"p{n}", THREADS, ROWS)) for n in range(WRITERS)]
    for process in processes:
        process.start()
    _write_rows(sqlite_url, "parent", THREADS, ROWS)
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    assert _count(sqlite_url) == (WRITERS + 1) * THREADS * ROWS
    assert Path(sqlite_url.removeprefix("sqlite:///") + LOCK_SUFFIX).exists()


def test_the_gate_is_let_go_on_rollback_and_on_close(sqlite_url: str) -> None:
    """A transaction that fails, or a connection dropped mid-transaction, leaves the gate free at once."""
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    gate = gate_for(sqlite_url.removeprefix("sqlite:///"), 10.0)
    with pytest.raises(ZeroDivisionError), transaction(factory) as session:
        register_integrated_unit(session, HsaId("SE-rolled-back"), HsaId("SE1"), NOW)
        _ = 1 / 0
    assert _free(gate)
    connection = engine.raw_connection()
    connection.driver_connection.begin_immediate()  # type: ignore[union-attr]
    assert not _free(gate)
    connection.invalidate()  # the pool closes it: SQLite rolls back, the gate is let go
    assert _free(gate)
    with transaction(factory) as session:
        assert session.execute(text("SELECT count(*) FROM integrated_unit")).scalar_one() == 0
    engine.dispose()


def _free(gate: WriterGate) -> bool:
    """Whether this process could take ``gate`` right now (taking and leaving it)."""
    saved, gate.timeout_s = gate.timeout_s, 0.05
    try:
        gate.acquire()
    except sqlite3.OperationalError:
        return False
    finally:
        gate.timeout_s = saved
    gate.release()
    return True


def _hold_gate(path: str, holding: multiprocessing.synchronize.Event) -> None:
    gate = gate_for(path, 10.0)
    gate.acquire()
    holding.set()
    signal.pause()  # until killed


def test_a_writer_that_waits_too_long_is_told_the_database_is_locked(sqlite_url: str, tmp_path: Path) -> None:
    """Another process holds the gate: the wait ends at the timeout with DatabaseUnavailable, nothing written.

    When that process dies (SIGKILL, no chance to clean up) the kernel drops its lock, and writing works.
    """
    path = str(tmp_path / "gateway.db")
    context = multiprocessing.get_context("fork")
    holding = context.Event()
    holder = context.Process(target=_hold_gate, args=(path, holding))
    holder.start()
    try:
        assert holding.wait(30)
        gate = gate_for(path, 10.0)
        gate.timeout_s = 0.3
        factory = make_session_factory(make_engine(sqlite_url))
        with pytest.raises(DatabaseUnavailable), transaction(factory) as session:
            register_integrated_unit(session, HsaId("SE-too-late"), HsaId("SE1"), NOW)
    finally:
        holder.kill()
        holder.join(10)
    gate.timeout_s = 10.0
    with transaction(factory) as session:
        register_integrated_unit(session, HsaId("SE-after"), HsaId("SE1"), NOW)
    assert _count(sqlite_url) == 1


def test_a_forked_process_gets_a_gate_of_its_own(tmp_path: Path) -> None:
    """The gate is per process: a child of a process that holds it is not let in by inheritance."""
    path = str(tmp_path / "gateway.db")
    parent_gate = gate_for(path, 10.0)
    parent_gate.acquire()
    try:
        context = multiprocessing.get_context("fork")
        result = context.Queue()

        def child() -> None:
            gate = gate_for(path, 0.2)
            result.put((gate is parent_gate, _free(gate)))

        process = context.Process(target=child)
        process.start()
        own, free = result.get(timeout=30)
        process.join(10)
    finally:
        parent_gate.release()
    assert not own
    assert not free  # the parent's file lock holds the child off


def test_without_a_lock_file_threads_are_still_ordered(tmp_path: Path) -> None:
    """A folder where no lock file can be made: the gate still orders this process's threads."""
    gate = WriterGate(str(tmp_path / "no-such-folder" / "gateway.db"), 0.2)
    gate.acquire()
    try:
        assert not _free(gate)
    finally:
        gate.release()
    assert _free(gate)
