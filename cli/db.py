"""``intygsgateway db upgrade|check``: database migrations (Alembic).

``db upgrade`` (and ``serve``) are the only commands that create a schema; ``db check`` looks without
touching: on an empty, foreign, unreachable or un-migrated database it says what it found and how to
fix it, and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli.db_transport import PACED_ADVICE, paced_database
from cli.options import add_settings_options, settings_from
from store.migrate import check, require_schema, upgrade
from store.roles import grant_roles


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="database migrations", description="Manage the database schema.")
    commands = parser.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    up = commands.add_parser(
        "upgrade",
        help="apply every pending migration",
        description="Create the schema in an empty database, or bring it to the newest version. Safe to run "
        "repeatedly; `serve` runs it on start. Refuses a database that holds another application's tables or "
        "a newer release's schema.",
    )
    add_settings_options(up)
    up.add_argument("--with-roles", action="store_true",
                    help="PostgreSQL: also create the roles under which the application may only append to the "
                    "PDL log (intygsgateway_app, intygsgateway_pdl_purge, intygsgateway_pdl_audit) "
                    "and grant their rights")
    up.set_defaults(run=run_upgrade)
    chk = commands.add_parser(
        "check",
        help="fail if the database lacks this version's schema, or the models and the migrations differ",
        description="Check, changing nothing, that the database holds this version's schema (exit 1 naming "
        "the problem and the fix when it is empty, another application's, unreachable or at another "
        "revision), then compare the models with it (exit 1 when a migration is missing).",
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
    require_schema(settings.database_url)
    check(settings.database_url)
    print("models and migrations agree")
    if paced_database(settings.database_url):
        print(f"note: {PACED_ADVICE}")
    return 0
