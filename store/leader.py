"""The scheduler election: a PostgreSQL session advisory lock held on a connection of its own.

Whoever holds the lock runs the scheduled jobs (``scheduler.runner``). The lock belongs to the
database session, so it lives exactly as long as the connection: a process that dies (even by
SIGKILL) loses its connection and the server frees the lock for the next process that tries. On
SQLite there is only one process, which is always the holder.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from store.session import translate_errors

#: The advisory lock key of the scheduler election (a number the gateway uses for nothing else).
LEADER_LOCK_KEY = 0x1A75C4ED


class LeaderLock:
    """The election: a session advisory lock on a connection of its own (PostgreSQL), or always (SQLite)."""

    def __init__(self, engine: Engine, key: int = LEADER_LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: Connection | None = None
        self._pid: int | None = None  # the server process holding the lock (PostgreSQL)
        self._single = engine.dialect.name != "postgresql"  # SQLite: one process, always the leader
        self._single_held = False

    @property
    def held(self) -> bool:
        return self._single_held or self._connection is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it (now or already)."""
        if self._single:
            self._single_held = True
            return True
        if self._connection is not None:
            return True
        with translate_errors():
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            with translate_errors():
                got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar())
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        self._pid = self._backend_pid()
        return True

    def still_held(self) -> bool:
        """Whether the lock's session is alive, so that the server still holds the lock for us.

        SQLAlchemy silently reconnects an invalidated connection on its next use, and a new session
        holds no lock: so the check compares the server process id with the one that took the lock.
        """
        if self._single:
            return self._single_held
        if self._connection is None:
            return False
        try:
            if self._connection.invalidated or self._backend_pid() != self._pid:
                self._drop()
                return False
        except SQLAlchemyError:  # any failure on the lock's own connection means the lock may be gone
            self._drop()
            return False
        return True

    def _backend_pid(self) -> int:
        assert self._connection is not None
        return int(self._connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def release(self) -> None:
        """Give the lock up at once, so that another process can take over on its next try.

        The lock is unlocked explicitly before the session is closed: closing alone frees it only
        when the server process has noticed the closed connection, a moment later.
        """
        self._single_held = False
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            except SQLAlchemyError:
                pass  # the session is gone already, and its lock with it
        self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()  # never back to the pool: the session (and its lock) must end
            finally:
                connection.close()
