"""``intygsgateway outbox status|show`` and ``intygsgateway resend``: the operator's view of status updates.

``outbox status`` is the first thing to look at when a journal system says it misses updates: how
many events wait and how long the oldest has waited, which units they belong to and what their last
attempt said (``connect-error`` for a journal system that is down, ``platform-no-route`` for a unit
without a route). ``outbox show`` prints one event and every attempt. ``resend`` puts failed (or,
with ``--include-delivered``, delivered) events back in the queue by a precise selection.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from cli.options import add_settings_options, settings_from, utc_time_argument
from domain.resend_request import (
    DEFAULT_CAP,
    ResendRefusalReason,
    ResendRefused,
    ResendSelection,
)
from domain.values import HsaId
from store.migrate import open_existing
from store.session import UnitOfWork, make_session_factory
from usecases.outbox import OutboxOperations, report_json, summary_json


def register(subparsers: Any) -> None:
    outbox = subparsers.add_parser(
        "outbox", help="status updates waiting or failed",
        description="Inspect the status-update outbox (see docs/resend.md).",
    )
    commands = outbox.add_subparsers(dest="outbox_command", required=True, metavar="COMMAND")
    status = commands.add_parser(
        "status", help="pending and failed counts, oldest pending, by unit and by outcome class",
        description="Counts of pending and failed status updates and the age of the oldest pending one, "
        "by unit and by the outcome class of the last attempt.",
    )
    add_settings_options(status)
    status.add_argument("--json", action="store_true", help="print JSON instead of tables")
    status.set_defaults(run=run_status)
    show = commands.add_parser("show", help="one event with its whole attempt history",
                               description="Print one outbox event and every attempt to deliver it.")
    add_settings_options(show)
    show.add_argument("event_id", type=int, metavar="EVENT_ID")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=run_show)

    again = subparsers.add_parser(
        "resend", help="queue failed (or delivered) status updates again",
        description="Re-arm failed status updates (with --include-delivered also delivered ones) that "
        "match every given criterion. An event that is already pending is never queued twice. The "
        "event keeps its id, its time and its history; a new series of tries starts now. Times are "
        "ISO 8601; a time without offset is UTC.",
    )
    add_settings_options(again)
    again.add_argument("--event", dest="event_ids", type=int, action="append", default=[], metavar="ID",
                       help="an event id (repeat for several)")
    again.add_argument("--certificate", help="certificate id")
    again.add_argument("--unit", help="care unit HSA-id (exact, case-insensitive)")
    again.add_argument("--care-giver", help="care giver HSA-id (the events' care giver, not a prefix of unit ids)")
    again.add_argument("--since", type=utc_time_argument, help="events that occurred at or after this time")
    again.add_argument("--until", type=utc_time_argument, help="events that occurred before this time")
    again.add_argument("--include-delivered", action="store_true", help="also resend delivered events")
    again.add_argument("--dry-run", action="store_true", help="print counts per unit and status, change nothing")
    again.add_argument("--max", type=int, default=DEFAULT_CAP, metavar="N",
                       help=f"refuse when more than N events match (default {DEFAULT_CAP})")
    again.add_argument("--reason", required=True, help="why (stored with the request)")
    again.add_argument("--by", default=None, help="who asks (default: the OS user)")
    again.set_defaults(run=run_resend)




@contextmanager
def _operations(args: argparse.Namespace) -> Iterator[OutboxOperations]:
    """The outbox use cases on the command's database, disposed afterwards."""
    engine = open_existing(settings_from(args).database_url)
    try:
        yield OutboxOperations(UnitOfWork(make_session_factory(engine)), lambda: datetime.now(UTC))
    finally:
        engine.dispose()


def _age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "-"
    seconds = int((now - since).total_seconds())
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{days}d{hours:02d}h{minutes:02d}m" if days else f"{hours}h{minutes:02d}m{seconds:02d}s"


