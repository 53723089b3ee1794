"""Benchmark: every contract on PostgreSQL and on SQLite, each beside its parse-and-validate baseline, in one table.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/all.py [--seconds 15] [--workers 2] [--threads 4] [--db URL]

One run serves the gateway (``intygsgateway serve --demo``, N workers x threads, keep-alive on) on
a throw-away PostgreSQL cluster (or ``--db``) and then on a new SQLite file, and drives each
contract with the bounded load loop of ``_load``:

* CreateDraftCertificate: the same demo request, a new draft each time;
* SendMessageToCare: a new KOMPLT question (fresh meddelande-id) about one of ``--certificates``
  signed certificates in turn, as ``send_message.py`` does;
* StoreLog: calls of 100 entries with fresh logIds, counted in entries/s.

Both databases keep what they acknowledge: the throw-away PostgreSQL cluster flushes every commit
to disk (``_load.DURABLE``, PostgreSQL's own defaults) as SQLite in WAL mode syncs each commit;
``--unsafe-postgres`` turns that off on PostgreSQL, as the tests run it and as this table was
measured before stop 33.

PostgreSQL is loaded by ``--processes`` x ``--clients`` connections (2 x 4), SQLite by
``--sqlite-processes`` x ``--clients`` (4 x 4: the 16 connections of the embedded store's target).
Each baseline (``bench/baseline_app.py``, parse and validate only, under gunicorn with the same
workers and threads) runs with the same connections and messages as the row it is compared with.

Besides throughput and latency, each row shows the CPU per request of the gateway (all its
processes, from /proc) and, on the throw-away PostgreSQL, of the database: on a machine shared with
other work those figures move much less than requests/s, and on a machine of its own their sum
(with the load generator's) is what the cores divide among requests. The load average before and
after the run is printed with the table; the targets are those of issue 16.

Below the table, the PDL records of each row: how many were stored, how many the sealers linked into
the chain during the row, and how many wait for their seal at its end. Sealing runs in the gateway's
processes a moment after the records commit; when it falls behind (StoreLog's intake outruns it on
two cores), the backlog is sealed after the row and its cost is not in the row's figures, so the
sealing rate is the StoreLog figure that can be sustained.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import create_draft, send_message, store_log
from bench._load import (
    CHOICE,
    UNIQUE,
    LoadResult,
    Sealing,
    baseline_server,
    bench_database,
    cpu_seconds,
    describe_database,
    load_arguments,
    pdl_counts,
    postgres_pid,
    run_load,
    sealing_report,
    sealing_since,
    served_gateway,
)
from tests.envelopes import create_draft_envelope

STORELOG_BATCH = 100


@dataclass(frozen=True)
class Contract:
    """One front door: how to load it, what a request counts as, and the issue's target."""

    name: str
    path: str
    wsdl: Path
    unit: str  # what the figure counts
    per_request: int  # units per request (StoreLog: entries per call)
    targets: dict[str, tuple[float, float | None]]  # database -> (figure at least, p99 ms below or None)


CONTRACTS = (
    Contract("CreateDraftCertificate", create_draft.PATH, create_draft.WSDL, "req/s", 1,
             {"PostgreSQL": (1000, 50), "SQLite": (500, 150)}),
    Contract("SendMessageToCare", send_message.PATH, send_message.WSDL, "msg/s", 1, {"PostgreSQL": (1000, None)}),
    Contract(f"StoreLog x{STORELOG_BATCH}", store_log.PATH, store_log.WSDL, "entries/s", STORELOG_BATCH,
             {"PostgreSQL": (10000, None)}),
)


@dataclass(frozen=True)
class Row:
    contract: Contract
    database: str
    measured: LoadResult
    cpu: Cpu
    baseline: LoadResult

    def figure(self, result: LoadResult) -> float:
        return result.per_second * self.contract.per_request

    def target(self) -> str:
        wanted = self.contract.targets.get(self.database)
        if wanted is None:
            return ""
        figure, p99 = wanted
        met = self.figure(self.measured) >= figure and (p99 is None or self.measured.p99_ms < p99)
        return f"{'met' if met else 'missed'}: >= {figure:,.0f}" + (f", p99 < {p99:.0f} ms" if p99 else "")


@dataclass(frozen=True)
class Load:
    """How one contract is driven: its body, the marker of an answer that counts, and the body's tokens."""

    body: bytes
    unique: bool = False
    choices: tuple[bytes, ...] = ()

    def run(self, url: str, marker: bytes, seconds: float, processes: int, clients: int) -> LoadResult:
        return run_load(url, self.body, marker, seconds, processes, clients, unique=self.unique, choices=self.choices)

    def probe(self) -> bytes:
        """One concrete request, for the baseline server's readiness check."""
        body = self.body.replace(UNIQUE, b"probe")
        return body.replace(CHOICE, self.choices[0]) if self.choices else body


def loads(db: str, certificates: int) -> dict[str, Load]:
    """Each contract's load on ``db`` (SendMessageToCare's certificates are stored there first)."""
    return {
        CONTRACTS[0].name: Load(create_draft_envelope()),
        CONTRACTS[1].name: Load(send_message.message(), unique=True,
                                choices=send_message.store_certificates(db, certificates)),
        CONTRACTS[2].name: Load(store_log.batch(STORELOG_BATCH), unique=True),
    }


