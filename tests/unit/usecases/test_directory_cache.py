"""The directory cache reuses answers for a while and never remembers a failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.directory import DirectoryUnavailable, Unit
from domain.values import HsaId
from usecases.directory_cache import CachedDirectory

UNIT = Unit(HsaId("SE1-1000"), "Enheten", HsaId("SE1-0001"))


class CountingDirectory:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    def unit(self, hsa_id: HsaId) -> Unit | None:
        self.calls += 1
        if self.fail:
            raise DirectoryUnavailable("down")
        return UNIT if hsa_id == UNIT.hsa_id else None


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_answers_are_reused_within_the_ttl_and_fetched_again_after() -> None:
    """Two lookups within the TTL ask the backend once; after it, again."""
    inner, clock = CountingDirectory(), Clock()
    cache = CachedDirectory(inner, 60, clock)  # type: ignore[arg-type]
    assert cache.unit(HsaId("se1-1000")) == UNIT
    assert cache.unit(HsaId("SE1-1000 ")) == UNIT
    assert inner.calls == 1
    clock.now += timedelta(seconds=61)
    assert cache.unit(HsaId("SE1-1000")) == UNIT
    assert inner.calls == 2


def test_not_found_is_cached_too() -> None:
    """An unknown id is not asked for again within the TTL."""
    inner = CountingDirectory()
    cache = CachedDirectory(inner, 60, Clock())  # type: ignore[arg-type]
    assert cache.unit(HsaId("SE1-9999")) is None and cache.unit(HsaId("SE1-9999")) is None
    assert inner.calls == 1


def test_failures_are_not_cached() -> None:
    """A backend outage is raised every time and the next success is fetched fresh."""
    inner = CountingDirectory()
    cache = CachedDirectory(inner, 60, Clock())  # type: ignore[arg-type]
    inner.fail = True
    with pytest.raises(DirectoryUnavailable):
        cache.unit(HsaId("SE1-1000"))
    inner.fail = False
    assert cache.unit(HsaId("SE1-1000")) == UNIT
    assert inner.calls == 2
