"""Benchmark: draining a backlog of sends to Försäkringskassan (registration, then SKICKA), beside bare calls.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/onward.py [--certificates 20000] [--units 200] [--workers 2] [--threads 8]
        [--batch 100] [--db URL]

Without ``--db`` a throw-away PostgreSQL cluster is started. The run:

1. stores ``--certificates`` signed certificates that were sent while Försäkringskassan was not
   reachable: each is SENDING, with its RegisterCertificate queued for FK's logical address
   (2021005521), spread over ``--units`` integrated units; routes to the simulators; ANALYZE;
2. brings up the recipient simulator (``intygsgateway mock-recipient``) and the journal simulator
   (``intygsgateway mock-journal``), each its own process, and starts ``--workers`` ``intygsgateway
   worker`` processes with ``--threads`` sender threads each;
3. measures until every certificate is SENT and every event delivered: each registration accepted
   by FK makes its certificate SENT and queues SKICKA in the same commit, which the workers then
   deliver to the journal. Certificates/s counts a certificate once both of its calls are done;
4. checks what the simulators received: every registration and every SKICKA once, and each
   certificate SENT;
5. baseline, same run, same simulators: the same number of bare HTTP POST pairs of the same messages
   (a RegisterCertificate, then a status update SKICKA, built the same way and posted through the
   same HTTP client), from the same number of processes and threads; no database, no claiming.

The target is 1,000 certificates/s on a quiet machine; on a shared, loaded one the figures show a
direction only (the load average is printed with them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Table, exists, func, insert, or_, select, text

from bench._backlog import children_cpu, drain, in_processes, in_threads, per_item, simulator, spent, watching
from bench._load import bench_database, free_port
from contracts.certificate_status_update.v3.request import status_update_xml
from contracts.ns import STATUS_UPDATE_V3
from contracts.register_certificate.v3.request import register_certificate_xml
from domain.certificate_types import load_default_registry
from domain.certificates import certificate_to_columns
from domain.events import ClaimedEvent, OutboundContract, OutboxEvent
from domain.resend_policy import ScheduleKind, Series
from domain.values import CertificateStatus, EventCode, HsaId
from outbound import ROUTING_CONTRACTS, HttpSender, Timeouts
from outbound.deliver import HOPS
from outbound.status_update import status_update_call
from routing.catalogue import Route
from routing.content import CatalogueContent
from simulator.journal import CONTRACT_PATH
from simulator.recipient import CONTRACT_PATHS
from store.certificates import CertificateRow
from store.migrate import upgrade
from store.outbox import OutboxRow, OutboxStatus
from store.routing import publish
from store.session import make_engine, make_session_factory, transaction
from store.units import register_integrated_unit
from tests.builders import CARE_GIVER, make_signed_certificate
from tests.integration.outbox_env import status_event, unit_name

FK = "2021005521"
SENDER = {"hsaId": "SE2321000016-P001", "name": "Ann Läkare"}
TYPES = load_default_registry()


def seed(db: str, certificates: int, units: int) -> None:
    """Store ``certificates`` SENDING certificates with their registrations queued, over ``units`` units."""
    engine = make_engine(db)
    factory = make_session_factory(engine)
    base = replace(make_signed_certificate(), status=CertificateStatus.SENDING, sent_at=None, sent_to="FKASSA",
                   type_code="LISJP")
    now = datetime.now(UTC)
    per_unit = max(1, certificates // units)
    table = cast(Table, CertificateRow.__table__)
    stored = 0
    for unit_number in range(units):
        count = per_unit if unit_number < units - 1 else certificates - stored
        if count <= 0:
            break
        unit = replace(base.unit, hsa_id=HsaId(unit_name(unit_number)))
        rows, events = [], []
        for n in range(count):
            certificate = replace(base, id=f"onward-{unit_number}-{n}", unit=unit, send_requested_at=now)
            row = certificate_to_columns(certificate)
            row["unit_key"] = unit.hsa_id.key
            row["signed_by_key"] = "se2321000016-p001"
            rows.append(row)
            events.append({
                "certificate_id": certificate.id, "event_code": EventCode.SKICKA, "occurred_at": now,
                "unit_hsa_id": unit.hsa_id.value, "care_giver_hsa_id": CARE_GIVER.hsa_id.value,
                "correlation_id": str(uuid.uuid4()), "request_correlation_id": f"bench-{n}",
                "acting_user_hsa_id": SENDER["hsaId"], "payload": {"actor": SENDER}, "payload_version": 1,
                "status": OutboxStatus.PENDING, "next_attempt_at": now, "series_started_at": now,
                "contract": OutboundContract.REGISTER.value, "recipient": "FKASSA", "logical_address": FK,
                "destination": FK,
            })
        with transaction(factory) as session:
            register_integrated_unit(session, unit.hsa_id, CARE_GIVER.hsa_id, now)
            session.execute(insert(table), rows)
            session.execute(insert(OutboxRow), events)
        stored += count
    engine.dispose()


def publish_routes(db: str, journal: str, recipient: str) -> None:
    routes = (Route(STATUS_UPDATE_V3, "*", journal + CONTRACT_PATH, valid_from=date(2000, 1, 1)),
              Route(ROUTING_CONTRACTS[OutboundContract.REGISTER], FK,
                    recipient + CONTRACT_PATHS["RegisterCertificate"], valid_from=date(2000, 1, 1)))
    engine = make_engine(db)
    with transaction(make_session_factory(engine)) as session:
        publish(session, CatalogueContent(routes=routes), by="bench", action="import", now=datetime.now(UTC), keep=5,
                changes={})
    with engine.connect() as connection:  # the statistics autovacuum keeps for tables that grew over time
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=120) as response:
        return json.loads(response.read())


def _post(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"), timeout=30).close()


def left(db: str) -> tuple[int, int]:
    """(certificates not SENT yet, events not delivered yet)."""
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            certificates = connection.execute(select(func.count()).select_from(CertificateRow).where(
                CertificateRow.status != CertificateStatus.SENT)).scalar_one()
            events = connection.execute(select(func.count()).where(
                OutboxRow.status != OutboxStatus.DELIVERED)).scalar_one()
            return int(certificates), int(events)
    finally:
        engine.dispose()


def _bare_pairs(recipient: str, journal: str, threads: int, pairs: int, out: Any) -> None:
    sender = HttpSender(None, lambda: datetime.now(UTC), pool_size=2 * threads)
    timeouts = Timeouts(3.0, 20.0)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    hop = HOPS[OutboundContract.REGISTER]
    certificate = make_signed_certificate()

    def run(index: int, count: int) -> None:
        register = register_certificate_xml(replace(certificate, id=f"baseline-{os.getpid()}-{index}"),
                                              TYPES.lookup("LISJP", certificate.type_code_system))
        skicka = status_update_xml(certificate, status_event(certificate.id, EventCode.SKICKA, datetime.now(UTC),
                                                               certificate.unit))
        claimed = _claimed()
        mine: Counter[str] = Counter()
        for _ in range(count):
            call = hop.call(recipient, FK, register, claimed)
            mine[f"register:{sender.send(call, timeouts).outcome.value}"] += 1
            update = status_update_call(journal, certificate.unit_id.value, skicka, "bench")
            mine[f"skicka:{sender.send(update, timeouts).outcome.value}"] += 1
        with lock:
            outcomes.update(mine)

    in_threads(run, pairs, threads)
    sender.close()
    out.put(dict(outcomes))


def _claimed() -> ClaimedEvent:
    """A claimed registration for the baseline's calls (its attempts decide one answer's reading)."""
    event = OutboxEvent("baseline", EventCode.SKICKA, datetime.now(UTC), HsaId("SE2321000016-1003"),
                        CARE_GIVER.hsa_id, "bench", contract=OutboundContract.REGISTER, recipient="FKASSA",
                        logical_address=FK)
    return ClaimedEvent(0, event, 0, Series(ScheduleKind.TECHNICAL, 0, datetime.now(UTC)), "bench", "bench", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--certificates", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (and baseline processes)")
    parser.add_argument("--threads", type=int, default=8, help="sender threads per process")
    parser.add_argument("--batch", type=int, default=100, help="events a claim takes at a time")
    parser.add_argument("--db", help="PostgreSQL URL (default: a throw-away cluster)")
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        db = stack.enter_context(bench_database(args.db))
        upgrade(db)
        journal_port, recipient_port = free_port(), free_port()
        seeding = time.monotonic()
        seed(db, args.certificates, args.units)  # sent while FK was down: nobody listens
        publish_routes(db, f"http://127.0.0.1:{journal_port}", f"http://127.0.0.1:{recipient_port}")
        print(f"stored {args.certificates} SENDING certificates with their registrations queued, {args.units} units, "
              f"in {time.monotonic() - seeding:.0f} s", flush=True)
        journal = stack.enter_context(simulator("mock-journal", journal_port))
        recipient = stack.enter_context(simulator("mock-recipient", recipient_port))
        load_before = os.getloadavg()
        before = children_cpu()
        sent = exists().where(CertificateRow.status == CertificateStatus.SENT)
        left_over = or_(exists().where(CertificateRow.status != CertificateStatus.SENT),
                        exists().where(OutboxRow.status == OutboxStatus.PENDING))
        with watching(db, sent, left_over) as progress:
            to_done, draining = drain(db, args.workers, args.threads, args.batch, progress, "the backlog")
        drain_cpu = spent(before)
        load_after = os.getloadavg()
        received = _get(f"{recipient}/_mock/stats"), _get(f"{journal}/_mock/stats")
        unsent, undelivered = left(db)
        _post(f"{recipient}/_mock/reset")
        before = children_cpu()
        bare, bare_outcomes = in_processes(_bare_pairs, args.certificates, args.workers,
                                           f"{recipient}{CONTRACT_PATHS['RegisterCertificate']}",
                                           f"{journal}{CONTRACT_PATH}", args.threads)
        bare_cpu = spent(before)

    registrations, updates = received
    rate, bare_rate = args.certificates / draining, args.certificates / bare
    print(f"onward backlog: {args.certificates} certificates (RegisterCertificate to FK, then SKICKA to the "
          f"journal), {args.units} units, {args.workers} workers x {args.threads} threads, batch {args.batch}, "
          "PostgreSQL")
    print(f"{'':30}{'certificates/s':>16}{'seconds':>10}")
    print(f"{'drain (registration + SKICKA)':30}{rate:16.0f}{draining:10.1f}")
    print(f"{'time to done (with start)':30}{args.certificates / to_done:16.0f}{to_done:10.1f}")
    print(f"{'baseline: bare HTTP pairs':30}{bare_rate:16.0f}{bare:10.1f}")
    print(f"ratio drain / baseline: {rate / bare_rate:.2f}; target 1,000 certificates/s")
    print(f"load average during the drain: {load_before[0]:.1f} -> {load_after[0]:.1f} "
          f"({os.cpu_count()} cores; a shared machine shows a direction only)")
    # CPU seconds of the worker (or baseline) processes per certificate: steadier than rates on a busy machine.
    print(f"client CPU per certificate (two calls), start-up included: drain {per_item(drain_cpu, args.certificates)}, "
          f"baseline {per_item(bare_cpu, args.certificates)}")
    print(f"baseline outcomes: {dict(bare_outcomes)}")
    print(f"FK received {registrations['received']} registrations ({registrations['duplicates']} repeats), "
          f"held {registrations['held']}; the journal received {updates['received']} status updates "
          f"({updates['duplicates']} duplicates, {updates['by_event_code']}); left: {unsent} certificates not SENT, "
          f"{undelivered} events not delivered")


if __name__ == "__main__":
    main()
