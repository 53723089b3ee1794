"""The locking job: drafts not signed within their lock period of their creation become LOCKED.

The lock period is ``draft_lock_days`` (14 by default; 0: drafts never lock), or a certificate type's
own ``draft_lock_days`` in the registry (``domain.lifecycle.lock_rules`` turns them into one sweep per
period). A locked draft may only be revoked or copied (``domain.lifecycle``). Each sweep is one
conditional ``UPDATE`` (``store.certificates.lock_stale_drafts``), all in one transaction, so the job
is idempotent (a locked draft no longer matches) and safe when several instances run it at once: on
PostgreSQL the second run waits for the rows the first one changed and then finds them no longer
matching, so each draft is locked and reported exactly once. No status-update event exists for
locking (KV_HANDELSE has no code for it), so the job writes none.

Running every ``LOCK_EVERY_SECONDS`` leaves a draft unlocked for at most that long after its
deadline; the certificate operations apply the same rule on use (``lifecycle.lock_if_stale``), so a
draft past its deadline can never be signed in that window. The registry is read at every run, so a
changed per-type period applies from the next run.

The unit of work is passed in as ``transaction`` (a ``store.session`` session factory's), typed
loosely so that this package needs no SQLAlchemy import of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import structlog

from domain.certificate_types import CertificateType
from domain.lifecycle import DEFAULT_LOCK_DAYS, lock_rules
from store import certificates

LOCK_EVERY_SECONDS = 600.0


def lock_stale_drafts(
    transaction: Callable[[], AbstractContextManager[Any]],
    clock: Callable[[], datetime],
    types: Iterable[CertificateType] = (),
    default_days: int = DEFAULT_LOCK_DAYS,
) -> list[str]:
    """Lock every DRAFT/READY certificate past its lock period at ``clock()``; return their ids, sorted.

    ``types`` are the registry's (for their own periods), ``default_days`` the ``draft_lock_days`` setting.
    """
    now = clock()
    rules = lock_rules(types, default_days, now)
    locked: list[str] = []
    with transaction() as session:
        for rule in rules:
            locked += certificates.lock_stale_drafts(
                session, rule.created_before, now, type_codes=rule.type_codes, except_codes=rule.except_codes
            )
    # A fresh logger per run: a module-level one would keep the output stream of whoever configured
    # logging first.
    structlog.get_logger("scheduler.locking").info(
        "drafts_locked", count=len(locked), default_days=default_days,
        cutoffs=[rule.created_before.isoformat() for rule in rules],
    )
    return sorted(locked)
