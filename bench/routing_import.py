"""Time ``routing import`` of a national-size TAK export, in both TAK JSON formats.

A synthetic export is written in the published-snapshot shape (relationships by numeric id) and in
the ``/export/pv`` shape (by natural key), with the field's quirks: every 50th route and access right
given twice, a conflicting route with overlapping validity every 500 addresses, expired rows and
mixed-case ids. Each is imported into a fresh SQLite database by the command itself
(``intygsgateway routing import``: read, validate, diff, publish, one transaction), best of
``--repeat`` runs. The baseline, measured in the same run, is reading the same file with
``json.loads``: the floor for any import of it.

Run: ``.venv/bin/python bench/routing_import.py [--addresses 6000] [--contracts 3] [--repeat 3]``.
Figures on a shared or loaded machine are indicative only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli import main as cli_main
from tests.interop.tak import export_natural, snapshot_numeric, synthetic_catalogue


def _import(path: Path, db: Path) -> float:
    """Seconds for one ``routing import`` into a freshly migrated database; the command must succeed."""
    url = f"sqlite:///{db}"
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
    args = parser.parse_args()
    catalogue = synthetic_catalogue(args.addresses, args.contracts)
    documents: dict[str, dict[str, Any]] = {
        "TAK snapshot (numeric ids)": snapshot_numeric(catalogue),
        "TAK export (natural keys)": export_natural(catalogue),
    }
    print(f"{len(catalogue.routes)} vagval and {len(catalogue.rights)} anropsbehorighet rows per export "
          f"({args.addresses} addresses x {args.contracts} contracts, duplicates and conflicts included)")
    print(f"{'format':30} {'json.loads s':>13} {'import s':>10} {'import/read':>12}")
    with tempfile.TemporaryDirectory() as folder:
        for name, document in documents.items():
            path = Path(folder) / "export.json"
            path.write_text(json.dumps(document), encoding="utf-8")
            read = min(_read(path) for _ in range(args.repeat))
            imported = min(_import(path, Path(folder) / f"gw-{run}.db") for run in range(args.repeat))
            print(f"{name:30} {read:13.3f} {imported:10.3f} {imported / read:12.1f}")


if __name__ == "__main__":
    main()
