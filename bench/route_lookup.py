"""Benchmark: routing resolution over 100,000 routes beside plain dict lookups, and a TAK import.

Run by hand (never collected by pytest), from the project root with the virtualenv's Python:

    .venv/bin/python bench/routing.py [--routes 100000] [--lookups 200000] [--import-rows 10000] [--db URL]

Part 1 builds a catalogue of ``--routes`` routes over an HSA tree (care giver > unit > sub-unit >
sub-sub-unit) and times, in the same run:

* the baseline: a plain ``dict`` keyed by (contract, logical address) holding the URL, looked up
  with the same keys in the same loop;
* exact hits (the unit's own route);
* 3-level climbs (a sub-sub-unit whose route sits on the care giver three levels up);
* ``*`` fallbacks (a unit of a care giver without routes: the whole chain up to SE, then ``*``).

It prints resolutions per second, the ratio to the baseline (target: exact hits within 5x), and the
memory the snapshot takes per route (tracemalloc, routes and indexes included).

Part 2 writes a TAK export (natural keys) with ``--import-rows`` routes and as many access rights
and times ``intygsgateway routing import`` into a fresh SQLite file (or ``--db``) (target: under
10 s), then a dry run of a changed export, and the rebuild of a process's snapshot from the tables.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contracts.ns import STATUS_UPDATE_V3 as NS
from routing import Catalogue, Route

TODAY = date(2026, 11, 21)
UNITS_PER_CARE_GIVER = 100


def tree(care_givers: int) -> tuple[dict[str, str], list[tuple[str, str, str, str]]]:
    """Parents and (care giver, unit, sub-unit, sub-sub-unit) chains, one per unit."""
    parents: dict[str, str] = {}
    chains = []
    for g in range(care_givers):
        care_giver = f"SE{g:010d}-0001"
        for u in range(UNITS_PER_CARE_GIVER):
            unit, sub, leaf = f"SE{g:010d}-U{u:03d}", f"SE{g:010d}-S{u:03d}", f"SE{g:010d}-L{u:03d}"
            parents.update({unit: care_giver, sub: unit, leaf: sub})
            chains.append((care_giver, unit, sub, leaf))
    return parents, chains


def build_routes(count: int) -> tuple[list[Route], dict[str, str], list[str], list[str], list[str]]:
    """``count`` routes: every unit of the first care givers, the care givers, and ``*``."""
    care_givers = count // UNITS_PER_CARE_GIVER + 2
    parents, chains = tree(care_givers)
    with_units = chains[: count - care_givers]
    routes = [Route(NS, unit, f"https://journal-{i % 50}.example/csu/{unit}", "SE-PRODUCER")
              for i, (_cg, unit, _sub, _leaf) in enumerate(with_units)]
    routes += [Route(NS, f"SE{g:010d}-0001", f"https://cg-{g}.example/csu", "SE-PRODUCER")
               for g in range(care_givers - 1)]
    routes.append(Route(NS, "*", "https://default.example/csu", "SE-PRODUCER"))
    exact = [unit for _cg, unit, _sub, _leaf in with_units]
    # a leaf under a unit without its own route climbs leaf > sub > unit > care giver: three levels
    without_routes = f"SE{care_givers - 1:010d}-0001"  # the last care giver: no route anywhere below it
    climbs = [leaf for cg, _unit, _sub, leaf in chains[len(with_units):] if cg != without_routes]
    fallbacks = [leaf for cg, _unit, _sub, leaf in chains if cg == without_routes]
    return routes, parents, exact, climbs, fallbacks


def rates(runs: dict[str, tuple[Callable[[Sequence[str]], None], Sequence[str]]], rounds: int = 5) -> dict[str, float]:
    """Operations per second of each run, the best of ``rounds`` interleaved passes.

    Interleaving puts the baseline and the measured runs through the same moments of a shared,
    noisy machine, so their ratio holds even when the absolute figures wander.
    """
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, (run, keys) in runs.items():
            start = time.perf_counter()
            run(keys)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(runs[name][1]) / seconds for name, seconds in best.items()}


def bench_resolution(route_count: int, lookups: int) -> None:
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    routes, parents, exact, climbs, fallbacks = build_routes(route_count)
    catalogue = Catalogue(routes, parents=parents)
    per_route = (tracemalloc.get_traced_memory()[0] - before) / len(routes)
    tracemalloc.stop()
    table = {(r.contract, r.logical_address): r.url for r in routes}
    sample = random.Random(5)

    def keys(pool: list[str]) -> list[str]:
        return [sample.choice(pool) for _ in range(lookups)]

    exact_keys, climb_keys, fallback_keys = keys(exact), keys(climbs), keys(fallbacks)
    resolve = catalogue.resolve
    assert resolve(NS, climb_keys[0], TODAY).trace[-1].endswith("-0001")
    assert resolve(NS, fallback_keys[0], TODAY).trace[-1] == "*"

    def baseline(pool: Sequence[str]) -> None:
        for address in pool:
            table[(NS, address)]

    def resolved(pool: Sequence[str]) -> None:
        for address in pool:
            resolve(NS, address, TODAY)

    measured = rates({"baseline dict lookup": (baseline, exact_keys), "exact hit": (resolved, exact_keys),
                      "3-level climb": (resolved, climb_keys),
                      "* fallback (climb to SE, then *)": (resolved, fallback_keys)})
    base = measured.pop("baseline dict lookup")
    print(f"catalogue: {len(routes):,} routes, {len(parents):,} HSA nodes; snapshot memory "
          f"{per_route:,.0f} bytes per route (includes the Route objects)")
    print(f"{'baseline dict lookup':<34}{base:>14,.0f} /s")
    for name, per_second in measured.items():
        print(f"{name:<34}{per_second:>14,.0f} /s   {base / per_second:5.1f}x slower than the baseline")


def tak_export(rows: int, url_suffix: str = "") -> dict[str, object]:
    """A TAK export (natural keys) with ``rows`` routes and ``rows`` access rights."""
    addresses = [f"SE{i:010d}-1000" for i in range(rows)]
    endpoints = [{"id": i, "adress": f"https://journal-{i}.example/csu{url_suffix}",
                  "relationships": {"rivtaprofil": "rivtabp21", "tjanstekomponent": f"SE-PRODUCER-{i}"}}
                 for i in range(50)]
    window = {"fromTidpunkt": "2026-01-01T00:00:00+0100", "tomTidpunkt": "2126-01-01T00:00:00+0100"}
    return {"formatVersion": "1", "version": "1", "data": {
        "tjanstekontrakt": [{"id": 1, "namnrymd": NS}],
        "rivtaprofil": [{"id": 1, "namn": "rivtabp21"}],
        "anropsadress": endpoints,
        "vagval": [{"id": i, **window, "relationships": {
            "anropsadress": endpoints[i % 50]["adress"], "logiskAdress": address, "tjanstekontrakt": NS}}
            for i, address in enumerate(addresses)],
        "anropsbehorighet": [{"id": i, **window, "relationships": {
            "logiskAdress": address, "tjanstekonsument": f"SE-CONSUMER-{i % 20}", "tjanstekontrakt": NS}}
            for i, address in enumerate(addresses)],
    }}


def timed(argv: list[str]) -> tuple[float, int, str]:
    from cli import main

    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return time.perf_counter() - start, code, out.getvalue()


def bench_import(rows: int, db: str | None) -> None:
    from store import routing as store
    from store.session import make_engine, make_session_factory, transaction

    with tempfile.TemporaryDirectory() as folder:
        url = db or f"sqlite:///{folder}/bench.db"
        first, changed = Path(folder) / "tak.json", Path(folder) / "tak2.json"
        first.write_text(json.dumps(tak_export(rows)), encoding="utf-8")
        document = tak_export(rows)
        data = document["data"]
        assert isinstance(data, dict)
        data["vagval"] = data["vagval"][: rows - rows // 10]  # a tenth of the routes gone
        changed.write_text(json.dumps(document), encoding="utf-8")
        timed(["db", "upgrade", "--db", url])
        seconds, code, out = timed(["routing", "import", str(first), "--db", url, "--by", "bench", "--force"])
        assert code == 0, out
        print(f"import of a TAK export with {rows:,} routes + {rows:,} access rights: {seconds:.2f} s "
              f"(target < 10 s) -> {out.strip().splitlines()[-1]}")
        seconds, code, out = timed(["routing", "import", str(changed), "--db", url, "--dry-run", "--show", "0"])
        removed = next(line for line in out.splitlines() if line.startswith("routes removed"))
        print(f"dry run of a changed export: {seconds:.2f} s ({removed})")
        engine = make_engine(url)
        try:
            start = time.perf_counter()
            with transaction(make_session_factory(engine)) as session:
                catalogue = store.load_catalogue(session)
            print(f"snapshot rebuild from the tables: {time.perf_counter() - start:.2f} s "
                  f"({catalogue.route_count:,} routes, {catalogue.right_count:,} rights)")
        finally:
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--db", help="database URL for the import part (default: a throw-away SQLite file)")
    args = parser.parse_args()
    bench_resolution(args.routes, args.lookups)
    bench_import(args.import_rows, args.db)


if __name__ == "__main__":
    main()
