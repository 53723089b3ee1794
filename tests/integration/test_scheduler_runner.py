"""Scheduled jobs run in exactly one elected process; leadership moves when the leader is gone."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, text

from scheduler.runner import ScheduledJob, SchedulerRunner
from store.leader import LeaderLock
from store.session import make_engine


def counting_job(name: str, ran: threading.Event) -> ScheduledJob:
    return ScheduledJob(name, ran.set, seconds=0.1)


def test_one_runner_leads_and_the_other_takes_over_when_it_stops(engine: Engine, db_url: str) -> None:
    """On PostgreSQL the second runner waits while the first holds the lock; on SQLite (one process
    by design) every runner leads."""
    first_ran, second_ran = threading.Event(), threading.Event()
    other_engine = make_engine(db_url)
    first = SchedulerRunner(LeaderLock(engine), [counting_job("first", first_ran)])
    second = SchedulerRunner(LeaderLock(other_engine), [counting_job("second", second_ran)])
    try:
        first.step()
        assert first.leading and first_ran.wait(5)
        second.step()
        if engine.dialect.name == "sqlite":
            assert second.leading
            return
        assert not second.leading
        first.stop()  # the leader goes away: its session and lock end
        second.step()
        assert second.leading and second_ran.wait(5)
        first_ran.clear()
        assert not first_ran.wait(0.5)  # the old leader runs nothing any more
    finally:
        first.stop()
        second.stop()
        other_engine.dispose()


@pytest.mark.parametrize("db_backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_leader_that_loses_its_connection_stops_its_jobs(engine: Engine) -> None:
    """The server ends the leader's session (as on a restart or a network cut): the leader notices
    on its next check and stops its jobs, even though SQLAlchemy would quietly reconnect."""
    ran = threading.Event()
    runner = SchedulerRunner(LeaderLock(engine), [counting_job("job", ran)])
    try:
        runner.step()
        assert runner.leading
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks "
                               "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"))
            other.commit()
        runner.step()
        assert not runner.leading
    finally:
        runner.stop()
