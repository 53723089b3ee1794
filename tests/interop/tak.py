"""TAK exports as the national platform writes them, built from a plain description of the rows.

Both JSON shapes of ``routing-and-resend.md`` A1: the published snapshot (``PubVersion.data``,
relationships by numeric id, ``logiskadress`` in a route but ``logiskAdress`` in an access right) and
the ``/export/pv`` export (relationships by natural key). Dates are written as TAK writes them,
``yyyy-MM-dd'T'HH:mm:ssZ`` at local midnight. Entities (contracts, components, addresses, endpoints)
appear once each, as TAK's unique keys make them; routes and access rights appear as listed, so a row
listed twice is the exact duplicate TAK's own database allows. Descriptions (``beskrivning``) and
agreement texts (``integrationsavtal``) are free text with spaces, as in the field.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

STATUS_UPDATE = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3"
SEND_MESSAGE = "urn:riv:clinicalprocess:healthcond:certificate:SendMessageToCareResponder:2"
CREATE_DRAFT = "urn:riv:clinicalprocess:healthcond:certificate:CreateDraftCertificateResponder:3"
STORE_LOG = "urn:riv:informationsecurity:auditing:log:StoreLogResponder:2"
FOREVER = "2126-01-01"


@dataclass(frozen=True, slots=True)
class TakRoute:
    """A vagval with its anropsadress: contract + logical address -> URL of a producer, with validity."""

    contract: str
    address: str
    url: str
    producer: str
    valid_from: str = "2026-01-01"
    valid_to: str = FOREVER
    profile: str = "RIVTABP21"


@dataclass(frozen=True, slots=True)
class TakRight:
    """An anropsbehorighet: consumer may call contract for logical address, with validity."""

    consumer: str
    contract: str
    address: str
    valid_from: str = "2026-01-01"
    valid_to: str = FOREVER


@dataclass
class TakCatalogue:
    """The rows of an export, in order; a row listed twice is written twice."""

    routes: list[TakRoute] = field(default_factory=list)
    rights: list[TakRight] = field(default_factory=list)


def tak_date(day: str) -> str:
    """A date as TAK writes it: local midnight with a numeric offset (winter time here)."""
    return f"{day}T00:00:00+0100"


class _Entities:
    """TAK's entity tables: each natural key once, numbered in order of first use."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Hashable, dict[str, Any]]] = {}
        self._next = 1

    def get(self, table: str, key: Hashable, make: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
        rows = self.tables.setdefault(table, {})
        if key not in rows:
            rows[key] = make(self._next)
            self._next += 1
        return rows[key]

    def list(self, table: str) -> list[dict[str, Any]]:
        return list(self.tables.get(table, {}).values())


def _build(catalogue: TakCatalogue, natural: bool) -> dict[str, Any]:
    entities = _Entities()

    def contract(namespace: str) -> dict[str, Any]:
        major = int(namespace.rsplit(":", 1)[-1].split(".")[0])
        return entities.get("tjanstekontrakt", namespace.casefold(), lambda n: {
            "id": n, "namnrymd": namespace, "beskrivning": f"Tjänstekontrakt  {namespace.rsplit(':', 2)[-2]}",
            "majorVersion": major, "minorVersion": 0, "pubversion": "12"})

    def component(hsa_id: str) -> dict[str, Any]:
        return entities.get("tjanstekomponent", hsa_id.casefold(), lambda n: {
            "id": n, "hsaId": hsa_id, "beskrivning": f"Journalsystem  Region\tDemo ({hsa_id})", "pubversion": "12"})

    def address(hsa_id: str) -> dict[str, Any]:
        # Distinct spellings stay distinct entities: the export holds what TAK's rows hold.
        return entities.get("logiskadress", hsa_id, lambda n: {
            "id": n, "hsaId": hsa_id, "beskrivning": f"Vårdenhet {n}  (mottagning)", "pubversion": "12"})

    def profile(name: str) -> dict[str, Any]:
        return entities.get("rivtaprofil", name.upper(), lambda n: {
            "id": n, "namn": name, "beskrivning": "RIV Teknisk Anvisning Basic Profile", "pubversion": "12"})

    def endpoint(route: TakRoute) -> dict[str, Any]:
        def make(n: int) -> dict[str, Any]:
            rivta, producer = profile(route.profile), component(route.producer)
            rel = ({"rivtaprofil": rivta["namn"], "tjanstekomponent": producer["hsaId"]} if natural
                   else {"rivtaprofil": rivta["id"], "tjanstekomponent": producer["id"]})
            return {"id": n, "adress": route.url, "pubversion": "12", "relationships": rel}

        return entities.get("anropsadress", (route.url, route.producer.casefold(), route.profile.upper()), make)

    vagval: list[dict[str, Any]] = []
    for route in catalogue.routes:
        target, where, what = endpoint(route), address(route.address), contract(route.contract)
        keys = ("adress", "hsaId", "namnrymd") if natural else ("id", "id", "id")
        rel = {"anropsadress": target[keys[0]], "logiskadress": where[keys[1]], "tjanstekontrakt": what[keys[2]]}
        vagval.append({"id": 100_000 + len(vagval), "fromTidpunkt": tak_date(route.valid_from),
                       "tomTidpunkt": tak_date(route.valid_to), "pubversion": "12", "relationships": rel})
    rights: list[dict[str, Any]] = []
    for right in catalogue.rights:
        who, where, what = component(right.consumer), address(right.address), contract(right.contract)
        if natural:
            rel = {"logiskAdress": where["hsaId"], "tjanstekonsument": who["hsaId"],
                   "tjanstekontrakt": what["namnrymd"]}
        else:
            rel = {"logiskAdress": where["id"], "tjanstekomponent": who["id"], "tjanstekontrakt": what["id"]}
        rights.append({"id": 200_000 + len(rights), "integrationsavtal": "AUTOTAKNING  (beställning 2026-01)",
                       "fromTidpunkt": tak_date(right.valid_from), "tomTidpunkt": tak_date(right.valid_to),
                       "pubversion": "12", "relationships": rel})
    data: dict[str, Any] = {name: entities.list(name) for name in
                            ("rivtaprofil", "tjanstekontrakt", "logiskadress", "tjanstekomponent", "anropsadress")}
    data.update(vagval=vagval, anropsbehorighet=rights, filter=[], filtercategorization=[])
    return {"formatVersion": "1", "version": "12", "tidpunkt": "2026-11-20T01:00:00+0100", "utforare": "tak-admin",
            "kommentar": "Publicerad  version", "data": data}


def snapshot_numeric(catalogue: TakCatalogue) -> dict[str, Any]:
    """The published snapshot (``PubVersion.data``): relationships by numeric id."""
    return _build(catalogue, natural=False)


def export_natural(catalogue: TakCatalogue) -> dict[str, Any]:
    """The ``/export/pv`` export: relationships by natural key (HSA-id, URL, namespace, profile name)."""
    return _build(catalogue, natural=True)


def synthetic_catalogue(addresses: int, contracts: int) -> TakCatalogue:
    """A national-size catalogue with the field's quirks, for the import benchmark.

    ``addresses`` logical addresses, each routed for ``contracts`` contracts to one of 40 journal
    systems, with an access right per route; every 50th route and right given twice, a conflicting
    route (another URL, overlapping validity) every 500 addresses, every 100th row expired, and every
    7th address spelt in lower case in its access right.
    """
    namespaces = [STATUS_UPDATE, SEND_MESSAGE, CREATE_DRAFT, STORE_LOG, *(
        f"urn:riv:clinicalprocess:activity:Contract{n}Responder:1" for n in range(max(0, contracts - 4)))][:contracts]
    catalogue = TakCatalogue()
    for n in range(addresses):
        unit = f"SE{2321000016 + n // 1000}-{n % 1000:04d}"
        producer = f"SE5565594230-J{n % 40:03d}"
        for i, namespace in enumerate(namespaces):
            row = len(catalogue.routes)
            valid_to = "2025-12-31" if row % 100 == 99 else FOREVER
            route = TakRoute(namespace, unit, f"https://journal{n % 40}.example/{i}/rivtabp21", producer,
                             valid_to=valid_to, valid_from="2024-01-01" if valid_to != FOREVER else "2026-01-01")
            right = TakRight("SE5565594230-B31", namespace, unit.lower() if n % 7 == 0 else unit)
            catalogue.routes.append(route)
            catalogue.rights.append(right)
            if row % 50 == 0:
                catalogue.routes.append(route)
                catalogue.rights.append(right)
        if n % 500 == 0:
            catalogue.routes.append(TakRoute(STATUS_UPDATE, unit, "https://other.example/csu", "SE5565594230-J999",
                                             valid_from="2026-12-01", valid_to="2026-12-31"))
    return catalogue


JOURNAL = "SE2321000016-J001"
JOURNAL_URL = "https://journal.region.example/csu/rivtabp21"
OTHER_URL = "https://nytt-journalsystem.region.example/csu/rivtabp21"
CONFLICT_FROM, CONFLICT_TO = "2026-12-01", "2026-12-31"
INTYGSTJANSTEN = "SE5565594230-B31"


def field_catalogue(journal_url: str = JOURNAL_URL, other_url: str = OTHER_URL) -> TakCatalogue:
    """A small export with the quirks of real ones (routing-and-resend.md A1); the URLs may be changed.

    * the status-update route of SE2321000016-1000 twice, exactly (TAK's database allows it);
    * a second route for that key to another journal system during December 2026 (a migration
      planned in TAK): VP006 on those days, the first route on every other;
    * SE2321000016-1003's route twice, once with the HSA-id in lower case and the profile as
      ``rivtabp21``: the same row after normalisation;
    * an expired route for SE2321000016-2000 beside its current one;
    * Intygstjänsten's right to call SendMessageToCare for ``*`` twice, and a journal system's right
      to call CreateDraftCertificate for its unit;
    * descriptions and agreement texts with spaces and tabs (``beskrivning``, ``integrationsavtal``).
    """
    first = TakRoute(STATUS_UPDATE, "SE2321000016-1000", journal_url, JOURNAL)
    sub_unit = TakRoute(STATUS_UPDATE, "SE2321000016-1003", journal_url, JOURNAL)
    send_message = TakRight(INTYGSTJANSTEN, SEND_MESSAGE, "*")
    return TakCatalogue(
        routes=[
            first,
            first,
            TakRoute(STATUS_UPDATE, "SE2321000016-1000", other_url, "SE2321000016-J002", CONFLICT_FROM, CONFLICT_TO),
            sub_unit,
            TakRoute(STATUS_UPDATE, "se2321000016-1003", journal_url, JOURNAL, profile="rivtabp21"),
            TakRoute(STATUS_UPDATE, "SE2321000016-2000", journal_url, JOURNAL, "2024-01-01", "2025-12-31"),
            TakRoute(STATUS_UPDATE, "SE2321000016-2000", other_url, "SE2321000016-J002", "2026-01-01"),
        ],
        rights=[send_message, send_message, TakRight(JOURNAL, CREATE_DRAFT, "SE2321000016-1000")],
    )
