"""The ``intygsgateway`` command: reads settings, wires the parts together, prints.

Each command group is a small module with ``register(subparsers)``; ``main`` builds the parser from
them. Nothing imports ``cli``: this is where the packages are put together. Exit codes: 0 success,
1 failure, 2 usage error; errors go to stderr on one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cli import (
    caregiver,
    certificate,
    db,
    dev_pki,
    directory,
    mock_journal,
    mock_recipient,
    outbox,
    pdl,
    recipients,
    routing,
    serve,
    tls,
    types,
    units,
    worker,
)
from cli.settings import SettingsError
from store.errors import DatabaseUnavailable, SchemaNotReady

COMMAND_GROUPS = (serve, db, directory, dev_pki, tls, routing, units, worker, outbox, mock_journal, mock_recipient,
                  pdl, certificate, types, recipients, caregiver)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intygsgateway",
        description="SOAP/RIVTA integration gateway for Swedish electronic medical certificates.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as exc:
        print(f"intygsgateway: {exc}", file=sys.stderr)
        return 2
    except (DatabaseUnavailable, SchemaNotReady) as exc:  # their text names the URL, the cause and the fix
        print(f"intygsgateway: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI edge: one line, no stack trace for the operator
        print(f"intygsgateway: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
