"""``intygsgateway directory import FILE`` and ``directory check``: load HSA and PU data, and check it.

An import is followed by the unit check (``domain.directory_check``) in the import's own
transaction, so a dry run shows what the import would leave behind; its findings are printed as
warnings and do not fail the import (HSA is the source of truth, and refusing its file would keep
an even older directory). ``directory check`` runs the same check on its own: text or ``--json``,
exit status 1 when anything was found.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.options import add_settings_options, settings_from
from contracts.errors import XmlRefused
from contracts.hsa_units_file import read_hsa_units
from domain.directory import HsaNode
from domain.directory_check import Finding
from domain.directory_import import (
    DirectoryDocument,
    DirectoryFormatError,
    ImportWarning,
    directory_from_hsa_units,
    hsa_nodes_from_file,
    parse_directory_document,
)
from store.directory import import_directory
from store.directory_import import record_hsa_unit_file
from store.errors import DirectoryImportError
from store.migrate import require_schema
from store.session import UnitOfWork, make_engine, make_session_factory, transaction
from usecases.directory_check import check_directory, findings_in, log_findings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "directory", help="the local HSA/PU directory", description="Manage the local directory."
    )
    commands = parser.add_subparsers(dest="directory_command", required=True, metavar="COMMAND")
    imp = commands.add_parser(
        "import",
        help="import a directory file (upsert, all or nothing)",
        description="Import care givers, units, personnel and patients from a JSON file in the format "
        "of docs/directory-format.md, or care givers and units from the platform's HSA unit file "
        "(FileGetHsaUnitsResponse XML, FILE ending in .xml; the tree comes from the DNs). Every record "
        "is checked first; one bad record imports nothing.",
    )
    add_settings_options(imp)
    imp.add_argument("file", metavar="FILE", help="the JSON file, or an HSA unit file ending in .xml")
    imp.add_argument("--dry-run", action="store_true", help="check the file and print the counts, change nothing")
    imp.add_argument("--strict", action="store_true", help="refuse an HSA unit file with any warning (a node "
                     "without id or DN, the same node twice, an unreadable flag or date) instead of working "
                     "around it")
    imp.set_defaults(run=run_import)
    check = commands.add_parser(
        "check",
        help="the unit check (vårdenhetskontroll) and other directory problems; exit 1 on findings",
        description="Check the imported directory: care units not linked to each other, named care givers "
        "that are care givers, a unit in at most one care unit, no care giver linked as a unit, nothing both care "
        "giver and care unit, every care unit with a care giver; and integrated units missing from the directory, "
        "units without arbetsplatskod, assignments on unknown units, care givers gone from the directory that "
        "still hold certificates. Exit status 1 when anything is found.",
    )
    add_settings_options(check)
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.set_defaults(run=run_check)


class _RollBack(Exception):
    """Ends a dry run's transaction without committing, carrying the counts and findings out."""

    def __init__(self, summary: Any, findings: list[Finding]) -> None:
        super().__init__("dry run")
        self.summary = summary
        self.findings = findings


def import_file_contents(database_url: str, data: Any, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Parse and import one directory document in one transaction; returns the counts.

    A dry run does the whole import, with every database-side check, and then rolls it back.
    """
    summary, _ = import_document(database_url, parse_directory_document(data), now, dry_run)
    return summary


def import_document(
    database_url: str,
    document: DirectoryDocument,
    now: datetime,
    dry_run: bool = False,
    hsa_nodes: list[HsaNode] | None = None,
) -> tuple[dict[str, Any], list[Finding]]:
    """Import a checked directory document in one transaction; returns the counts and the unit check's
    findings on the result (a dry run rolls back). ``hsa_nodes``: what an HSA unit file states, kept
    for the check."""
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            summary = import_directory(session, document, now)
            if hsa_nodes is not None:
                record_hsa_unit_file(session, hsa_nodes, now)
            findings = findings_in(session)
            if dry_run:
                raise _RollBack(summary, findings)
    except _RollBack as rolled_back:
        summary, findings = rolled_back.summary, rolled_back.findings
    finally:
        engine.dispose()
    return dataclasses.asdict(summary), findings


def run_import(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    path = Path(args.file)
    try:
        if path.suffix.lower() == ".xml":
            hsa_file = read_hsa_units(path.read_bytes())
            data: Any = None
        else:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, XmlRefused) as exc:
        print(f"intygsgateway: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    require_schema(settings.database_url)
    now = datetime.now(UTC)
    warnings: list[ImportWarning] = []
    try:
        if data is None:
            tree = directory_from_hsa_units(hsa_file.entries, hsa_file.produced_at)
            warnings = [*hsa_file.warnings, *tree.warnings]
            if args.strict and warnings:
                _print_warnings(warnings)
                print(f"intygsgateway: directory import refused: {len(warnings)} warning(s), and --strict refuses "
                      "any", file=sys.stderr)
                return 1
            summary, findings = import_document(settings.database_url, tree.document, now, args.dry_run,
                                                hsa_nodes_from_file(tree.entries))
        else:
            summary, findings = import_document(settings.database_url, parse_directory_document(data), now,
                                                args.dry_run)
    except (DirectoryFormatError, DirectoryImportError) as exc:
        print(f"intygsgateway: directory import refused: {exc}", file=sys.stderr)
        return 1
    if not args.dry_run:
        log_findings(findings, "import")
    _print_warnings(warnings)
    verb = "would import" if args.dry_run else "imported"
    print(f"{verb}: " + ", ".join(f"{key}={value}" for key, value in {**summary, "warnings": len(warnings)}.items()))
    for finding in findings:
        print(f"intygsgateway: warning: {finding.kind.value}: {finding.text()}", file=sys.stderr)
    return 0


def _print_warnings(warnings: list[ImportWarning], show: int = 20) -> None:
    """The quirks worked around, at most ``show`` of them, with the total (a national file may hold many)."""
    if warnings:
        print(f"warnings: {len(warnings)}")
        for warning in warnings[:show]:
            print(f"  {warning}")
        if len(warnings) > show:
            print(f"  ... and {len(warnings) - show} more")


def run_check(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    require_schema(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        findings = check_directory(UnitOfWork(make_session_factory(engine)))
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps({"findings": [f.as_json() for f in findings]}, ensure_ascii=False, indent=2))
    elif not findings:
        print("no findings")
    else:
        for finding in findings:
            print(f"{finding.kind.value}: {finding.text()}")
        print(f"{len(findings)} finding(s)")
    return 1 if findings else 0
