"""Benchmark: what a /metrics scrape costs the database, on an outbox with a long history.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/metrics_scrape.py [--events 200000] [--open 2000] [--units 500] [--rounds 30] [--db URL]

Without ``--db`` a throw-away PostgreSQL cluster is started. ``--events`` outbox events are loaded,
all delivered but ``--open`` (half pending, half failed) over ``--units`` units, plus as many sealed
PDL records and a few unsealed ones; then ANALYZE. Measured, median and p95 over ``--rounds``:

* the scrape's one aggregate query (``store.metrics.operations_figures``, the worst 10 units), not cached;
* baseline, same run, same data: ``outbox status`` (``store.outbox.outbox_summary``), the overview an
  operator would otherwise poll, which reads the open events in four queries;
* the history's size made visible: ``count(*)`` over every outbox event, what a scrape would cost if
  it counted from the history instead of the open rows.

A scrape's figure should stay flat as ``--events`` grows (it reads open rows only); the count does not.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text

from bench._load import bench_database
from domain.values import EventCode
from store.metrics import operations_figures
from store.migrate import upgrade
from store.outbox import OutboxRow, OutboxStatus, outbox_summary
from store.session import make_engine, make_session_factory, transaction


def seed(db: str, events: int, open_events: int, units: int) -> None:
    """``events`` outbox rows in batches, the first ``open_events`` open (half pending, half failed)."""
    engine = make_engine(db)
    factory = make_session_factory(engine)
    start = datetime.now(UTC) - timedelta(days=30)
    batch = 5000
    for first in range(0, events, batch):
        rows = []
        for n in range(first, min(events, first + batch)):
            status = OutboxStatus.DELIVERED
            if n < open_events:
                status = OutboxStatus.PENDING if n % 2 == 0 else OutboxStatus.FAILED
            at = start + timedelta(seconds=n)
            rows.append({
                "certificate_id": f"bench-{n}", "event_code": EventCode.SKAPAT, "occurred_at": at,
                "unit_hsa_id": f"SE2321000016-U{n % units:04d}", "care_giver_hsa_id": "SE2321000016-0001",
                "correlation_id": f"c{n}", "acting_user_hsa_id": None, "payload": {}, "payload_version": 1,
                "status": status, "next_attempt_at": at, "series_started_at": at,
                "last_outcome": None if status is OutboxStatus.PENDING else "ok",
            })
        with transaction(factory) as session:
            session.execute(insert(OutboxRow), rows)
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()


def timed(run: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median and p95 in milliseconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--open", type=int, default=2_000)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--db", help="PostgreSQL URL (default: a throw-away cluster)")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(bench_database(args.db))
        upgrade(db)
        loading = time.monotonic()
        seed(db, args.events, args.open, args.units)
        print(f"loaded {args.events} events ({args.open} open) in {time.monotonic() - loading:.0f} s", flush=True)
        engine = make_engine(db)
        factory = make_session_factory(engine)

        def scrape() -> object:
            with transaction(factory) as session:
                return operations_figures(session, 10)

        def overview() -> object:
            with transaction(factory) as session:
                return outbox_summary(session)

        def history() -> object:
            with transaction(factory) as session:
                return session.scalar(select(func.count()).select_from(OutboxRow))

        results = {name: timed(run, args.rounds) for name, run in
                   (("scrape aggregate (1 query)", scrape), ("baseline: outbox status", overview),
                    ("count(*) over the history", history))}
        engine.dispose()
    print(f"metrics scrape, {args.events} events ({args.open} open), {args.units} units, PostgreSQL")
    print(f"{'':30}{'median ms':>10}{'p95 ms':>10}")
    for name, (median, p95) in results.items():
        print(f"{name:30}{median:10.2f}{p95:10.2f}")
    scrape_ms, overview_ms = results["scrape aggregate (1 query)"][0], results["baseline: outbox status"][0]
    print(f"scrape / baseline: {scrape_ms / overview_ms:.2f}")


if __name__ == "__main__":
    main()
