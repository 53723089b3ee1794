"""Benchmark: server configurations side by side (workers x threads), CreateDraftCertificate on PostgreSQL and SQLite.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/serving.py [--seconds 15] [--configs 2x4,2x8,3x4,4x2] [--db URL]

Every configuration is ``intygsgateway serve`` with our worker (``cli.http_worker``: the deadlines
against slow clients stay on) and keep-alive on, loaded by the same connections as ``all.py``
(PostgreSQL 2 x 4, SQLite 4 x 4). Each row shows requests/s, p50/p99 and the gateway's CPU per
request; the configurations run one after another on the same database and machine, twice in
alternating order (``--rounds``), so a change of load on a shared machine shows up as a spread
between rounds rather than as a winner. The load average is printed with the table.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import create_draft
from bench._load import (
    LoadResult,
    bench_database,
    cpu_seconds,
    describe_database,
    load_arguments,
    run_load,
    served_gateway,
)
from tests.envelopes import create_draft_envelope


def measure(db: str, workers: int, threads: int, shape: tuple[int, int], warmup: float,
            seconds: float) -> tuple[LoadResult, float | None]:
    """CreateDraftCertificate against one configuration: the load's result and the gateway's CPU ms per request."""
    body = create_draft_envelope()
    with served_gateway(db, workers, threads) as served:
        url = served.url + create_draft.PATH
        run_load(url, body, b">OK<", warmup, *shape)
        before = cpu_seconds(served.pid)
        result = run_load(url, body, b">OK<", seconds, *shape)
        after = cpu_seconds(served.pid)
    if before is None or after is None or not result.requests:
        return result, None
    return result, (after - before) * 1000 / result.requests


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--configs", default="2x4,2x8,3x4,4x2,1x8", help="workers x threads, comma-separated")
    parser.add_argument("--sqlite-processes", type=int, default=4, help="load processes against SQLite")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the configurations, alternating order")
    args = parser.parse_args()
    configs = [tuple(int(n) for n in config.split("x")) for config in args.configs.split(",")]
    started = os.getloadavg()
    rows: list[tuple[str, str, int, LoadResult, float | None]] = []
    with (bench_database(args.db, args.durable) as pg,
          tempfile.TemporaryDirectory(prefix="intygsgateway-bench-") as folder):
        databases = {"PostgreSQL": (pg, (args.processes, args.clients)),
                     "SQLite": (f"sqlite:///{Path(folder) / 'gateway.db'}", (args.sqlite_processes, args.clients))}
        for round_number in range(args.rounds):
            order = configs if round_number % 2 == 0 else configs[::-1]
            for name, (db, shape) in databases.items():
                for workers, threads in order:
                    result, cpu = measure(db, workers, threads, shape, args.warmup, args.seconds)
                    rows.append((name, f"{workers}x{threads}", round_number + 1, result, cpu))
                    print(f"  {name:10} {workers}x{threads} round {round_number + 1}: {result.per_second:.0f} req/s",
                          file=sys.stderr)
    ended = os.getloadavg()
    print(f"CreateDraftCertificate by server configuration, keep-alive on, {args.seconds:.0f} s each; connections: "
          f"PostgreSQL {args.processes}x{args.clients}, SQLite {args.sqlite_processes}x{args.clients}; "
          f"{describe_database(args.db, args.durable)}")
    print(f"load average before {started[0]:.2f} {started[1]:.2f} {started[2]:.2f}, "
          f"after {ended[0]:.2f} {ended[1]:.2f} {ended[2]:.2f}")
    print(f"{'database':12}{'workers x threads':>18}{'round':>7}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'CPU ms':>8}{'errors':>8}")
    for name, config, round_number, result, cpu in sorted(rows, key=lambda row: (row[0], row[1], row[2])):
        shown = f"{cpu:8.2f}" if cpu is not None else f"{'':>8}"
        print(f"{name:12}{config:>18}{round_number:7d}{result.per_second:8.0f}{result.p50_ms:8.1f}{result.p99_ms:8.1f}"
              f"{shown}{result.errors:8d}")


if __name__ == "__main__":
    main()