@dataclass(frozen=True)
class Cpu:
    """CPU ms per request of the gateway's processes and, for a local PostgreSQL, of the database's."""

    gateway: float | None
    database: float | None


Measured = dict[tuple[str, str], tuple[LoadResult, Cpu, Load, Sealing]]


def _ms_per_request(pid: int | None, before: float | None, requests: int) -> float | None:
    after = cpu_seconds(pid) if pid is not None else None
    if before is None or after is None or not requests:
        return None
    return (after - before) * 1000 / requests


def measure_gateway(db: str, database: str, shape: tuple[int, int], args: argparse.Namespace,
                    results: Measured) -> None:
    """Serve the gateway on ``db`` and load each contract in turn; CPU per request beside each."""
    database_pid = postgres_pid(db) if db.startswith("postgresql") else None
    with served_gateway(db, args.workers, args.threads) as served:
        for contract, load in loads(db, args.certificates).items():
            url = served.url + next(c.path for c in CONTRACTS if c.name == contract)
            load.run(url, b">OK<", args.warmup, *shape)
            records_before = pdl_counts(db)
            gateway_before = cpu_seconds(served.pid)
            database_before = cpu_seconds(database_pid) if database_pid is not None else None
            measured = load.run(url, b">OK<", args.seconds, *shape)
            cpu = Cpu(_ms_per_request(served.pid, gateway_before, measured.requests),
                      _ms_per_request(database_pid, database_before, measured.requests))
            sealing = sealing_since(db, records_before, args.seconds)
            results[(contract, database)] = (measured, cpu, load, sealing)
            print(f"  {database:10} {contract:24} {measured.per_second:8.0f} requests/s", file=sys.stderr)


def measure_baseline(contract: Contract, load: Load, shape: tuple[int, int], args: argparse.Namespace) -> LoadResult:
    """The baseline of ``contract`` under the same connections and messages as its row."""
    with baseline_server(contract.wsdl, "<r>OK</r>", args.workers, args.threads, load.probe()) as url:
        load.run(url, b"OK", args.warmup, *shape)
        return load.run(url, b"OK", args.seconds, *shape)


def table(rows: list[Row]) -> str:
    header = (f"{'contract':24}{'database':12}{'figure':>10} {'unit':10}{'p50 ms':>8}{'p99 ms':>8}{'CPU ms':>8}"
              f"{'DB CPU':>8}{'baseline':>10}{'ratio':>7}  target (issue 16)")
    lines = [header, "-" * len(header)]
    for row in rows:
        cpu = "".join(f"{value:8.2f}" if value is not None else f"{'':>8}"
                      for value in (row.cpu.gateway, row.cpu.database))
        errors = f"  ({row.measured.errors} errors)" if row.measured.errors else ""
        ratio = row.figure(row.measured) / row.figure(row.baseline) if row.baseline.per_second else float("nan")
        lines.append(
            f"{row.contract.name:24}{row.database:12}{row.figure(row.measured):10,.0f} {row.contract.unit:10}"
            f"{row.measured.p50_ms:8.1f}{row.measured.p99_ms:8.1f}{cpu}{row.figure(row.baseline):10,.0f}"
            f"{ratio:7.2f}  {row.target()}{errors}"
        )
    return "\n".join(lines)


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="intygsgateway-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'gateway.db'}"


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--sqlite-processes", type=int, default=4, help="load processes against SQLite")
    parser.add_argument("--certificates", type=int, default=500, help="certificates SendMessageToCare is spread over")
    args = parser.parse_args()
    shapes = {"PostgreSQL": (args.processes, args.clients), "SQLite": (args.sqlite_processes, args.clients)}
    started = os.getloadavg()
    results: Measured = {}
    databases: list[tuple[str, Callable[[], contextlib.AbstractContextManager[str]]]] = [
        ("PostgreSQL", lambda: bench_database(args.db, args.durable)), ("SQLite", sqlite_database)
    ]
    for database, opened in databases:
        with opened() as db:
            measure_gateway(db, database, shapes[database], args, results)
    rows = []
    sealings: list[tuple[str, Sealing]] = []
    for database, _ in databases:
        for contract in CONTRACTS:
            measured, cpu, load, sealing = results[(contract.name, database)]
            baseline = measure_baseline(contract, load, shapes[database], args)
            rows.append(Row(contract, database, measured, cpu, baseline))
            sealings.append((f"{database:12}{contract.name}", sealing))
    ended = os.getloadavg()
    connections = ", ".join(f"{name} {processes}x{clients}" for name, (processes, clients) in shapes.items())
    print(f"All contracts, {args.workers} workers x {args.threads} threads, keep-alive on, {args.seconds:.0f} s each; "
          f"connections: {connections}")
    print(f"PostgreSQL: {describe_database(args.db, args.durable)}; SQLite: a new file (WAL, each commit synced)")
    print(f"load average before {started[0]:.2f} {started[1]:.2f} {started[2]:.2f}, "
          f"after {ended[0]:.2f} {ended[1]:.2f} {ended[2]:.2f} (figures from a loaded machine are low and noisy)")
    print(table(rows))
    print(sealing_report(sealings))


if __name__ == "__main__":
    main()
