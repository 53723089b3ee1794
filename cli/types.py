"""``intygsgateway types show [CODE] [--unit HSA] [--on DATE]``: the certificate types and their activation.

Prints every type of the registry the gateway serves with (``certificate_types_file``, or the built-in
one): its code, name, recipient, lock period and activation rule (``domain.activation``); with
``--unit``, whether a draft of it may be created at that unit on that day, and if not, why. Loading
the registry checks the whole file, so this is also how a changed file is checked before it is put
in place (a running gateway picks it up within ``certificate_types_check_seconds``). Exit 1 when
CODE is not in the registry or the unit not in the directory.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from typing import Any

from cli.options import add_settings_options, settings_from
from cli.wiring import load_certificate_types
from domain.activation import ActivationState, Placement, activation_state, describe, placement_of
from domain.certificate_types import CertificateType
from domain.lifecycle import lock_days
from domain.values import HsaId, swedish_date
from store.directory import SqlDirectory
from store.migrate import upgrade
from store.session import make_engine, make_session_factory


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("types", help="the certificate types and their activation",
                                   description="Inspect the certificate type registry.")
    commands = parser.add_subparsers(dest="types_command", required=True, metavar="COMMAND")
    show = commands.add_parser("show", help="each type's activation, lock period and, for a unit, whether it is active",
                               description=__doc__)
    add_settings_options(show)
    show.add_argument("code", nargs="?", metavar="CODE", help="one type's code (default: every type)")
    show.add_argument("--unit", metavar="HSA", help="judge activation for this unit (from the directory)")
    show.add_argument("--on", type=date.fromisoformat, metavar="DATE", help="as of this Swedish date (default today)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=run_show)


def _placement(database_url: str, unit_id: str) -> Placement | None:
    """The unit, its parents and its care giver from the embedded directory, or None if unknown."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        directory = SqlDirectory(make_session_factory(engine))
        unit = directory.unit(HsaId(unit_id))
        if unit is None:
            return None
        parents: dict[HsaId, HsaId | None] = {unit.hsa_id: unit.parent}
        current = unit.parent
        while current is not None and current not in parents:
            above = directory.unit(current)
            parents[current] = above.parent if above is not None else None
            current = parents[current]
        return placement_of(unit.hsa_id, parents, unit.care_giver)
    finally:
        engine.dispose()


def _row(certificate_type: CertificateType, default_days: int, placement: Placement | None, day: date
         ) -> dict[str, Any]:
    activation = certificate_type.activation
    row: dict[str, Any] = {
        "code": certificate_type.code,
        "name": certificate_type.name,
        "recipient": certificate_type.recipient,
        "active": certificate_type.active,
        "activation": {
            "from": activation.starts.isoformat() if activation.starts else None,
            "to": activation.ends.isoformat() if activation.ends else None,
            "careGivers": sorted(c.value for c in activation.care_givers),
            "units": sorted(u.value for u in activation.units),
        },
        "rule": describe(certificate_type.active, activation),
        "draftLockDays": lock_days(certificate_type, default_days),
    }
    if placement is not None:
        row["state"] = activation_state(certificate_type.active, activation, placement, day).value
    return row


def run_show(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    registry = load_certificate_types(settings)
    types = list(registry)
    if args.code is not None:
        types = [t for t in types if t.code == args.code.strip()]
        if not types:
            print(f"intygsgateway: no certificate type {args.code.strip()!r} in the registry", file=sys.stderr)
            return 1
    day = args.on or swedish_date(datetime.now(UTC))
    placement = None
    if args.unit is not None:
        placement = _placement(settings.database_url, args.unit)
        if placement is None:
            print(f"intygsgateway: unit {args.unit.strip()} is not in the directory", file=sys.stderr)
            return 1
    rows = [_row(t, settings.draft_lock_days, placement, day) for t in types]
    if args.json:
        print(json.dumps({"on": day.isoformat(), "unit": args.unit, "types": rows}, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        lock = "never" if row["draftLockDays"] == 0 else f"{row['draftLockDays']} days"
        print(f"{row['code']}: {row['name']} -> {row['recipient']}; lock {lock}; {row['rule']}")
        if placement is not None:
            state = row["state"]
            verdict = "active" if state == ActivationState.ACTIVE.value else f"NOT active ({state})"
            print(f"  at {args.unit.strip()} on {day}: {verdict}")
    return 0
