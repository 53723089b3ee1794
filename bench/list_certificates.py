"""Benchmark: ListCertificatesForCareWithQA for a patient with 200 certificates and 2,000 events, on PostgreSQL.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/list_certificates.py [--seconds 15] [--workers 2] [--threads 4] [--db URL]
                                                [--transport socket|tcp]

Without ``--db`` a throw-away PostgreSQL cluster is started (``_load.bench_database``), reached
through its Unix socket as docs/deployment.md recommends for a database on the gateway's host
(``--transport tcp``: over loopback TCP, where the host's congestion control matters: with BBR, the
default here, about one first call in fifteen waits some 20 ms for the events' read; the header
names the transport and the congestion control). The gateway runs as ``intygsgateway serve --demo``,
and the baselines read through the same URL. Before the load the database gets the patient's 200
certificates at one unit (signed and sent, each with its full content), ten events each in their
histories (2,000 events), one question from the recipient on every other certificate, and
``--others`` certificates of other patients with five events each, so that the patient's index has
to find one person among many.

Each request lists every one of the 200 certificates (no window): the answer is the whole list,
about 1.5 MB of XML, and writes one PDL read record (one unit). Three gateway rows: the steady state
(the same patient again: each process reuses the certificates, histories and written XML it listed
last while they are unchanged, ``list_cache_certificates``); a first call for a patient (``PATIENTS``
patients seeded alike and listed in turn, more than the cache holds, so that every call reads and
writes everything and fills the cache as a real first call does); and the same patient with the
cache off (``list_cache_certificates = 0``). The figures are the latency of one client at a time
(p50 and p99 over the run; ``--processes`` x ``--clients``, 1 x 1 by default: the issue's target is
the latency of one call, p99 < 50 ms) beside the baseline measured in the same run: the bare query,
the reads the use case makes (the stamps, the certificates, their events, their questions) in one
transaction on one connection, every time in full, without XML, HTTP or PDL records; and, beside
it, the reads a call makes when nothing changed (the stamps instead of the certificates and their
events).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session

from bench._load import (
    CHOICE,
    LoadResult,
    bench_database,
    describe_database,
    gateway_server,
    load_arguments,
    run_load,
    through_unix_socket,
)
from cli.db_transport import loopback_congestion_control, over_loopback_tcp
from cli.gc_tuning import tune_for_serving
from cli.serve import load_demo_directory
from domain.arenden import Direction
from domain.certificate_list import HistoryEvent
from domain.personnummer import luhn_check_digit
from domain.values import EventCode, HsaId, PersonId, PersonIdKind
from store import arenden, certificate_events, certificates
from store.migrate import upgrade
from store.session import make_engine, make_session_factory, transaction
from tests.builders import make_arende, make_signed_certificate
from tests.list_certificates import LIST_PATH, list_envelope

PATIENT = PersonId(PersonIdKind.PERSONNUMMER, "191212121212")
#: The patients listed in turn for the first-call row (``PATIENT`` first): more than a worker's cache
#: holds at the default ``list_cache_certificates`` (1,000 certificates, five such patients).
PATIENTS = (PATIENT, *(PersonId(PersonIdKind.PERSONNUMMER, f"19{nine}{luhn_check_digit(nine)}")
                       for nine in (f"5{k}0101{100 + k}" for k in range(1, 8))))
UNIT = HsaId("SE2321000016-1000")
CERTIFICATES, EVENTS_EACH = 200, 10
CODES = (EventCode.SKAPAT, EventCode.ANDRAT, EventCode.ANDRAT, EventCode.KFSIGN, EventCode.SIGNAT,
         EventCode.SKICKA, EventCode.NYFRFM, EventCode.NYFRFM, EventCode.HANFRFM, EventCode.HANFRFM)
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
BATCH = 1000
CACHE_SETTING = "INTYGSGATEWAY_LIST_CACHE_CERTIFICATES"
STEADY = "ListCertificatesForCareWithQA"
FIRST = f"  first call ({len(PATIENTS)} in turn)"
NOTHING_KEPT = "  the same, cache off"


def seed(db: str, others: int) -> None:
    """Each of ``PATIENTS``' 200 certificates with 2,000 events and 100 questions, and ``others`` other
    patients' certificates. ``PATIENT``'s are ``bench-list-NNNN``, the others' ``bench-list-NNNN-K``."""
    template = make_signed_certificate()
    engine = make_engine(db)
    factory = make_session_factory(engine)
    ours = [replace(template, id=f"bench-list-{n:04d}" + (f"-{k}" if k else ""), created_at=T0 + timedelta(hours=n),
                    patient=replace(template.patient, person_id=patient),
                    unit=replace(template.unit, hsa_id=UNIT))
            for k, patient in enumerate(PATIENTS) for n in range(CERTIFICATES)]
    theirs = [replace(template, id=f"bench-other-{n:06d}", created_at=T0 + timedelta(minutes=n),
                      patient=replace(template.patient, person_id=PersonId(PersonIdKind.PERSONNUMMER,
                                                                           f"19{n % 100:02d}0101{n:04d}"[:12])),
                      unit=replace(template.unit, hsa_id=UNIT)) for n in range(others)]
    try:
        for start in range(0, len(ours) + len(theirs), BATCH):
            chunk = (ours + theirs)[start:start + BATCH]
            with transaction(factory) as session:
                certificates.add_certificates(session, chunk)
                certificate_events.record_all(session, [
                    HistoryEvent(c.id, code, c.created_at + timedelta(minutes=m), HsaId("SE2321000016-P001"))
                    for c in chunk
                    for m, code in enumerate(CODES[:EVENTS_EACH if c.id.startswith("bench-list-") else 5])
                ])
        with transaction(factory) as session:
            arenden.add_arenden(session, [
                make_arende(c, message_id=f"fk-{c.id}", direction=Direction.FROM_RECIPIENT,
                            patient=c.patient.person_id)
                for c in ours[::2]
            ])
    finally:
        engine.dispose()


