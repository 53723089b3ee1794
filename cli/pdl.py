"""``intygsgateway pdl verify|search|purge|keygen``: the PDL access log for auditors, patients' extracts and retention.

* ``verify`` seals the records waiting for their seal (unless ``--no-seal``), checks the signed
  checkpoints with the public keys (``--public-key``, needing no secret: an auditor runs it on a copy
  of the database on another machine), walks the hash chain from the latest signed anchor through
  every signed head and names the first break (exit 1), or prints the last good signed checkpoint,
  the head and how many records are pending or not yet signed.
* ``search`` finds records by patient, user, unit, care giver and time window, as a table, CSV or
  JSON (a patient's extract: who accessed their data, when, from which unit, for what purpose).
* ``purge`` exports the records older than ``--before`` (default: the retention period) to a file,
  then deletes them, keeping the chain verifiable, and signs the new anchor with the export's digest.
* ``keygen`` writes a new Ed25519 signing key (0600) and its public key.

CSV output is neutralised against formula injection (``domain.spreadsheet``).
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
from cli.pdl_signing import KeyFileError, PublicKeys, generate_key, read_checkpoints
from cli.wiring import pdl_keys, pdl_signing
from domain.pdl import PdlQuery, PdlRecord, as_plain
from domain.pdl_checkpoint import BadCheckpointLine, SignedCheckpoint
from domain.spreadsheet import neutralise_row
from scheduler.pdl_retention import export_and_purge, retention_cutoff
from store import pdl
from store.migrate import open_existing
from store.session import UnitOfWork, make_session_factory, transaction
from usecases.pdl_log import verify_log

#: The columns of a patient's extract, in reading order.
EXTRACT_COLUMNS = (
    "start_date", "activity", "purpose", "user_id", "user_title", "user_assignment",
    "user_care_unit_id", "user_care_unit_name", "user_care_giver_id", "user_care_giver_name",
    "resource_type", "patient_id", "activity_level", "system_id", "log_id", "consumer_id",
)  # fmt: skip
TABLE_COLUMNS = ("start_date", "activity", "user_id", "user_care_unit_id", "patient_id", "purpose")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pdl", help="the PDL access log", description="Check, search and purge the PDL access log."
    )
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
    check.add_argument("--public-key", action="append", metavar="FILE[@FROM/UNTIL]",
                       help="public key that signed checkpoints, valid in the given ISO 8601 range (repeatable, "
                       "for rotated keys); default: the keys of the settings (pdl_signing_key, pdl_public_keys)")
    check.add_argument("--checkpoints", type=Path, metavar="FILE",
                       help="checkpoint file shipped off the host: the log must pass through every checkpoint in it")
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
    find.add_argument("--consumer", metavar="HSA-ID", help="the system that sent the records with StoreLog")
    find.add_argument("--from", dest="start", metavar="TIME", type=utc_time_argument,
                      help="from this time (ISO 8601; UTC if no zone), inclusive")
    find.add_argument("--to", dest="end", metavar="TIME", type=utc_time_argument, help="up to this time, exclusive")
    find.add_argument("--limit", type=int, default=10_000, help="at most this many records (default 10000)")
    find.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format (default table)"
    )
    find.set_defaults(run=run_search)

    purge = commands.add_parser(
        "purge",
        help="export, then delete, records older than the retention period",
        description="Export the oldest records (all started before --before) to FILE as JSON Lines with "
        "their chain links, then delete them and anchor the chain at the last one. Default --before: "
        "now minus pdl_retention_years.",
    )
    add_settings_options(purge)
    purge.add_argument(
        "--before", type=utc_time_argument, metavar="TIME", help="purge records that started before this time"
    )
    purge.add_argument("--export", type=Path, metavar="FILE", required=True, help="new file for the exported records")
    purge.add_argument("--dry-run", action="store_true", help="count what would be purged; change nothing")
    purge.set_defaults(run=run_purge)

    keygen = commands.add_parser(
        "keygen",
        help="write a new Ed25519 key pair for signing checkpoints",
        description="Write a new Ed25519 private key (PEM, mode 0600, never overwriting a file) for "
        "pdl_signing_key, and its public key for auditors (pdl verify --public-key).",
    )
    keygen.add_argument("private", type=Path, metavar="PRIVATE_FILE", help="new file for the private key")
    keygen.add_argument("public", type=Path, metavar="PUBLIC_FILE", help="file for the public key")
    keygen.set_defaults(run=run_keygen)




def run_verify(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        keys = PublicKeys.from_specs(args.public_key) if args.public_key else pdl_keys(settings)
        extra: list[SignedCheckpoint] = read_checkpoints(args.checkpoints) if args.checkpoints else []
    except (KeyFileError, BadCheckpointLine, OSError) as error:
        print(f"intygsgateway: {error}", file=sys.stderr)
        return 2
    if extra and keys is None:
        print("intygsgateway: --checkpoints needs --public-key (or pdl_signing_key) to check them", file=sys.stderr)
        return 2
    engine = open_existing(settings.database_url)
    try:
        result = verify_log(UnitOfWork(make_session_factory(engine)), seal=not args.no_seal, keys=keys, extra=extra)
    finally:
        engine.dispose()
    chain, good = result.chain, result.last_good
    signed = (f"last good signed checkpoint {good.number} at seq {good.seq} ({good.at.isoformat()}, key {good.key_id})"
              if good is not None else "no signed checkpoint verifies")
    if chain.broken is not None:
        print(f"chain broken: {chain.broken} (after {chain.checked} intact records); {signed}")
        return 1
    if keys is None:
        print("warning: no public key given: only the hash chain was checked, which anyone with write access "
              "to the database can recompute", file=sys.stderr)
    elif good is None and chain.last.seq > 0:
        print(f"chain not signed: {chain.checked} records and {signed}")
        return 1
    print(f"chain intact: {chain.checked} records, head seq {chain.last.seq}, head hash {chain.last.hash}, "
          f"{chain.pending} pending; {signed}, {result.unsigned} records after it not yet signed")
    return 0


def run_search(args: argparse.Namespace) -> int:
    criteria = (args.patient, args.user, args.unit, args.care_giver, args.consumer, args.start, args.end)
    if all(value is None for value in criteria):
        print("intygsgateway: give at least one of --patient, --user, --unit, --care-giver, --consumer, --from, --to",
              file=sys.stderr)
        return 2
    query = PdlQuery(
        patient_id=args.patient, user_id=args.user, care_unit_id=args.unit, care_giver_id=args.care_giver,
        consumer_id=args.consumer, start=args.start, end=args.end, limit=args.limit,
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
        writer.writerows(neutralise_row(row) for row in rows)
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
    engine = open_existing(settings.pdl_purge_database_url or settings.database_url)
    try:
        report = export_and_purge(
            UnitOfWork(make_session_factory(engine)), before, args.export, now, dry_run=args.dry_run,
            signing=pdl_signing(settings),
        )
    finally:
        engine.dispose()
    if report.anchor_seq is None:
        print(f"nothing to purge: no records started before {before.isoformat()}")
    elif args.dry_run:
        print(
            f"would purge {report.purged} records (up to seq {report.anchor_seq}) started before {before.isoformat()}"
        )
    else:
        print(f"purged {report.purged} records (up to seq {report.anchor_seq}), exported to {report.export}")
    return 0


def run_keygen(args: argparse.Namespace) -> int:
    try:
        key_id = generate_key(args.private, args.public)
    except FileExistsError:
        print(f"intygsgateway: {args.private} exists; a signing key is never overwritten", file=sys.stderr)
        return 2
    print(f"wrote signing key {args.private} (mode 0600) and public key {args.public}; key id {key_id}")
    return 0
