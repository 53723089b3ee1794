"""One writer at a time on a SQLite file: a queue in each process, a short file lock between processes.

SQLite lets one transaction write at a time (``BEGIN IMMEDIATE`` takes the write lock up front, see
``store.session``). A transaction that finds the lock taken is left to SQLite's busy handler, which
sleeps and retries with growing pauses (1, 2, 5, 10, ... up to 100 ms per try): it never learns that
the lock was freed, and the pause in progress runs out first. With two gateway workers, the outbox
worker and the PDL sealers writing to one file, a request waited up to a second that way for a lock
held a few milliseconds (a p99 of 958 ms at 16 connections, issue 16).

``WriterGate`` puts an order on that queue before SQLite sees it:

* inside a process, writers wait on a ``threading.Lock``, which wakes the next waiter the moment
  it is released;
* between processes (gateway workers, the outbox worker, commands), the holder also takes an
  exclusive ``flock`` on a lock file beside the database (``<file>-writer.lock``); a process that
  finds it taken tries again every few hundred microseconds, so it follows within a fraction of a
  millisecond instead of a busy-handler pause. The kernel drops the lock of a process that dies.

Both waits end at the busy timeout with ``sqlite3.OperationalError("database is locked")``, as
SQLite's own wait would (the store turns it into ``DatabaseUnavailable``). SQLite's locking stays
in charge of correctness: the gate only orders who asks, and a tool that does not use it (the
``sqlite3`` shell) still meets the busy timeout.

The gate is taken just before ``BEGIN IMMEDIATE`` and released when the connection commits, rolls
back or closes (``GatedConnection``), so it is held exactly as long as SQLite's write lock.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time

LOCK_SUFFIX = "-writer.lock"
_POLL_FIRST_S = 0.0002
_POLL_MAX_S = 0.002


class WriterGate:
    """The writer queue of one SQLite file in this process (module doc)."""

    def __init__(self, database: str, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._threads = threading.Lock()
        self._fd = _open_lock_file(database + LOCK_SUFFIX)

    def acquire(self) -> None:
        """Wait for this process's turn, then for the file's; raise "database is locked" at the timeout."""
        deadline = time.monotonic() + self.timeout_s
        if not self._threads.acquire(timeout=self.timeout_s):
            raise sqlite3.OperationalError("database is locked")
        try:
            self._lock_file(deadline)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        """Let the next writer in (this process's first, then any process's)."""
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _lock_file(self, deadline: float) -> None:
        if self._fd is None:
            return
        pause = _POLL_FIRST_S
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() + pause > deadline:
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, _POLL_MAX_S)


def _open_lock_file(path: str) -> int | None:
    """The lock file's descriptor (created if missing); None when it cannot be opened or made.

    Read access is enough for ``flock``, so a file created by another user still serves. Without
    one (a read-only folder), processes are ordered by SQLite's busy handler alone, as before.
    """
    try:
        return os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return None


_GATES: dict[tuple[int, str], WriterGate] = {}
_GATES_LOCK = threading.Lock()


def _after_fork() -> None:
    # A thread of the parent may have held the lock at the fork; the child's copy would stay locked.
    global _GATES_LOCK
    _GATES_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def gate_for(database: str, timeout_s: float) -> WriterGate:
    """This process's gate for the SQLite file ``database``, shared by every engine on that file.

    Keyed by process id as well: a gate inherited across ``fork`` (gunicorn forks its workers) would
    share its lock-file description, and so its lock, with the parent.
    """
    key = (os.getpid(), os.path.realpath(database))
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            gate = _GATES[key] = WriterGate(key[1], timeout_s)
        return gate


class GatedConnection(sqlite3.Connection):
    """A pysqlite connection that takes its file's ``WriterGate`` before ``BEGIN IMMEDIATE`` and lets go of
    it when the transaction ends.

    ``store.session`` calls ``begin_immediate`` instead of running ``BEGIN IMMEDIATE`` itself;
    SQLAlchemy ends transactions through ``commit`` and ``rollback``, and a connection discarded
    mid-transaction through ``close``. ``connection_class`` makes a subclass that names the file.
    """

    database = ""
    timeout_s = 0.0
    _held: WriterGate | None = None
    _gate: tuple[int, WriterGate] | None = None  # (process id, its gate), looked up once per connection

    def begin_immediate(self) -> None:
        """Take the gate, then SQLite's write lock."""
        if self._held is None:
            gate = self._own_gate()
            gate.acquire()
            self._held = gate
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._let_go(ended=True)
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._let_go(ended=self._ended())

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._let_go(ended=self._ended())

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._let_go(ended=True)  # SQLite rolls an open transaction back when its connection closes

    def _own_gate(self) -> WriterGate:
        pid = os.getpid()
        if self._gate is None or self._gate[0] != pid:
            self._gate = (pid, gate_for(self.database, self.timeout_s))
        return self._gate[1]

    def _ended(self) -> bool:
        try:
            return not self.in_transaction
        except sqlite3.ProgrammingError:  # closed: nothing is held any more
            return True

    def _let_go(self, ended: bool) -> None:
        # A COMMIT that failed leaves the transaction open, and SQLite's lock held: the gate is let go
        # with the rollback that follows.
        held = self._held
        if held is not None and ended:
            self._held = None
            held.release()


def connection_class(database: str, timeout_s: float) -> type[GatedConnection]:
    """The connection class (``sqlite3.connect(factory=...)``) of gated connections to the file ``database``."""
    return type("GatedConnection", (GatedConnection,), {"database": database, "timeout_s": timeout_s})
