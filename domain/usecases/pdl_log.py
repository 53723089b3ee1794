"""The PDL log's chain and its readers: sealing, a search (a patient's extract, a unit's or user's accesses), the check.

Each runs in short transactions of its own; the sealer thread, the operations API, the retention
job and the command line call these.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from domain.pdl import PdlQuery, PdlRecord
from domain.pdl_chain import Verification
from store import pdl

Transaction = Callable[[], AbstractContextManager[Session]]


def search_log(transaction: Transaction, query: PdlQuery) -> list[PdlRecord]:
    """The records matching ``query``, oldest first (see ``store.pdl.search``)."""
    with transaction() as session:
        return pdl.search(session, query)


def seal_all(transaction: Transaction, wait: bool = False, batch: int = pdl.SEAL_BATCH, max_rounds: int = 1000) -> int:
    """Seal committed records in transactions of up to ``batch`` until none is left; return how many.

    Without ``wait`` it gives up its turn when another sealer holds the chain's head (that one
    seals the rest); with ``wait`` it queues behind it, so every record committed before the call
    is sealed when it returns. ``max_rounds`` bounds the loop under a write load faster than sealing.
    """
    sealed = 0
    for _ in range(max_rounds):
        with transaction() as session:
            count = pdl.seal_pending(session, batch, wait=wait)
        sealed += count
        if count < batch:
            break
    return sealed


def verify_log(transaction: Transaction, seal: bool = True) -> Verification:
    """Seal what is pending (unless ``seal`` is off), then walk the chain from the retention anchor to the head."""
    if seal:
        seal_all(transaction, wait=True)
    with transaction() as session:
        return pdl.verify_chain(session)
