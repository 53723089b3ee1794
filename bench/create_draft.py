"""Benchmark: CreateDraftCertificate over HTTP against PostgreSQL, beside a parse-and-validate baseline.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/create_draft.py [--seconds 15] [--workers 2] [--threads 4] [--db URL]

Without ``--db`` a throw-away PostgreSQL cluster is started. The gateway runs as ``intygsgateway
serve --demo`` with N gunicorn workers; the baseline (``bench/baseline_app.py``) runs under gunicorn
with the same workers and threads and answers the same message after parsing and validating it. Both are driven by the
same bounded load loop on loopback; the figures and their ratio are printed.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._load import (
    baseline_server,
    bench_database,
    describe_database,
    gateway_server,
    load_arguments,
    report,
    run_load,
)
from gateway.app import CERTIFICATE_INTERACTIONS
from tests.envelopes import create_draft_envelope

WSDL = (CERTIFICATE_INTERACTIONS / "CreateDraftCertificateInteraction"
        / "CreateDraftCertificateInteraction_3.3_RIVTABP21.wsdl")
PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"


def main() -> None:
    args = load_arguments(__doc__).parse_args()
    body = create_draft_envelope()

    with contextlib.ExitStack() as stack:
        db = stack.enter_context(bench_database(args.db, args.durable))
        with gateway_server(db, args.workers, args.threads) as base:
            url = base + PATH
            run_load(url, body, b"OK", args.warmup, args.processes, args.clients)
            measured = run_load(url, body, b">OK<", args.seconds, args.processes, args.clients)
        with baseline_server(WSDL, "<r>OK</r>", args.workers, args.threads, body) as url:
            run_load(url, body, b"OK", args.warmup, args.processes, args.clients)
            baseline = run_load(url, body, b"OK", args.seconds, args.processes, args.clients)

    print(f"CreateDraftCertificate, {args.workers} workers x {args.threads} threads, "
          f"{args.processes}x{args.clients} clients, {args.seconds:.0f} s, {describe_database(args.db, args.durable)}")
    print(report("CreateDraftCertificate", measured, baseline))


if __name__ == "__main__":
    main()
