"""The locking job: drafts not signed within ``LOCK_AGE`` (14 days, UTC) of their creation become LOCKED.

A locked draft may only be revoked or copied (``domain.lifecycle``). The job is one conditional
``UPDATE`` (``store.certificates.lock_stale_drafts``) in one transaction, so it is idempotent (a
locked draft no longer matches) and safe when several instances run it at once: on PostgreSQL the
second run waits for the rows the first one changed and then finds them no longer matching, so
each draft is locked and reported exactly once. No status-update event exists for locking
(KV_HANDELSE has no code for it), so the job writes none.

Running every ``LOCK_EVERY_SECONDS`` leaves a draft unlocked for at most that long after its
deadline; the certificate operations apply the same rule on use (``lifecycle.lock_if_stale``), so a
draft past its deadline can never be signed in that window.

The unit of work is passed in as ``transaction`` (a ``store.session`` session factory's), typed
loosely so that this package needs no SQLAlchemy import of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import structlog

from domain.lifecycle import LOCK_AGE, lock_cutoff
from store import certificates

LOCK_EVERY_SECONDS = 600.0
lock_age = LOCK_AGE  # how old an unsigned draft may get (re-exported for the job table's readers)


def lock_stale_drafts(
    transaction: Callable[[], AbstractContextManager[Any]], clock: Callable[[], datetime]
) -> list[str]:
    """Lock every DRAFT/READY certificate created more than ``LOCK_AGE`` before ``clock()``; return their ids."""
    now = clock()
    with transaction() as session:
        locked = certificates.lock_stale_drafts(session, lock_cutoff(now), now)
    # A fresh logger per run: a module-level one would keep the output stream of whoever configured
    # logging first.
    structlog.get_logger("scheduler.locking").info(
        "drafts_locked", count=len(locked), cutoff=lock_cutoff(now).isoformat()
    )
    return locked
