"""The PDL sealer: a daemon thread per process that links committed PDL records into the hash chain.

Business transactions insert their PDL records unsealed and without a lock (``store.pdl``), so they
commit side by side; this thread seals them a moment later, about once a ``every_seconds``, in
batches until none is pending (``usecases.pdl_log.seal_all``). Every gateway process and
the worker run one: on PostgreSQL a sealer that finds the chain's head locked by another simply
skips its turn, on SQLite the write lock serialises them, so any number of sealers keep one chain.

With signing configured (``usecases.pdl_log.PdlSigning``) each round then signs a checkpoint when
the head moved and the signing interval passed (``checkpoint_if_due``), so a sealed record is
covered by a signature within about ``every_seconds`` plus the signing interval.

A failed round (the database away, say) is logged and the thread carries on; the records wait and
are sealed by a later round. ``pdl verify`` reports a record that waited longer than
``domain.pdl_chain.SEAL_GRACE``.

The unit of work is passed in as ``transaction`` (a ``store.UnitOfWork``, what ``seal_all`` opens).
"""

from __future__ import annotations

import threading

import structlog

from store import UnitOfWork
from store.errors import DatabaseUnavailable
from usecases.pdl_log import PdlSigning, checkpoint_if_due, seal_all

log = structlog.get_logger("scheduler.pdl_sealer")
STOP_TIMEOUT_S = 10.0


class PdlSealer:
    """Seals pending PDL records every ``every_seconds`` in a daemon thread, from ``start`` until ``stop``."""

    def __init__(
        self,
        transaction: UnitOfWork,
        every_seconds: float,
        signing: PdlSigning | None = None,
    ) -> None:
        if every_seconds <= 0:
            raise ValueError("every_seconds must be positive")
        self._transaction = transaction
        self._every = every_seconds
        self._signing = signing
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (after any fork: threads do not survive one)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pdl-sealer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread, letting a round in progress commit."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
            self._thread = None

    def seal_once(self) -> int:
        """One round: seal until nothing is pending, then sign if due; a failure is logged, never raised."""
        try:
            sealed = seal_all(self._transaction)
            if self._signing is not None:
                checkpoint_if_due(self._transaction, self._signing)
            return sealed
        except DatabaseUnavailable:
            log.warning("pdl_seal_failed", reason="database_unavailable")
        except Exception:  # the thread must live on; the records wait for the next round
            log.exception("pdl_seal_failed")
        return 0

    def _run(self) -> None:
        while not self._stopping.wait(self._every):
            self.seal_once()
