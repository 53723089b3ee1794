"""Benchmark: SendMessageToCare over HTTP against PostgreSQL, beside a parse-and-validate baseline.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/send_message.py [--seconds 15] [--workers 2] [--threads 4] [--certificates 500] [--db URL]

Without ``--db`` a throw-away PostgreSQL cluster is started (``_load.bench_database``: autovacuum
keeps statistics fresh, as in a long-running database). The gateway runs as ``intygsgateway serve
--demo``; before the load, ``--certificates`` signed and sent certificates are stored. Every request
is a new KOMPLT question (a fresh meddelande-id, ``_load.UNIQUE``) about the next of those
certificates (``_load.CHOICE``), so each one is checked against its certificate and ärenden, stored
with its kompletteringar, and queues NYFRFM with the question counts: never answered as a resend.

Each message reads every ärende of its certificate (the counts in NYFRFM need them all), so the
cost grows with the conversation. The default 500 certificates leave about twenty ärenden on each
by the end of a run (printed), more than FK's questions usually make; ``--certificates 2000``
leaves about five, closer to real traffic. The baseline (``bench/baseline_app.py``) parses and
validates the same messages under gunicorn with the same workers and threads and answers a fixed
OK. Figures are messages/s, p50/p99 and the ratio.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree

from bench._load import (
    CHOICE,
    UNIQUE,
    LoadResult,
    baseline_server,
    bench_database,
    describe_database,
    gateway_server,
    load_arguments,
    report,
    run_load,
)
from gateway.app import CERTIFICATE_INTERACTIONS
from store import certificates
from store.session import make_engine, make_session_factory, transaction
from tests.builders import make_signed_certificate
from tests.envelopes import PREFIXES
from tests.send_message_to_care import send_message_envelope

WSDL = CERTIFICATE_INTERACTIONS / "SendMessageToCareInteraction" / "SendMessageToCareInteraction_2.0_RIVTABP21.wsdl"
PATH = "/clinicalprocess/healthcond/certificate/SendMessageToCare/2/rivtabp21"


def store_certificates(db: str, count: int) -> tuple[bytes, ...]:
    """Store ``count`` signed and sent certificates (one patient); return their ids as load choices."""
    template = make_signed_certificate()
    ids = tuple(f"bench-certificate-{n:05d}" for n in range(count))
    engine = make_engine(db)
    try:
        with transaction(make_session_factory(engine)) as session:
            for certificate_id in ids:
                certificates.add_certificate(session, replace(template, id=certificate_id))
    finally:
        engine.dispose()
    return tuple(certificate_id.encode() for certificate_id in ids)


def message() -> bytes:
    """A KOMPLT question with one komplettering, about the patient of ``make_signed_certificate``.

    Its namespaces are declared once each, on the Envelope, as SOAP stacks write them. The tests'
    builder declares every namespace the tests know on each identifier element (so that a prefixed
    value resolves wherever a test moves the element): 141 declarations, which made the message
    11.9 kB instead of 1.6 kB and took most of the gateway's and the baseline's parse (stop 34).
    """
    person = make_signed_certificate().patient.person_id
    envelope = etree.fromstring(send_message_envelope(
        message_id=UNIQUE.decode(),
        certificate_id=CHOICE.decode(),
        person_id=person.digits,
        person_id_root=person.kind.value,
    ))
    etree.cleanup_namespaces(envelope, top_nsmap=PREFIXES)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--certificates", type=int, default=500, help="certificates the questions are spread over")
    args = parser.parse_args()
    body = message()

    with contextlib.ExitStack() as stack:
        db = stack.enter_context(bench_database(args.db, args.durable))
        with gateway_server(db, args.workers, args.threads) as base:
            choices = store_certificates(db, args.certificates)

            def load(seconds: float) -> LoadResult:
                return run_load(
                    base + PATH, body, b">OK<", seconds, args.processes, args.clients, unique=True, choices=choices
                )

            warmup = load(args.warmup)
            measured = load(args.seconds)
        probe = body.replace(UNIQUE, b"probe").replace(CHOICE, choices[0])
        with baseline_server(WSDL, "<r>OK</r>", args.workers, args.threads, probe) as url:
            run_load(url, body, b"OK", args.warmup, args.processes, args.clients, unique=True, choices=choices)
            baseline = run_load(
                url, body, b"OK", args.seconds, args.processes, args.clients, unique=True, choices=choices
            )

    print(
        f"SendMessageToCare, {args.workers} workers x {args.threads} threads, {args.processes}x{args.clients} clients, "
        f"{args.seconds:.0f} s, {args.certificates} certificates, "
        f"{describe_database(args.db, args.durable)}"
    )
    stored = warmup.requests + measured.requests
    print(
        f"ärenden per certificate at the end: {stored / args.certificates:.1f} (what each message is checked against)"
    )
    print(report("SendMessageToCare", measured, baseline).replace("requests/s", "messages/s"))


if __name__ == "__main__":
    main()
