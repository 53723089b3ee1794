"""Benchmark: StoreLog entries ingested over HTTP against PostgreSQL, batches of 10 and 100, beside a baseline.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/store_log.py [--seconds 15] [--workers 2] [--threads 4] [--db URL]

Without ``--db`` a throw-away PostgreSQL cluster is started. The gateway runs as ``intygsgateway
serve --demo``; every request carries fresh logIds (``_load.UNIQUE``), so each entry is checked and
inserted, never answered as a resend, and sealed into the chain a moment later by the gateway's
sealers: each batch size's PDL records stored, sealed during its run and waiting at its end are
printed with it (``_load.Sealing``; the sealing rate, not the intake, is what can be sustained).
The baseline (``bench/baseline_app.py``) parses and validates the same batches under gunicorn with
the same workers and threads and answers a fixed OK. Figures are requests/s and entries/s (requests
× batch size), and the ratio.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._load import (
    UNIQUE,
    LoadResult,
    Sealing,
    baseline_server,
    bench_database,
    describe_database,
    gateway_server,
    load_arguments,
    pdl_counts,
    report,
    run_load,
    sealing_report,
    sealing_since,
)
from gateway.app import XSD_ROOT
from tests.store_log_envelopes import entry, store_log_envelope

WSDL = (XSD_ROOT / "informationsecurity-auditing-log" / "interactions" / "StoreLogInteraction"
        / "StoreLogInteraction_2.0_RIVTABP21.wsdl")
PATH = "/informationsecurity/auditing/log/StoreLog/2/rivtabp21"
BATCHES = (10, 100)


def batch(size: int) -> bytes:
    """A StoreLog call of ``size`` Webcert-like entries whose logIds are filled in per request."""
    return store_log_envelope(*(entry(UNIQUE.decode()) for _ in range(size)))


def entries_line(name: str, size: int, result: LoadResult) -> str:
    return f"{name:24}{result.per_second * size:12.0f} entries/s"


def main() -> None:
    args = load_arguments(__doc__).parse_args()
    bodies = {size: batch(size) for size in BATCHES}
    measured: dict[int, LoadResult] = {}
    baseline: dict[int, LoadResult] = {}
    sealing: dict[int, Sealing] = {}

    def load(url: str, body: bytes, marker: bytes, seconds: float, unique: bool) -> LoadResult:
        return run_load(url, body, marker, seconds, args.processes, args.clients, unique=unique)

    with contextlib.ExitStack() as stack:
        db = stack.enter_context(bench_database(args.db, args.durable))
        with gateway_server(db, args.workers, args.threads) as base:
            for size, body in bodies.items():
                load(base + PATH, body, b">OK<", args.warmup, unique=True)
                records_before = pdl_counts(db)
                measured[size] = load(base + PATH, body, b">OK<", args.seconds, unique=True)
                sealing[size] = sealing_since(db, records_before, args.seconds)
        with baseline_server(WSDL, "<r>OK</r>", args.workers, args.threads, bodies[BATCHES[0]]) as url:
            for size, body in bodies.items():
                load(url, body, b"OK", args.warmup, unique=True)
                baseline[size] = load(url, body, b"OK", args.seconds, unique=True)

    print(f"StoreLog, {args.workers} workers x {args.threads} threads, "
          f"{args.processes}x{args.clients} clients, {args.seconds:.0f} s, {describe_database(args.db, args.durable)}")
    for size in BATCHES:
        print(f"\nbatches of {size}")
        print(report(f"StoreLog x{size}", measured[size], baseline[size]))
        print(entries_line(f"StoreLog x{size}", size, measured[size]))
        print(entries_line("baseline", size, baseline[size]))
        print(sealing_report([(f"StoreLog x{size}", sealing[size])]))


if __name__ == "__main__":
    main()
