"""A time-bounded cache in front of any ``Directory``.

Journal systems create drafts for the same units, users and patients over and over, and every draft
needs several directory answers (the user, the unit and its ancestors, the patient, the care giver).
Asking the backend each time costs a round trip per answer, whether the backend is the embedded
database or the national HSA and PU services. Answers, including "not found", are kept for
``ttl_seconds``; a directory change is therefore seen within that time. Failures are never cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

from domain.directory import CareGiver, Directory, Person, Personnel, Unit
from domain.values import HsaId, PersonId

T = TypeVar("T")


class CachedDirectory:
    """A ``Directory`` that remembers the answers of another one for a while."""

    def __init__(
        self, inner: Directory, ttl_seconds: float, clock: Callable[[], datetime], max_entries: int = 100_000
    ) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: Hashable, fetch: Callable[[], T]) -> T:
        now = self._clock().timestamp()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]  # type: ignore[return-value]
        value = fetch()  # outside the lock: a slow backend must not serialise other threads
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()  # crude but bounded; the working set refills in one TTL
            self._entries[key] = (now + self._ttl, value)
        return value

    def personnel(self, hsa_id: HsaId) -> Personnel | None:
        return self._cached(("personnel", hsa_id.key), lambda: self._inner.personnel(hsa_id))

    def unit(self, hsa_id: HsaId) -> Unit | None:
        return self._cached(("unit", hsa_id.key), lambda: self._inner.unit(hsa_id))

    def care_giver(self, hsa_id: HsaId) -> CareGiver | None:
        return self._cached(("care_giver", hsa_id.key), lambda: self._inner.care_giver(hsa_id))

    def person(self, person_id: PersonId) -> Person | None:
        return self._cached(("person", person_id.digits), lambda: self._inner.person(person_id))
