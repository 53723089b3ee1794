"""The locking job locks drafts past their lock period once, in UTC, even with two instances running it at once.

The period is the draft_lock_days setting (14 by default; 0 never locks), or a type's own."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain.certificate_types import load_default_registry
from domain.values import CertificateStatus
from scheduler.locking import lock_stale_drafts
from store.certificates import add_certificate, get_certificate
from store.session import UnitOfWork, transaction
from tests.builders import make_operable_draft

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
lock_age = timedelta(days=14)  # the default draft_lock_days


def _store(session_factory: sessionmaker[Session], ages: dict[str, timedelta], type_code: str = "LISJP") -> None:
    with transaction(session_factory) as session:
        for certificate_id, age in ages.items():
            add_certificate(session, make_operable_draft(certificate_id, NOW - age, type_code=type_code))


def test_a_lock_period_of_zero_locks_nothing(session_factory: sessionmaker[Session]) -> None:
    """draft_lock_days = 0 and no type with its own period: even a year-old draft stays a draft."""
    _store(session_factory, {"ancient": timedelta(days=365)})
    assert lock_stale_drafts(UnitOfWork(session_factory), lambda: NOW, load_default_registry(), 0) == []
    with transaction(session_factory) as session:
        ancient = get_certificate(session, "ancient")
    assert ancient is not None and ancient.status is CertificateStatus.DRAFT


def test_a_types_own_lock_period_wins_over_the_setting(session_factory: sessionmaker[Session]) -> None:
    """IGRAV locks after 30 days and DB never, while LISJP keeps the setting's 14: each by its own clock."""
    types = [replace(t, draft_lock_days={"IGRAV": 30, "DB": 0}.get(t.code)) for t in load_default_registry()]
    _store(session_factory, {"lisjp-20": timedelta(days=20), "lisjp-10": timedelta(days=10)})
    _store(session_factory, {"igrav-20": timedelta(days=20), "igrav-31": timedelta(days=31)}, "IGRAV")
    _store(session_factory, {"db-400": timedelta(days=400)}, "DB")
    assert lock_stale_drafts(UnitOfWork(session_factory), lambda: NOW, types, 14) == ["igrav-31", "lisjp-20"]


def test_job_locks_drafts_older_than_fourteen_days_once(session_factory: sessionmaker[Session]) -> None:
    """Past the age: locked and reported; younger: left; a second run: nothing."""
    _store(session_factory, {"old": lock_age + timedelta(minutes=1), "young": lock_age - timedelta(minutes=1)})
    run = partial(lock_stale_drafts, UnitOfWork(session_factory))
    assert run(lambda: NOW) == ["old"]
    assert run(lambda: NOW) == []
    with transaction(session_factory) as session:
        old, young = get_certificate(session, "old"), get_certificate(session, "young")
    assert old is not None and (old.status, old.locked_at) == (CertificateStatus.LOCKED, NOW)
    assert young is not None and young.status is CertificateStatus.DRAFT


def test_job_compares_in_utc_whatever_the_clock_zone(session_factory: sessionmaker[Session]) -> None:
    """A clock in Stockholm time gives the same instant, so the same drafts lock."""
    _store(session_factory, {"edge": lock_age + timedelta(seconds=30)})
    stockholm = NOW.astimezone(ZoneInfo("Europe/Stockholm"))
    assert lock_stale_drafts(UnitOfWork(session_factory), lambda: stockholm) == ["edge"]


@pytest.mark.postgres
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_two_concurrent_runs_lock_each_draft_once(session_factory: sessionmaker[Session]) -> None:
    """Two instances at the same moment on PostgreSQL report disjoint sets that cover every draft."""
    expected = {f"old-{number:02d}" for number in range(40)}
    _store(session_factory, {certificate_id: lock_age + timedelta(hours=1) for certificate_id in expected})
    start = threading.Barrier(2, timeout=30)
    results: list[list[str]] = []

    def clock() -> datetime:
        start.wait()  # both runs start their UPDATE at the same moment
        return NOW

    def run() -> None:
        results.append(lock_stale_drafts(UnitOfWork(session_factory), clock))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    first, second = (set(ids) for ids in results)
    assert not first & second
    assert first | second == expected
    with transaction(session_factory) as session:
        versions = {get_certificate(session, i).version for i in expected}  # type: ignore[union-attr]
    assert versions == {2}


def test_worker_schedules_the_job_on_its_database(session_factory: sessionmaker[Session]) -> None:
    """The elected worker's job table has the locking job, and running it locks on that database."""
    from cli.settings import Settings
    from cli.worker import scheduled_jobs

    (job,) = [job for job in scheduled_jobs(Settings(), UnitOfWork(session_factory)) if job.name == "lock_stale_drafts"]
    _store(session_factory, {"ancient": timedelta(days=400)})
    assert (job.run(), job.seconds) == (["ancient"], 600.0)