def _timed(db: str, seconds: float, reads: Callable[[Session], None]) -> LoadResult:
    """``reads`` in one transaction of its own, again and again for ``seconds``: the latency of each.

    With the garbage collector paced as in the gateway's workers (``cli.gc_tuning``): at Python's
    default pace a young collection every 700 allocations walks the 200 certificates read so far,
    which put this baseline's p99 at 126-155 ms against a p50 of 33, and the gateway beside it
    looked better than it is.
    """
    tune_for_serving()
    engine = make_engine(db)
    factory = make_session_factory(engine)
    latencies: list[float] = []
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            with transaction(factory) as session:
                reads(session)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        engine.dispose()
    quantiles = statistics.quantiles(latencies, n=100)
    return LoadResult(len(latencies), 0, seconds, quantiles[49], quantiles[98])


def bare_query(db: str, seconds: float) -> LoadResult:
    """The baseline: the use case's reads (stamps, certificates, events, questions), every time in full."""

    def reads(session: Session) -> None:
        stamps = certificates.for_patient(session, PATIENT, (UNIT,), None, None, None)
        found = certificates.certificates_by_id(session, [stamp.id for stamp in stamps])
        certificate_events.events_of(session, list(found))
        arenden.conversations(session, list(found), ())
        assert len(found) == CERTIFICATES, len(found)

    return _timed(db, seconds, reads)


@contextlib.contextmanager
def _environment(name: str, value: str | None) -> Iterator[None]:
    """``name`` set to ``value`` (None: as it was) for the servers started in the block."""
    before = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def stamps_only(db: str, seconds: float) -> LoadResult:
    """The second baseline: what a call reads when nothing changed (the stamps, the histories' stamps, the
    questions)."""

    def reads(session: Session) -> None:
        ids = [stamp.id for stamp in certificates.for_patient(session, PATIENT, (UNIT,), None, None, None)]
        certificate_events.history_stamps(session, ids)
        arenden.conversations(session, ids, ())

    return _timed(db, seconds, reads)


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--others", type=int, default=20_000, help="certificates of other patients")
    parser.add_argument("--transport", choices=("socket", "tcp"), default="socket",
                        help="how the gateway and the baselines reach the throw-away cluster (not with --db)")
    parser.set_defaults(processes=1, clients=1)
    args = parser.parse_args()
    body = list_envelope(person_id=PATIENT.digits, units=(UNIT.value,))
    in_turn = list_envelope(person_id=CHOICE.decode(), units=(UNIT.value,))
    patients = tuple(patient.digits.encode() for patient in PATIENTS)
    marker = b"bench-list-0000"  # the oldest certificate (of every patient): the list is whole

    with contextlib.ExitStack() as stack:
        db = stack.enter_context(bench_database(args.db, args.durable))
        if args.db is None and args.transport == "socket":
            db = through_unix_socket(db)
        upgrade(db)
        load_demo_directory(db)
        started = time.monotonic()
        seed(db, args.others)
        seeded = time.monotonic() - started
        measured = {}
        with gateway_server(db, args.workers, args.threads) as base:
            run_load(base + LIST_PATH, body, marker, args.warmup, args.processes, args.clients)
            measured[STEADY] = run_load(base + LIST_PATH, body, marker, args.seconds, args.processes, args.clients)
            measured[FIRST] = run_load(base + LIST_PATH, in_turn, marker, args.seconds, args.processes, args.clients,
                                       choices=patients)
        with _environment(CACHE_SETTING, "0"), gateway_server(db, args.workers, args.threads) as base:
            run_load(base + LIST_PATH, body, marker, args.warmup, args.processes, args.clients)
            measured[NOTHING_KEPT] = run_load(base + LIST_PATH, body, marker, args.seconds, args.processes,
                                              args.clients)
        bare_query(db, args.warmup)
        baseline = bare_query(db, args.seconds)
        stamps = stamps_only(db, args.seconds)

    print(f"ListCertificatesForCareWithQA, {args.workers} workers x {args.threads} threads, "
          f"{args.processes}x{args.clients} clients, {args.seconds:.0f} s, PostgreSQL {_transport(db)}, "
          f"{describe_database(args.db, args.durable)}; "
          f"{CERTIFICATES} certificates and {CERTIFICATES * EVENTS_EACH} events of the patient among "
          f"{args.others} others' (seeded in {seeded:.0f} s)")
    print(f"{'':28}{'calls/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, result in (*measured.items(), ("baseline: the bare query", baseline),
                         ("  its reads when unchanged", stamps)):
        print(f"{name:28}{result.per_second:10.1f}{result.p50_ms:10.2f}{result.p99_ms:10.2f}{result.errors:8d}")
    ratios = ", ".join(f"{name.strip()} {measured[name].p99_ms / baseline.p99_ms:.1f}" for name in (STEADY, FIRST))
    verdict = ", ".join(f"{name.strip()} {'met' if measured[name].p99_ms < 50 else 'NOT met'}"
                        for name in (STEADY, FIRST))
    print(f"p99 ratio gateway / bare query: {ratios}; target p99 < 50 ms: {verdict} "
          "(figures from a loaded, shared machine are high and noisy)")


def _transport(db: str) -> str:
    if over_loopback_tcp(db):
        return f"over TCP (loopback congestion control: {loopback_congestion_control()})"
    return "through its Unix socket" if "host=/" in db else "on another host"


if __name__ == "__main__":
    main()
