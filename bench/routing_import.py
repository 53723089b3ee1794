"""Time ``routing import`` of a national-size TAK export, in both TAK JSON formats.

A synthetic export is written in the published-snapshot shape (relationships by numeric id) and in
the ``/export/pv`` shape (by natural key), with the field's quirks: every 50th route and access right
given twice, a conflicting route with overlapping validity every 500 addresses, expired rows and
mixed-case ids. Each is imported into a fresh database by the command itself (``intygsgateway
routing import``: read, validate, diff, publish, one transaction), best of ``--repeat`` runs, on
SQLite and, with ``--postgres``, on a throw-away PostgreSQL cluster. The baseline, measured in the
same run, is reading the same file with ``json.loads``: the floor for any import of it.

Run: ``.venv/bin/python bench/routing_import.py [--addresses 6000] [--contracts 3] [--repeat 3] [--postgres]``.
Figures on a shared or loaded machine are indicative only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text

from cli import main as cli_main
from tests.interop.tak import export_natural, snapshot_numeric, synthetic_catalogue
from tests.pgcluster import postgres_cluster


def _fresh_databases(folder: Path, postgres: str | None) -> Iterator[str]:
    """URLs of new, empty databases: SQLite files in ``folder``, or databases on the ``postgres`` server."""
    for number in itertools.count():
        if postgres is None:
            yield f"sqlite:///{folder / f'gw-{number}.db'}"
            continue
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE bench_{number}"))
        admin.dispose()
        yield postgres.rsplit("/", 1)[0] + f"/bench_{number}"


def _import(path: Path, url: str) -> float:
    """Seconds for one ``routing import`` into a freshly migrated database; the command must succeed."""
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["db", "upgrade", "--db", url]) == 0
        started = time.perf_counter()
        code = cli_main(["routing", "import", str(path), "--db", url, "--by", "bench"])
        elapsed = time.perf_counter() - started
    assert code == 0, f"routing import of {path.name} failed"
    return elapsed


def _read(path: Path) -> float:
    started = time.perf_counter()
    json.loads(path.read_text(encoding="utf-8"))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, default=6000, help="logical addresses (default 6000)")
    parser.add_argument("--contracts", type=int, default=3, help="contracts per address (default 3)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best counts")
    parser.add_argument("--postgres", action="store_true", help="also import into a throw-away PostgreSQL cluster")
    args = parser.parse_args()
    catalogue = synthetic_catalogue(args.addresses, args.contracts)
    documents: dict[str, dict[str, Any]] = {
        "TAK snapshot (numeric ids)": snapshot_numeric(catalogue),
        "TAK export (natural keys)": export_natural(catalogue),
    }
    print(f"{len(catalogue.routes)} vagval and {len(catalogue.rights)} anropsbehorighet rows per export "
          f"({args.addresses} addresses x {args.contracts} contracts, duplicates and conflicts included)")
    print(f"{'format':30} {'database':10} {'json.loads s':>13} {'import s':>10} {'import/read':>12}")
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        servers: dict[str, str | None] = {"SQLite": None}
        if args.postgres:
            servers["PostgreSQL"] = stack.enter_context(postgres_cluster())
        for database, server in servers.items():
            urls = _fresh_databases(Path(folder), server)
            for name, document in documents.items():
                path = Path(folder) / "export.json"
                path.write_text(json.dumps(document), encoding="utf-8")
                read = min(_read(path) for _ in range(args.repeat))
                imported = min(_import(path, next(urls)) for _ in range(args.repeat))
                print(f"{name:30} {database:10} {read:13.3f} {imported:10.3f} {imported / read:12.1f}")


if __name__ == "__main__":
    main()
