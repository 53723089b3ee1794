"""``intygsgateway db upgrade|check``: database migrations (Alembic)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli.options import add_settings_options, settings_from
from store.migrate import check, upgrade
from store.roles import grant_roles


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="database migrations", description="Manage the database schema.")
    commands = parser.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    up = commands.add_parser(
        "upgrade",
        help="apply every pending migration",
        description="Bring the database schema to the newest version. Safe to run repeatedly; "
        "`serve` runs it on start.",
    )
    add_settings_options(up)
    up.add_argument("--with-roles", action="store_true",
                    help="PostgreSQL: also create the roles under which the application may only append to the "
                    "PDL log (intygsgateway_app, intygsgateway_pdl_purge, intygsgateway_pdl_audit) "
                    "and grant their rights")
    up.set_defaults(run=run_upgrade)
    chk = commands.add_parser(
        "check",
        help="fail if the code's models and the migrations differ",
        description="Compare the models with the migrated schema; exit 1 when a migration is missing.",
    )
    add_settings_options(chk)
    chk.set_defaults(run=run_check)


def run_upgrade(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    upgrade(settings.database_url)
    print("database is at the newest schema version")
    if args.with_roles:
        try:
            roles = grant_roles(settings.database_url)
        except ValueError as error:
            print(f"intygsgateway: {error}", file=sys.stderr)
            return 2
        print(f"roles granted: {', '.join(roles)}; grant them to login users, e.g. GRANT {roles[0]} TO gateway_login")
    return 0


def run_check(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    upgrade(settings.database_url)
    check(settings.database_url)
    print("models and migrations agree")
    return 0
