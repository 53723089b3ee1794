"""What the backlog benchmarks share (``resend.py``, ``onward.py``): simulators as processes, worker
processes draining a backlog, bare-call baselines spread over processes and threads, and the CPU
their child processes spent.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, select

from bench._load import stop, wait_until_up
from store.session import make_engine

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def simulator(command: str, port: int) -> Iterator[str]:
    """``intygsgateway <command>`` (``mock-journal``, ``mock-recipient``) on ``port``, keeping no raw
    messages; yields its base URL once it answers."""
    process = subprocess.Popen([sys.executable, "-m", "cli", command, "--port", str(port), "--keep-raw", "0"],
                               cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/_mock/stats")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@contextlib.contextmanager
def watching(
    db: str, moved: ColumnElement[bool], left: ColumnElement[bool]
) -> Iterator[Callable[[], tuple[bool, bool]]]:
    """``progress`` for ``drain``: (``moved``, not ``left``), two conditions made of EXISTS that
    PostgreSQL answers on one connection in autocommit.

    The drain is polled four times a second on the two cores the workers and PostgreSQL share. It
    used to count the outbox's undelivered rows on a new connection each time: pg_stat_statements
    put that count at 16.7 ms per poll at 80,000 rows, about 40 µs of the database's CPU per event
    of a drain of 40,000, taken from what was measured. An EXISTS stops at the first row it finds.
    """
    engine = make_engine(db)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            def progress() -> tuple[bool, bool]:
                return bool(connection.execute(select(moved)).scalar()), not connection.execute(select(left)).scalar()

            yield progress
    finally:
        engine.dispose()


def drain(db: str, workers: int, threads: int, batch: int, progress: Callable[[], tuple[bool, bool]],
          what: str) -> tuple[float, float]:
    """Start ``workers`` ``intygsgateway worker`` processes and poll ``progress()`` — (anything done yet,
    everything done) — until everything is done; return (seconds from the start, seconds from the first
    progress)."""
    env = {**os.environ, "INTYGSGATEWAY_RESEND_THREADS": str(threads), "INTYGSGATEWAY_RESEND_BATCH_SIZE": str(batch),
           "INTYGSGATEWAY_RESEND_JOURNAL_CONCURRENCY": str(threads),  # one simulator per kind serves every call
           "INTYGSGATEWAY_RESEND_POLL_SECONDS": "0.2", "INTYGSGATEWAY_LOG_LEVEL": "warning"}
    started = time.monotonic()
    processes = [subprocess.Popen([sys.executable, "-m", "cli", "worker", "--db", db], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL) for _ in range(workers)]
    first: float | None = None
    try:
        deadline = started + 3600
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in processes):
                raise SystemExit("a worker process stopped; see its error above")
            moved, finished = progress()
            if first is None and moved:
                first = time.monotonic()
            if finished:
                break
            time.sleep(0.25)
        else:
            raise SystemExit(f"{what} did not drain within an hour")
        done = time.monotonic()
    finally:
        for process in processes:
            stop(process)
    assert first is not None
    return done - started, max(done - first, 1e-9)


def shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` counts that differ by at most one."""
    return [total // parts + (1 if n < total % parts else 0) for n in range(parts)]


def in_threads(run: Callable[[int, int], None], total: int, threads: int) -> None:
    """``run(index, count)`` on ``threads`` threads sharing ``total`` calls; returns when all are done."""
    pool = [threading.Thread(target=run, args=(index, count)) for index, count in enumerate(shares(total, threads))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def in_processes(target: Callable[..., None], total: int, workers: int, *args: Any) -> tuple[float, Counter[str]]:
    """``target(*args, count, out)`` in ``workers`` spawned processes sharing ``total`` calls, each putting its
    outcome counts on ``out``; return the seconds they took together and the summed outcomes."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    processes = [context.Process(target=target, args=(*args, count, out)) for count in shares(total, workers)]
    started = time.monotonic()
    for process in processes:
        process.start()
    outcomes: Counter[str] = Counter()
    for _ in processes:
        outcomes.update(out.get(timeout=3600))
    for process in processes:
        process.join()
    return time.monotonic() - started, outcomes


def children_cpu() -> tuple[float, float]:
    """User and system CPU seconds of this process's finished children (workers, baseline processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


def spent(before: tuple[float, float]) -> tuple[float, float]:
    """The children's CPU seconds (user, system) since ``before`` (a ``children_cpu()``)."""
    user, system = children_cpu()
    return user - before[0], system - before[1]


def per_item(cpu: tuple[float, float], items: int) -> str:
    """CPU per item as printed: ``"903 us (126 system)"``."""
    return f"{sum(cpu) / items * 1e6:.0f} us ({cpu[1] / items * 1e6:.0f} system)"
