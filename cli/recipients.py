"""``intygsgateway recipients list``: the recipients certificates may be sent to.

Prints the registry the gateway serves with (``recipients_file``, or the built-in one): each
recipient's part code, name, logical address, whether it is active and the certificate types it
takes, and where onward calls about it go (``onward_target``: the recipient itself, or the archive).
Loading the registry checks the whole file, so this is also how a changed file is checked before it
is put in place (a running gateway reads it at start).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from cli.options import add_settings_options, settings_from
from cli.wiring import onward_config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("recipients", help="the recipients certificates are sent to",
                                   description="Inspect the recipient registry.")
    commands = parser.add_subparsers(dest="recipients_command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="each recipient: id, name, logical address, types, active",
                                  description=__doc__)
    add_settings_options(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_list)


def run_list(args: argparse.Namespace) -> int:
    config = onward_config(settings_from(args))
    rows: list[dict[str, Any]] = [{
        "id": recipient.id, "name": recipient.name, "logicalAddress": recipient.logical_address,
        "active": recipient.active, "certificateTypes": sorted(recipient.certificate_types),
        "callsGoTo": config.destination_of(recipient),
    } for recipient in config.recipients]
    if args.json:
        print(json.dumps({"onwardTarget": config.target.value, "archiveLogicalAddress": config.archive_address,
                          "recipients": rows}, ensure_ascii=False, indent=2))
        return 0
    print(f"onward_target {config.target.value}" + (f" (archive {config.archive_address})"
                                                     if config.target.value == "archive" else ""))
    print(f"  {'ID':<10} {'LOGICAL ADDRESS':<16} {'ACTIVE':<7} {'CALLS GO TO':<16} NAME / TYPES")
    for row in rows:
        print(f"  {row['id']:<10} {row['logicalAddress']:<16} {'yes' if row['active'] else 'no':<7} "
              f"{row['callsGoTo']:<16} {row['name']}")
        print(f"  {'':<10} {'':<16} {'':<7} {'':<16} {', '.join(row['certificateTypes'])}")
    return 0
