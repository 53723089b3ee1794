"""``intygsgateway units show HSA_ID``: one care unit's integration and routing status, for support.

Prints when the unit was integrated, its care giver, its HSA parents, and for every contract in the
catalogue (and always CertificateStatusUpdateForCare v3) where a call for the unit would be routed
and which consumers may call for it. Exit 1 when the unit is not integrated.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from typing import Any

from cli.options import add_settings_options, settings_from
from contracts.ns import STATUS_UPDATE_V3
from domain.values import HsaId, swedish_date
from routing import Catalogue, RoutingError
from routing.catalogue import normalise
from store import routing as store
from store.migrate import open_existing
from store.session import make_session_factory, transaction
from store.units import get_integrated_unit


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("units", help="integrated care units", description="Inspect integrated units.")
    commands = parser.add_subparsers(dest="units_command", required=True, metavar="COMMAND")
    show = commands.add_parser("show", help="a unit's integration date, care giver, routes and access rights",
                               description=__doc__)
    add_settings_options(show)
    show.add_argument("hsa_id", metavar="HSA_ID")
    show.add_argument("--on", type=date.fromisoformat, metavar="DATE", help="as of DATE (default today)")
    show.set_defaults(run=run_show)


def run_show(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    engine = open_existing(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            unit = get_integrated_unit(session, HsaId(args.hsa_id))
            catalogue = store.load_catalogue(session)
    finally:
        engine.dispose()
    if unit is None:
        print(f"{args.hsa_id.strip()}: not integrated (no draft created through CreateDraftCertificate)")
        return 1
    on = args.on or swedish_date(datetime.now(UTC))
    print(f"unit: {unit.unit}")
    print(f"integrated: {unit.first_seen:%Y-%m-%d %H:%M:%S}Z (last draft {unit.last_seen:%Y-%m-%d %H:%M:%S}Z)")
    print(f"care giver: {unit.care_giver}")
    print("HSA parents: " + (" > ".join(_ancestors(catalogue, unit.unit.value)) or "-"))
    for contract in _contracts(catalogue):
        print(f"{contract}:")
        print(f"  route: {_route_status(catalogue, contract, unit.unit.value, on)}")
        print(f"  access: {_access_status(catalogue, contract, unit.unit.value, on)}")
    print(f"catalogue version {catalogue.version}, as of {on}")
    return 0


def _ancestors(catalogue: Catalogue, hsa_id: str) -> list[str]:
    chain: list[str] = []
    parent = catalogue.parent_of(hsa_id)
    while parent and normalise(parent) not in {normalise(p) for p in chain} and len(chain) < 32:
        chain.append(parent)
        parent = catalogue.parent_of(parent)
    return chain


def _contracts(catalogue: Catalogue) -> list[str]:
    named = {normalise(c): c for c in (*(r.contract for r in catalogue.routes()),
                                         *(r.contract for r in catalogue.rights()))}
    named.setdefault(normalise(STATUS_UPDATE_V3), STATUS_UPDATE_V3)
    return sorted(named.values(), key=normalise)


def _route_status(catalogue: Catalogue, contract: str, unit: str, on: date) -> str:
    try:
        found = catalogue.resolve(contract, unit, on)
    except RoutingError as error:
        return error.describe()
    return f"{found.route.url} via {','.join(found.trace)} (valid to {found.route.valid_to})"


def _access_status(catalogue: Catalogue, contract: str, unit: str, on: date) -> str:
    consumers = sorted({r.consumer for r in catalogue.rights() if normalise(r.contract) == normalise(contract)},
                       key=normalise)
    allowed = []
    for consumer in consumers:
        try:
            allowed.append(f"{consumer} via {','.join(catalogue.check_access(consumer, contract, unit, on))}")
        except RoutingError:
            continue
    return "; ".join(allowed) if allowed else "no consumer may call for this unit"