def run_status(args: argparse.Namespace) -> int:
    with _operations(args) as outbox:
        summary, now = outbox.summary(), outbox.now()
    if args.json:
        print(json.dumps(summary_json(summary, now), indent=2))
        return 0
    counts = summary.counts
    print(f"pending {counts['PENDING']}  failed {counts['FAILED']}  delivered {counts['DELIVERED']}  "
          f"superseded {counts['SUPERSEDED']}  cancelled {counts['CANCELLED']}  "
          f"oldest pending {_age(summary.oldest_pending, now)}")
    for title, heading, lines in (("by unit, status updates (pending and failed):", "UNIT", summary.units),
                                  ("by destination, onward (pending and failed):", "LOGICAL ADDRESS",
                                   summary.destinations)):
        if lines or heading == "UNIT":
            print(f"\n{title}")
            print(f"  {heading:<32} {'PENDING':>8} {'FAILED':>8}  OLDEST PENDING")
            for line in lines:
                print(f"  {line.unit:<32} {line.pending:>8} {line.failed:>8}  {_age(line.oldest_pending, now)}")
    if summary.contracts:
        print("\nby contract (pending and failed):")
        print(f"  {'CONTRACT':<32} {'PENDING':>8} {'FAILED':>8}")
        for contract in summary.contracts:
            print(f"  {contract.contract:<32} {contract.pending:>8} {contract.failed:>8}")
    print("\nby outcome of the last attempt:")
    print(f"  {'OUTCOME':<32} {'PENDING':>8} {'FAILED':>8}")
    for outcome in summary.outcomes:
        print(f"  {outcome.outcome:<32} {outcome.pending:>8} {outcome.failed:>8}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    with _operations(args) as outbox:
        report = outbox.event(args.event_id)
    if report is None:
        print(f"intygsgateway: no outbox event {args.event_id}")
        return 1
    if args.json:
        print(json.dumps(report_json(report), indent=2))
        return 0
    for key, value in report.event.items():
        if key != "payload":
            print(f"{key:<18} {value}")
    print(f"{'payload keys':<18} {', '.join(sorted(report.event['payload'])) or '-'}")
    print(f"\nattempts ({len(report.attempts)}):")
    for number, attempt in enumerate(report.attempts, start=1):
        print(f"  {number:>3}. {attempt['at'].isoformat()}  {attempt['outcome']:<18} -> {attempt['decision']:<13} "
              f"HTTP {attempt['http_status'] or '-'}  {attempt['result_code'] or '-'}/{attempt['error_id'] or '-'}  "
              f"{attempt['duration_ms']:.0f} ms  {attempt['url'] or '(no route)'}  corr {attempt['correlation_id']}")
        if attempt["text"]:
            print(f"       {attempt['text']}")
    return 0


def _selection(args: argparse.Namespace) -> ResendSelection:
    return ResendSelection(
        event_ids=tuple(args.event_ids),
        certificate_id=args.certificate,
        unit=HsaId(args.unit) if args.unit else None,
        care_giver=HsaId(args.care_giver) if args.care_giver else None,
        occurred_from=args.since,
        occurred_to=args.until,
        include_delivered=args.include_delivered,
    )


def run_resend(args: argparse.Namespace) -> int:
    with _operations(args) as outbox:
        return _resend(args, outbox)


def _resend(args: argparse.Namespace, outbox: OutboxOperations) -> int:
    selection = _selection(args)
    by = args.by or getpass.getuser()
    try:
        if args.dry_run:
            counts = outbox.preview(selection)
            print(f"  {'UNIT':<32} {'STATUS':<10} {'COUNT':>8}")
            for line in counts:
                note = "  (already pending: left alone)" if line.status == "PENDING" else ""
                print(f"  {line.unit:<32} {line.status:<10} {line.count:>8}{note}")
            selected = sum(line.count for line in counts if line.status != "PENDING")
            over = f"  over the cap of {args.max}: raise --max to go ahead" if selected > args.max else ""
            print(f"would resend {selected} event(s){over}")
            return 0
        result = outbox.resend(selection, by, args.reason, args.max)
    except ResendRefused as refused:
        if refused.reason is ResendRefusalReason.NO_CRITERIA:
            print("intygsgateway: resend needs at least one of --event, --certificate, --unit, --care-giver, "
                  "--since, --until")
        else:
            print(f"intygsgateway: {refused.selected} events match, more than --max {refused.cap}; "
                  "check with --dry-run and raise --max explicitly")
        return 1
    print(f"resend request {result.request_id} by {by}: {result.rearmed} event(s) queued again, "
          f"{result.already_pending} already pending left alone")
    return 0
