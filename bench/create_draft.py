"""Benchmark: CreateDraftCertificate over HTTP against PostgreSQL, beside a parse-and-validate baseline.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/create_draft.py [--seconds 15] [--workers 2] [--threads 4] [--db URL]

Without ``--db`` a throw-away PostgreSQL cluster is started. The gateway runs as ``intygsgateway
serve --demo`` with N gunicorn workers; the baseline (``bench/baseline_app.py``) runs under gunicorn
with the same workers and threads and answers the same message after parsing and validating it. Both are driven by the
same bounded load loop on loopback; the figures and their ratio are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._load import free_port, report, run_load, stop, wait_until_up  # noqa: E402
from gateway.app import CERTIFICATE_INTERACTIONS  # noqa: E402
from tests.messages import create_draft_envelope  # noqa: E402
from tests.pgcluster import postgres_cluster  # noqa: E402

WSDL = CERTIFICATE_INTERACTIONS / "CreateDraftCertificateInteraction" / "CreateDraftCertificateInteraction_3.3_RIVTABP21.wsdl"
PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker, for both servers")
    parser.add_argument("--processes", type=int, default=2, help="load-generating processes")
    parser.add_argument("--clients", type=int, default=4, help="client threads per load process")
    parser.add_argument("--db", help="PostgreSQL URL (default: a throw-away cluster)")
    args = parser.parse_args()
    body = create_draft_envelope()
    bin_dir = Path(sys.executable).parent

    with contextlib.ExitStack() as stack:
        db = args.db or stack.enter_context(postgres_cluster())
        port = free_port()
        gateway = subprocess.Popen(
            [str(bin_dir / "intygsgateway"), "serve", "--demo", "--db", db, "--port", str(port), "--workers", str(args.workers), "--threads", str(args.threads)],
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/readyz")
            url = f"http://127.0.0.1:{port}{PATH}"
            run_load(url, body, b"OK", args.warmup, args.processes, args.clients)
            measured = run_load(url, body, b">OK<", args.seconds, args.processes, args.clients)
        finally:
            stop(gateway)

        port = free_port()
        baseline_server = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "-w", str(args.workers), *(["-k", "gthread", "--threads", str(args.threads)] if args.threads > 1 else []), "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT / "bench"), "--pythonpath", str(ROOT), "baseline_app:app"],
            env={**os.environ, "BASELINE_WSDL": str(WSDL), "BASELINE_RESPONSE": "<r>OK</r>"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/", body=body)
            url = f"http://127.0.0.1:{port}/"
            run_load(url, body, b"OK", args.warmup, args.processes, args.clients)
            baseline = run_load(url, body, b"OK", args.seconds, args.processes, args.clients)
        finally:
            stop(baseline_server)

    print(f"CreateDraftCertificate, {args.workers} workers x {args.threads} threads, {args.processes}x{args.clients} clients, {args.seconds:.0f} s, PostgreSQL")
    print(report("CreateDraftCertificate", measured, baseline))


if __name__ == "__main__":
    main()
