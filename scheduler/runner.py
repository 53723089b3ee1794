"""Scheduled jobs in exactly one elected process, under APScheduler, in UTC.

APScheduler has no notion of several processes: every process that starts a scheduler runs every
job (sharing a job store only makes them run twice). So one process is elected: the one that holds
a PostgreSQL session advisory lock, taken with ``pg_try_advisory_lock`` on a dedicated connection
that the runner keeps open. When that process dies its connection closes, the server frees the
lock, and another process's next try takes it over. The holder checks its connection every
``check_seconds``; if the connection is lost it stops its scheduler at once, since it can no longer
be sure it is the only one. On SQLite there is only one process, which is always the leader.

Jobs are plain functions kept in code (an in-memory job store, nothing pickled); each only enqueues
or triggers work in the database and is idempotent, so a job that runs once more around a leader
change does no harm.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from store.errors import StoreError
from store.leader import LeaderLock

log = structlog.get_logger("scheduler.runner")

@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A job: a name, a function of no arguments, and when (every ``seconds`` or a UTC cron spec)."""

    name: str
    run: Callable[[], Any]
    seconds: float | None = None
    cron: dict[str, Any] = field(default_factory=dict)  # CronTrigger fields, e.g. {"hour": 3, "minute": 10}

    def trigger(self) -> Any:
        if self.seconds is not None:
            return IntervalTrigger(seconds=self.seconds, timezone="UTC")
        return CronTrigger(timezone="UTC", **self.cron)


class SchedulerRunner:
    """Runs ``jobs`` while this process is the elected leader; tries to become it otherwise."""

    def __init__(self, lock: LeaderLock, jobs: Sequence[ScheduledJob], check_seconds: float = 5.0) -> None:
        self._lock = lock
        self._jobs = tuple(jobs)
        self._check_seconds = check_seconds
        self._scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self._scheduler is not None

    def step(self) -> None:
        """One round of the election: become leader, or check that we still are."""
        if self._scheduler is None:
            try:
                acquired = self._lock.try_acquire()
            except StoreError as failure:
                log.warning("scheduler_election_failed", error=type(failure).__name__)
                return
            if acquired:
                self._start_jobs()
        elif not self._lock.still_held():
            log.error("scheduler_leadership_lost")
            self._stop_jobs()

    def _start_jobs(self) -> None:
        scheduler = BackgroundScheduler(timezone="UTC")
        for job in self._jobs:
            scheduler.add_job(job.run, job.trigger(), id=job.name, name=job.name, replace_existing=True,
                              coalesce=True, max_instances=1)
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler_leader", jobs=[job.name for job in self._jobs])

    def _stop_jobs(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)

    def start(self) -> None:
        """Run the election in a daemon thread every ``check_seconds``."""
        self._thread = threading.Thread(target=self._loop, name="scheduler-election", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self._check_seconds)

    def stop(self) -> None:
        """Stop the jobs and give up the lock."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._check_seconds + 5)
        self._stop_jobs()
        self._lock.release()
