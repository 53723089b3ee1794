"""``intygsgateway pdl verify|search|purge``: the PDL access log for auditors, patients' extracts and retention.

* ``verify`` seals the records waiting for their seal (unless ``--no-seal``), walks the hash chain
  from the retention anchor to the head and names the first broken link (exit 1), or prints the
  head hash (worth writing down elsewhere: see docs/pdl-log.md) and how many records are pending.
* ``search`` finds records by patient, user, unit, care giver and time window, as a table, CSV or
  JSON (a patient's extract: who accessed their data, when, from which unit, for what purpose).
* ``purge`` exports the records older than ``--before`` (default: the retention period) to a file,
  then deletes them, keeping the chain verifiable.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.options import add_settings_options, settings_from, utc_time_argument
from domain.pdl import PdlQuery, PdlRecord, as_plain
from scheduler.pdl_retention import export_and_purge, retention_cutoff
from store import pdl
from store.migrate import open_existing
from store.session import UnitOfWork, make_session_factory, transaction
from usecases.pdl_log import verify_log

#: The columns of a patient's extract, in reading order.
EXTRACT_COLUMNS = (
    "start_date", "activity", "purpose", "user_id", "user_title", "user_assignment",
    "user_care_unit_id", "user_care_unit_name", "user_care_giver_id", "user_care_giver_name",
    "resource_type", "patient_id", "activity_level", "system_id", "log_id",
)  # fmt: skip
TABLE_COLUMNS = ("start_date", "activity", "user_id", "user_care_unit_id", "patient_id", "purpose")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("pdl", help="the PDL access log", description="Check, search and purge the PDL access log.")
    commands = parser.add_subparsers(dest="pdl_command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "verify",
        help="check the hash chain; exit 1 at the first broken link",
        description="Seal the records waiting for their seal, then walk the PDL log's hash chain from the "
        "retention anchor to the head. Prints the first broken link (a changed, deleted, reordered or "
        "inserted record, or one left unsealed too long) and exits 1, or prints the number of records, "
        "the head hash and the records still pending.",
    )
    add_settings_options(check)
    check.add_argument("--no-seal", action="store_true", help="check the log as it is, without sealing first")
    check.set_defaults(run=run_verify)

    find = commands.add_parser(
        "search",
        help="find records by patient, user, unit, care giver and time",
        description="Find PDL records; every given criterion must hold. Unit and care giver match "
        "where the access was made and whose records were read. Use --format csv or json for a "
        "patient's extract.",
    )
    add_settings_options(find)
    find.add_argument("--patient", metavar="PERSONNUMMER", help="the patient's id (12 digits)")
    find.add_argument("--user", metavar="HSA-ID", help="the user who made the access")
    find.add_argument("--unit", metavar="HSA-ID", help="care unit (vårdenhet)")
    find.add_argument("--care-giver", metavar="HSA-ID", help="care giver (vårdgivare)")
    find.add_argument("--from", dest="start", metavar="TIME", type=utc_time_argument, help="from this time (ISO 8601; UTC if no zone), inclusive")
    find.add_argument("--to", dest="end", metavar="TIME", type=utc_time_argument, help="up to this time, exclusive")
    find.add_argument("--limit", type=int, default=10_000, help="at most this many records (default 10000)")
    find.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    find.set_defaults(run=run_search)

    purge = commands.add_parser(
        "purge",
        help="export, then delete, records older than the retention period",
        description="Export the oldest records (all started before --before) to FILE as JSON Lines with "
        "their chain links, then delete them and anchor the chain at the last one. Default --before: "
        "now minus pdl_retention_years.",
    )
    add_settings_options(purge)
    purge.add_argument("--before", type=utc_time_argument, metavar="TIME", help="purge records that started before this time")
    purge.add_argument("--export", type=Path, metavar="FILE", required=True, help="new file for the exported records")
    purge.add_argument("--dry-run", action="store_true", help="count what would be purged; change nothing")
    purge.set_defaults(run=run_purge)




def run_verify(args: argparse.Namespace) -> int:
    engine = open_existing(settings_from(args).database_url)
    try:
        result = verify_log(UnitOfWork(make_session_factory(engine)), seal=not args.no_seal)
    finally:
        engine.dispose()
    if result.broken is not None:
        print(f"chain broken: {result.broken} (after {result.checked} intact records)")
        return 1
    print(f"chain intact: {result.checked} records, head seq {result.last.seq}, head hash {result.last.hash}, "
          f"{result.pending} pending")
    return 0


def run_search(args: argparse.Namespace) -> int:
    criteria = (args.patient, args.user, args.unit, args.care_giver, args.start, args.end)
    if all(value is None for value in criteria):
        print("intygsgateway: give at least one of --patient, --user, --unit, --care-giver, --from, --to", file=sys.stderr)
        return 2
    query = PdlQuery(
        patient_id=args.patient, user_id=args.user, care_unit_id=args.unit, care_giver_id=args.care_giver,
        start=args.start, end=args.end, limit=args.limit,
    )  # fmt: skip
    engine = open_existing(settings_from(args).database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            records = pdl.search(session, query)
    finally:
        engine.dispose()
    write_records(records, args.format, sys.stdout)
    return 0


def write_records(records: Sequence[PdlRecord], fmt: str, out: Any) -> None:
    """Print records as a table, CSV (extract columns) or JSON (every field)."""
    if fmt == "json":
        json.dump([as_plain(record) for record in records], out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    rows = [{name: as_plain(record)[name] for name in EXTRACT_COLUMNS} for record in records]
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXTRACT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        return
    widths = {name: max([len(name), *(len(str(row[name] or "")) for row in rows)]) for name in TABLE_COLUMNS}
    out.write("  ".join(name.ljust(widths[name]) for name in TABLE_COLUMNS).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(str(row[name] or "").ljust(widths[name]) for name in TABLE_COLUMNS).rstrip() + "\n")
    out.write(f"{len(rows)} records\n")


def run_purge(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = datetime.now(UTC)
    before = args.before or retention_cutoff(now, settings.pdl_retention_years)
    engine = open_existing(settings.database_url)
    try:
        report = export_and_purge(
            lambda: transaction(make_session_factory(engine)), before, args.export, now, dry_run=args.dry_run
        )
    finally:
        engine.dispose()
    if report.anchor_seq is None:
        print(f"nothing to purge: no records started before {before.isoformat()}")
    elif args.dry_run:
        print(f"would purge {report.purged} records (up to seq {report.anchor_seq}) started before {before.isoformat()}")
    else:
        print(f"purged {report.purged} records (up to seq {report.anchor_seq}), exported to {report.export}")
    return 0
