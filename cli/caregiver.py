"""``intygsgateway caregiver inventory|export|purge HSA``: certificates whose care giver is gone.

``inventory`` counts what the care giver holds; ``export --to FILE`` writes every certificate whole
(JSON Lines, 0600, written atomically and never over an existing file) and prints its SHA-256;
``purge --export-digest DIGEST --reason TEXT`` removes them, only after a matching export and all or
nothing (``usecases.caregiver``). Export and purge are PDL-logged in the name of ``--user``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli.options import add_settings_options, settings_from
from cli.wiring import utc_now
from domain.pdl import SystemIdentity
from domain.values import HsaId
from store.migrate import upgrade
from store.session import UnitOfWork, make_engine, make_session_factory
from usecases import caregiver
from usecases.caregiver import CaregiverDeps, CaregiverRefused


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("caregiver", help="certificates of a care giver that is gone",
                                   description="Inventory, export and purge a care giver's certificates.")
    commands = parser.add_subparsers(dest="caregiver_command", required=True, metavar="COMMAND")
    inv = commands.add_parser("inventory", help="count a care giver's certificates by type, status and unit",
                              description="Count a care giver's certificates by type and status and by unit, "
                              "with the oldest and newest creation time. Reads no patient data.")
    exp = commands.add_parser("export", help="write every certificate of a care giver to a JSON Lines file",
                              description="Write every certificate of the care giver (content, events, ärenden) "
                              "to FILE as JSON Lines (mode 0600, atomically; an existing FILE is never "
                              "overwritten), print its SHA-256 and store it. Each certificate is PDL-logged.")
    pur = commands.add_parser("purge", help="remove a care giver's certificates after a matching export",
                              description="Remove every certificate of the care giver and its ärenden, keeping "
                              "its status-update events as tombstones. Only with the digest of an export of "
                              "this care giver whose certificates have not changed since; all or nothing; "
                              "PDL-logged.")
    for command in (inv, exp, pur):
        add_settings_options(command)
        command.add_argument("care_giver", metavar="HSA", help="the care giver's HSA-id")
    inv.add_argument("--json", action="store_true", help="print JSON")
    inv.set_defaults(run=run_inventory)
    exp.add_argument("--to", required=True, metavar="FILE", help="the file to write (must not exist)")
    exp.add_argument("--user", required=True, metavar="HSA_ID", help="who exports (the PDL records' user)")
    exp.set_defaults(run=run_export)
    pur.add_argument("--export-digest", required=True, metavar="DIGEST", help="SHA-256 printed by the export")
    pur.add_argument("--reason", required=True, metavar="TEXT", help="why the certificates are removed")
    pur.add_argument("--user", required=True, metavar="HSA_ID", help="who purges (the PDL records' user)")
    pur.add_argument("--even-if-in-directory", action="store_true",
                     help="purge although the care giver is still in the directory")
    pur.add_argument("--dry-run", action="store_true", help="make every check and print the counts; change nothing")
    pur.set_defaults(run=run_purge)


def write_private(path: Path) -> Callable[[bytes], None]:
    """A writer that puts the bytes into ``path`` atomically, readable by the owner only (0600).

    The content goes to a temporary file in the same folder (``mkstemp`` creates it 0600 whatever
    the umask), is flushed to disk, and is then linked to ``path``: the link fails if ``path``
    exists, so nothing is overwritten, and a reader never sees half a file.
    """

    def write(content: bytes) -> None:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.link(temporary, path)
        finally:
            os.unlink(temporary)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    return write


def _deps(args: argparse.Namespace) -> tuple[CaregiverDeps, Callable[[], None]]:
    settings = settings_from(args)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    deps = CaregiverDeps(UnitOfWork(make_session_factory(engine)),
                         SystemIdentity(settings.system_hsa_id, settings.system_name), utc_now)
    return deps, engine.dispose


def _refused(refused: CaregiverRefused) -> int:
    print(f"intygsgateway: refused: {refused}", file=sys.stderr)
    return 1


def run_inventory(args: argparse.Namespace) -> int:
    deps, close = _deps(args)
    try:
        found = caregiver.inventory(deps, HsaId(args.care_giver))
    finally:
        close()
    if args.json:
        print(json.dumps({
            "careGiver": found.care_giver.value, "total": found.total,
            "byTypeAndStatus": [{"type": t, "status": s, "count": n} for t, s, n in found.by_type_and_status],
            "byUnit": [{"unit": u, "count": n} for u, n in found.by_unit],
            "oldest": found.oldest.isoformat() if found.oldest else None,
            "newest": found.newest.isoformat() if found.newest else None,
        }, ensure_ascii=False, indent=2))
        return 0
    print(f"care giver {found.care_giver}: {found.total} certificates")
    if found.oldest and found.newest:
        print(f"created from {found.oldest.isoformat()} to {found.newest.isoformat()}")
    for type_code, status, count in found.by_type_and_status:
        print(f"  {type_code} {status}: {count}")
    for unit, count in found.by_unit:
        print(f"  unit {unit}: {count}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    path = Path(args.to).absolute()
    if path.exists():
        print(f"intygsgateway: {args.to} exists; give a new file", file=sys.stderr)
        return 1
    if not path.parent.is_dir():
        print(f"intygsgateway: no folder {path.parent}", file=sys.stderr)
        return 1
    deps, close = _deps(args)
    try:
        done = caregiver.export(deps, HsaId(args.care_giver), args.user, str(path), write_private(path))
    except CaregiverRefused as refused:
        return _refused(refused)
    finally:
        close()
    print(f"exported {done.certificates} certificates to {path}")
    print(f"sha256 {done.digest}")
    return 0


def run_purge(args: argparse.Namespace) -> int:
    deps, close = _deps(args)
    try:
        done = caregiver.purge(deps, HsaId(args.care_giver), args.export_digest, args.reason, args.user,
                               even_if_in_directory=args.even_if_in_directory, dry_run=args.dry_run)
    except CaregiverRefused as refused:
        return _refused(refused)
    finally:
        close()
    verb = "would purge" if args.dry_run else "purged"
    print(f"{verb} {done.certificates} certificates; {done.events} status-update events kept as tombstones")
    return 0
