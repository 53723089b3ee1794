"""Worker processes on one PostgreSQL database: nothing sent twice in normal operation, nothing lost
when workers are SIGKILLed mid-send, and the scheduler election moving to a survivor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from simulator.journal import MockJournal
from simulator.server import running
from store.leader import LeaderLock
from store.outbox import OutboxRow, OutboxStatus
from store.session import make_engine, transaction
from tests.integration.outbox_env import add_certificates, publish_route, unit_name

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ONLY = pytest.mark.parametrize(
    "db_backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
WORKER_ENV = {
    "INTYGSGATEWAY_RESEND_POLL_SECONDS": "0.2",
    "INTYGSGATEWAY_RESEND_LEASE_SECONDS": "10",
    "INTYGSGATEWAY_RESEND_CONNECT_TIMEOUT_SECONDS": "1",
    "INTYGSGATEWAY_RESEND_READ_TIMEOUT_SECONDS": "3",
    "INTYGSGATEWAY_RESEND_BATCH_SIZE": "20",
    "INTYGSGATEWAY_LOG_LEVEL": "warning",
}


class Workers:
    """Worker processes started for a test, their stderr in files; all stopped at the end."""

    def __init__(self, logs: Path) -> None:
        self._logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, db_url: str, threads: int = 4) -> subprocess.Popen[bytes]:
        log = self._logs / f"worker-{len(self.processes)}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "cli", "worker", "--db", db_url, "--threads", str(threads)],
                cwd=ROOT, env={**os.environ, **WORKER_ENV}, stdout=subprocess.DEVNULL, stderr=stderr)
        process.args = str(log)  # where to look when it dies
        self.processes.append(process)
        return process

    def running(self) -> list[subprocess.Popen[bytes]]:
        return [process for process in self.processes if process.returncode is None]

    def check_alive(self) -> None:
        for process in self.running():
            if process.poll() is not None:
                raise AssertionError(Path(str(process.args)).read_text(encoding="utf-8", errors="replace"))

    def stop(self) -> None:
        for process in self.running():
            process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    started = Workers(tmp_path)
    yield started
    started.stop()


def seed(factory: sessionmaker[Session], events: int, units: int) -> None:
    per_unit = events // units
    for unit in range(units):
        add_certificates(factory, [f"cert-{unit}-{n}" for n in range(per_unit)], unit=unit_name(unit))


def pending(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        return int(session.scalar(select(func.count()).where(OutboxRow.status != OutboxStatus.DELIVERED)) or 0)


def wait_until_delivered(factory: sessionmaker[Session], workers: Workers, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while pending(factory) and time.monotonic() < deadline:
        workers.check_alive()
        time.sleep(0.3)
    assert pending(factory) == 0


@POSTGRES_ONLY
def test_two_workers_share_the_outbox_without_sending_anything_twice(
        db_url: str, session_factory: sessionmaker[Session], workers: Workers) -> None:
    journal = MockJournal()
    with running(journal) as url:
        publish_route(session_factory, url)
        seed(session_factory, events=600, units=20)
        workers.start(db_url)
        workers.start(db_url)
        wait_until_delivered(session_factory, workers, limit_s=120)
        stats = journal.stats()
    assert stats["distinct_events"] == 600
    assert stats["duplicates"] == 0


@POSTGRES_ONLY
def test_sigkilled_workers_lose_nothing(db_url: str, session_factory: sessionmaker[Session],
                                        workers: Workers) -> None:
    """Kill a worker with SIGKILL every second while sending (the journal takes 20 ms per call);
    every event is delivered in the end; duplicates (sent, but killed before recording) are printed."""
    journal = MockJournal(delay_s=0.02)
    with running(journal) as url:
        publish_route(session_factory, url)
        seed(session_factory, events=1500, units=30)
        workers.start(db_url)
        workers.start(db_url)
        kills = 0
        for _ in range(6):
            time.sleep(1.0)
            victim = workers.running()[0]  # the oldest one
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            workers.start(db_url)
            kills += 1
        assert pending(session_factory) > 0, "the kills came after the work was done: make the load larger"
        wait_until_delivered(session_factory, workers, limit_s=180)
        stats = journal.stats()
    print(f"\nSIGKILL x{kills}: {stats['distinct_events']} events delivered, {stats['duplicates']} duplicates, "
          f"{stats['received']} requests")
    assert stats["distinct_events"] == 1500


HOLD_THE_LOCK = """
import sys, time
from store.leader import LeaderLock
from store.session import make_engine
lock = LeaderLock(make_engine(sys.argv[1]))
assert lock.try_acquire()
print("held", flush=True)
time.sleep(600)
"""


@POSTGRES_ONLY
def test_the_scheduler_lock_moves_to_another_process_when_its_holder_dies(db_url: str) -> None:
    """A process holding the election lock is killed; the lock is free for the next one at once."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, db_url],
        cwd=ROOT, stdout=subprocess.PIPE)
    assert holder.stdout is not None
    engine = make_engine(db_url)
    try:
        assert holder.stdout.readline().strip() == b"held"
        contender = LeaderLock(engine)
        assert contender.try_acquire() is False
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 20
        while not contender.try_acquire() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert contender.held and contender.still_held()
        contender.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(5)
        holder.stdout.close()
        engine.dispose()
