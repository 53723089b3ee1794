"""Benchmark: draining a backlog of status updates after a journal-system outage, beside bare calls.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/resend.py [--events 100000] [--units 1000] [--per-certificate 2] [--workers 2]
        [--threads 8] [--batch 100] [--db URL]

Without ``--db`` a throw-away PostgreSQL cluster is started. The run:

1. queues ``--events`` events (``--per-certificate`` of them per certificate, in order: SKAPAT, KFSIGN,
   SIGNAT..., spread over ``--units`` integrated units) while no journal system is reachable, with a
   catalogue route for every unit to the simulator, and runs ANALYZE (a backlog that grew during an
   outage has statistics; a bulk load has none yet);
2. brings the journal simulator up (``intygsgateway mock-journal``, its own process) and starts
   ``--workers`` ``intygsgateway worker`` processes with ``--threads`` sender threads each (and as many
   calls in flight per journal system: every unit's route goes to the one simulator);
3. measures until the outbox is empty: time to empty from the workers' start (start-up included),
   and the drain rate from the first delivery to the last;
4. checks what the simulator received: every event once (duplicates counted), and each certificate's
   events in their order;
5. baseline, same run, same simulator: the same number of bare HTTP POSTs of a status update built
   the same way (the same HTTP client, no zeep, no database, no claiming), from the same number of
   processes and threads.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import exists, insert, text

from bench._backlog import children_cpu, drain, in_processes, in_threads, per_item, simulator, spent, watching
from bench._load import bench_database, free_port
from contracts.certificate_status_update.v3.request import status_update_xml
from domain.values import EventCode, HsaId
from outbound import HttpSender, Timeouts
from outbound.status_update import status_update_call
from store.certificates import add_certificate
from store.migrate import upgrade
from store.outbox import OutboxRow, OutboxStatus
from store.session import make_engine, make_session_factory, transaction
from store.units import register_integrated_unit
from tests.builders import CARE_GIVER, make_draft
from tests.integration.outbox_env import publish_route, status_event, unit_name

CONTRACT_PATH = "/clinicalprocess/healthcond/certificate/CertificateStatusUpdateForCare/3/rivtabp21"


CODES = (EventCode.SKAPAT, EventCode.KFSIGN, EventCode.SIGNAT, EventCode.SKICKA)


def seed(db: str, events: int, units: int, per_certificate: int) -> None:
    """Queue ``events`` events, ``per_certificate`` per certificate in order, over ``units`` integrated units."""
    engine = make_engine(db)
    factory = make_session_factory(engine)
    base = make_draft()
    now = datetime.now(UTC)
    certificates = max(1, events // per_certificate)
    per_unit = max(1, certificates // units)
    queued = 0
    for unit_number in range(units):
        unit = replace(base.unit, hsa_id=HsaId(unit_name(unit_number)))
        count = min(per_unit, certificates - queued) if unit_number < units - 1 else certificates - queued
        rows = []
        with transaction(factory) as session:
            register_integrated_unit(session, unit.hsa_id, CARE_GIVER.hsa_id, now)
            for n in range(count):
                certificate = replace(base, id=f"bench-{unit_number}-{n}", unit=unit)
                add_certificate(session, certificate)
                for step, code in enumerate(CODES[:per_certificate]):
                    at = now + timedelta(milliseconds=step)
                    rows.append({
                        "certificate_id": certificate.id, "event_code": code, "occurred_at": at,
                        "unit_hsa_id": unit.hsa_id.value, "care_giver_hsa_id": CARE_GIVER.hsa_id.value,
                        "correlation_id": str(uuid.uuid4()), "request_correlation_id": f"bench-{n}",
                        "acting_user_hsa_id": None, "payload": {}, "payload_version": 1,
                        "status": OutboxStatus.PENDING, "next_attempt_at": at, "series_started_at": at,
                    })
            if rows:
                session.execute(insert(OutboxRow), rows)
        queued += count
    engine.dispose()


def out_of_order(base: str) -> int:
    """Certificates whose events the simulator received in another order than they were queued."""
    with urllib.request.urlopen(f"{base}/_mock/received", timeout=120) as response:
        received = json.loads(response.read())
    seen: dict[str, list[str]] = {}
    for record in received:
        seen.setdefault(record["certificate_id"], []).append(record["event_code"])
    order = [code.value for code in CODES]
    return sum(1 for codes in seen.values() if codes != sorted(codes, key=order.index))


def stats(base: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base}/_mock/stats", timeout=10) as response:
        return dict(json.loads(response.read()))


def clear(base: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{base}/_mock/received", method="DELETE"), timeout=10).close()


def _bare_calls(url: str, threads: int, calls: int, out: Any) -> None:
    sender = HttpSender(None, lambda: datetime.now(UTC), pool_size=threads)
    timeouts = Timeouts(3.0, 20.0)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(_index: int, count: int) -> None:
        message = status_update_xml(make_draft(), status_event("bench-baseline", EventCode.SKAPAT,
                                                                 datetime.now(UTC), make_draft().unit))
        for _ in range(count):
            call = status_update_call(url, "SE2321000016-1003", message, "bench")
            outcome = sender.send(call, timeouts).outcome.value
            with lock:
                outcomes[outcome] += 1

    in_threads(run, calls, threads)
    sender.close()
    out.put(dict(outcomes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (and baseline processes)")
    parser.add_argument("--threads", type=int, default=8, help="sender threads per process")
    parser.add_argument("--per-certificate", type=int, default=2, choices=range(1, len(CODES) + 1),
                        help="events per certificate, sent in order")
    parser.add_argument("--batch", type=int, default=100, help="events a sender thread claims at a time")
    parser.add_argument("--db", help="PostgreSQL URL (default: a throw-away cluster)")
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        db = stack.enter_context(bench_database(args.db))
        upgrade(db)
        port = free_port()
        seeding = time.monotonic()
        seed(db, args.events, args.units, args.per_certificate)  # the journal is down: nobody listens
        engine = make_engine(db)
        publish_route(make_session_factory(engine), f"http://127.0.0.1:{port}{CONTRACT_PATH}")
        with engine.connect() as connection:  # the statistics autovacuum keeps for a table that grew over time
            connection.execute(text("ANALYZE"))
            connection.commit()
        engine.dispose()
        print(f"queued {args.events} events for {args.units} units in {time.monotonic() - seeding:.0f} s "
              "while the journal was down", flush=True)
        base = stack.enter_context(simulator("mock-journal", port))
        before = children_cpu()
        delivered = exists().where(OutboxRow.status == OutboxStatus.DELIVERED)
        with watching(db, delivered, exists().where(OutboxRow.status == OutboxStatus.PENDING)) as progress:
            to_empty, draining = drain(db, args.workers, args.threads, args.batch, progress, "the outbox")
        drain_cpu = spent(before)
        received = stats(base)
        disorder = out_of_order(base)
        clear(base)
        before = children_cpu()
        bare, bare_outcomes = in_processes(_bare_calls, args.events, args.workers, base + CONTRACT_PATH, args.threads)
        bare_cpu = spent(before)

    rate, bare_rate = args.events / draining, args.events / bare
    print(f"status-update backlog, {args.events} events ({args.per_certificate} per certificate), {args.units} units, "
          f"{args.workers} workers x {args.threads} threads, batch {args.batch}, PostgreSQL")
    print(f"{'':28}{'events/s':>10}{'seconds':>10}")
    print(f"{'outbox drain':28}{rate:10.0f}{draining:10.1f}")
    print(f"{'time to empty (with start)':28}{args.events / to_empty:10.0f}{to_empty:10.1f}")
    print(f"{'baseline: bare HTTP calls':28}{bare_rate:10.0f}{bare:10.1f}")
    print(f"ratio drain / baseline: {rate / bare_rate:.2f}")
    # CPU seconds of the worker (or baseline) processes per event: steadier than rates on a busy machine.
    print(f"client CPU per event, start-up included: drain {per_item(drain_cpu, args.events)}, "
          f"baseline {per_item(bare_cpu, args.events)}")
    print(f"baseline outcomes: {dict(bare_outcomes)}")
    print(f"received {received['received']}, distinct events {received['distinct_events']}, "
          f"duplicates {received['duplicates']}, certificates received out of order {disorder}")


if __name__ == "__main__":
    main()
