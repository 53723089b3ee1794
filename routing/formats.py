"""Catalogue file formats in and out: TAK's two JSON exports and our own JSON and CSV.

Reading a file is the caller's job; these functions take parsed JSON (or CSV text) and return
``CatalogueContent`` plus the findings that make rows unreadable. Supported:

* **TAK published snapshot** (``PubVersion.data``): ``data.{tjanstekontrakt, logiskadress,
  tjanstekomponent, rivtaprofil, anropsadress, vagval, anropsbehorighet}``, relationships by
  numeric ``id``.
* **TAK export** (``/export/pv``): the same envelope with relationships by natural key (logical
  address HSA-id, endpoint URL, contract namespace, consumer HSA-id, profile name, producer HSA-id).
* **our JSON** (``"format": "intygsgateway-routing/1"``) and **our CSV**, described in
  docs/routing-format.md; ``dump_json`` writes the JSON, which is also what a catalogue version keeps.

TAK dates look like ``2009-03-10T00:00:00+0100``: a stored calendar date written at local midnight,
so the date is the first ten characters. Filters (service domains) are not used for routing and are
ignored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.spreadsheet import neutralise_row, restore
from routing.catalogue import DEFAULT_PROFILE, AccessRight, Route, normalise
from routing.content import CatalogueContent
from routing.validate import Finding, FindingKind

OWN_FORMAT = "intygsgateway-routing/1"
CSV_COLUMNS = ("kind", "contract", "logicalAddress", "url", "producer", "profile", "consumer", "from", "to",
               "connectTimeoutSeconds", "readTimeoutSeconds")


class FormatError(Exception):
    """The document is none of the formats we read (not a row-level problem)."""


@dataclass
class Parsed:
    """What a source held, in which format, and the rows that could not be read."""

    format: str
    content: CatalogueContent
    findings: list[Finding] = field(default_factory=list)


def parse_json(document: Any) -> Parsed:
    """Read a parsed JSON document in any of the three JSON formats."""
    if isinstance(document, Mapping) and document.get("format") == OWN_FORMAT:
        return _read_own(document)
    if isinstance(document, Mapping) and isinstance(document.get("data"), Mapping):
        return _read_tak(document["data"])
    raise FormatError("neither a TAK export (no 'data' object) nor our format (no 'format': "
                      f"'{OWN_FORMAT}')")


# -- TAK ----------------------------------------------------------------------------------------------

class _Rows:
    """TAK's entity arrays with lookups by id or by natural key, collecting what does not resolve."""

    def __init__(self, data: Mapping[str, Any], findings: list[Finding]) -> None:
        self.data = data
        self.findings = findings

    def items(self, name: str) -> list[Mapping[str, Any]]:
        value = self.data.get(name) or []
        if not isinstance(value, list):
            self.findings.append(Finding(FindingKind.MALFORMED, f"data.{name}", "is not an array"))
            return []
        return [row for row in value if isinstance(row, Mapping)]

    def by_id(self, name: str, field_name: str) -> dict[Any, str]:
        return {row.get("id"): str(row.get(field_name) or "") for row in self.items(name)}


def _read_tak(data: Mapping[str, Any]) -> Parsed:
    findings: list[Finding] = []
    rows = _Rows(data, findings)
    contracts = rows.by_id("tjanstekontrakt", "namnrymd")
    addresses = rows.by_id("logiskadress", "hsaId")
    components = rows.by_id("tjanstekomponent", "hsaId")
    profiles = rows.by_id("rivtaprofil", "namn")
    numeric = _uses_numeric_ids(rows)

    def ref(table: Mapping[Any, str], value: Any, where: str, what: str) -> str | None:
        if numeric:
            found = table.get(value)
        else:
            found = value.strip() or None if isinstance(value, str) else None
        if found is None:
            _dangling(where, what)
        return found

    def _dangling(where: str, what: str) -> None:
        findings.append(Finding(FindingKind.DANGLING, where, f"{what} refers to nothing"))

    endpoints: dict[Any, tuple[str, str | None, str]] = {}  # id or URL -> (url, producer, profile)
    for i, row in enumerate(rows.items("anropsadress")):
        where = f"anropsadress[{i}]"
        rel = row.get("relationships") or {}
        profile = ref(profiles, rel.get("rivtaprofil"), where, "rivtaprofil") or DEFAULT_PROFILE
        producer = ref(components, rel.get("tjanstekomponent"), where, "tjanstekomponent")
        url = str(row.get("adress") or "")
        endpoints[row.get("id") if numeric else url] = (url, producer, profile.strip().upper())

    routes = []
    for i, row in enumerate(rows.items("vagval")):
        where = f"vagval[{i}]"
        rel = row.get("relationships") or {}
        contract = ref(contracts, rel.get("tjanstekontrakt"), where, "tjanstekontrakt")
        address = ref(addresses, rel.get("logiskadress", rel.get("logiskAdress")), where, "logiskadress")
        endpoint_ref = rel.get("anropsadress")
        endpoint = endpoints.get(endpoint_ref)
        if endpoint is None:
            _dangling(where, "anropsadress")
        window = _window(row.get("fromTidpunkt"), row.get("tomTidpunkt"), where, findings)
        if contract is None or address is None or endpoint is None or window is None:
            continue
        url, producer, profile = endpoint
        routes.append(Route(contract, address.strip(), url, producer, profile, *window))

    rights = []
    for i, row in enumerate(rows.items("anropsbehorighet")):
        where = f"anropsbehorighet[{i}]"
        rel = row.get("relationships") or {}
        contract = ref(contracts, rel.get("tjanstekontrakt"), where, "tjanstekontrakt")
        address = ref(addresses, rel.get("logiskAdress", rel.get("logiskadress")), where, "logiskAdress")
        consumer = ref(components, rel.get("tjanstekonsument", rel.get("tjanstekomponent")), where,
                       "tjanstekonsument")
        window = _window(row.get("fromTidpunkt"), row.get("tomTidpunkt"), where, findings)
        if contract is None or address is None or consumer is None or window is None:
            continue
        rights.append(AccessRight(consumer.strip(), contract, address.strip(), *window))
    content = CatalogueContent(tuple(routes), tuple(rights), tuple(c for c in contracts.values() if c))
    return Parsed("TAK snapshot (numeric ids)" if numeric else "TAK export (natural keys)", content, findings)


def _uses_numeric_ids(rows: _Rows) -> bool:
    for name in ("vagval", "anropsbehorighet", "anropsadress"):
        for row in rows.items(name):
            for value in (row.get("relationships") or {}).values():
                return isinstance(value, int)
    return True


def _window(start: Any, end: Any, where: str, findings: list[Finding]) -> tuple[date, date] | None:
    try:
        return _date(start, date.min), _date(end, date.max)
    except ValueError as error:
        findings.append(Finding(FindingKind.MALFORMED, where, f"bad date: {error}"))
        return None


def _date(value: Any, default: date) -> date:
    if value is None or value == "":
        return default
    # a number or an object is as unreadable as a malformed string: one error kind for both
    return date.fromisoformat(value.strip()[:10] if isinstance(value, str) else repr(value))


# -- our JSON and CSV ------------------------------------------------------------------------------------

def _read_own(document: Mapping[str, Any]) -> Parsed:
    findings: list[Finding] = []
    routes = [route for i, item in enumerate(_list(document, "routes", findings))
              if (route := _own_route(item, f"routes[{i}]", findings)) is not None]
    rights = [right for i, item in enumerate(_list(document, "accessRights", findings))
              if (right := _own_right(item, f"accessRights[{i}]", findings)) is not None]
    contracts = tuple(str(c) for c in _list(document, "contracts", findings) if isinstance(c, str))
    return Parsed("intygsgateway JSON", CatalogueContent(tuple(routes), tuple(rights), contracts), findings)


def parse_csv(text: str) -> Parsed:
    """Read our CSV: one row per route (``kind`` = route) or access right (``kind`` = access)."""
    findings: list[Finding] = []
    reader = csv.DictReader(io.StringIO(text))
    missing = {"kind", "contract", "logicalAddress"} - set(reader.fieldnames or ())
    if missing:
        raise FormatError(f"CSV header lacks {', '.join(sorted(missing))}")
    routes, rights = [], []
    for line, item in enumerate(reader, start=2):
        where = f"line {line}"
        kind = (item.get("kind") or "").strip().lower()
        cleaned = {k: restore(v) for k, v in item.items() if k and isinstance(v, str) and v != ""}
        if kind == "route":
            route = _own_route(cleaned, where, findings)
            routes += [route] if route else []
        elif kind == "access":
            right = _own_right(cleaned, where, findings)
            rights += [right] if right else []
        else:
            findings.append(Finding(FindingKind.MALFORMED, where, f"kind {kind!r} is neither route nor access"))
    return Parsed("intygsgateway CSV", CatalogueContent(tuple(routes), tuple(rights)), findings)


def _list(document: Mapping[str, Any], name: str, findings: list[Finding]) -> list[Any]:
    value = document.get(name, [])
    if isinstance(value, list):
        return value
    findings.append(Finding(FindingKind.MALFORMED, name, "is not an array"))
    return []


def _text(item: Mapping[str, Any], name: str, where: str, findings: list[Finding], required: bool = True) -> str | None:
    value = item.get(name)
    if isinstance(value, str) and (value.strip() or not required):
        return value
    if value is None and not required:
        return None
    findings.append(Finding(FindingKind.MALFORMED, f"{where}.{name}", "missing or not text"))
    return None


def _seconds(item: Mapping[str, Any], name: str, where: str, findings: list[Finding]) -> float | None:
    value = item.get(name)
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if seconds > 0:
        return seconds
    findings.append(Finding(FindingKind.MALFORMED, f"{where}.{name}", "must be a positive number of seconds"))
    return None


def _own_route(item: Any, where: str, findings: list[Finding]) -> Route | None:
    if not isinstance(item, Mapping):
        findings.append(Finding(FindingKind.MALFORMED, where, "is not an object"))
        return None
    before = len(findings)
    contract = _text(item, "contract", where, findings)
    address = _text(item, "logicalAddress", where, findings)
    url = _text(item, "url", where, findings, required=False)
    producer = _text(item, "producer", where, findings, required=False)
    profile = _text(item, "profile", where, findings, required=False) or DEFAULT_PROFILE
    window = _window(item.get("from"), item.get("to"), where, findings)
    connect = _seconds(item, "connectTimeoutSeconds", where, findings)
    read = _seconds(item, "readTimeoutSeconds", where, findings)
    if len(findings) > before or contract is None or address is None or window is None:
        return None
    return Route(contract.strip(), address.strip(), url or "", producer.strip() if producer else None,
                 profile.strip().upper(), *window, connect, read)


def _own_right(item: Any, where: str, findings: list[Finding]) -> AccessRight | None:
    if not isinstance(item, Mapping):
        findings.append(Finding(FindingKind.MALFORMED, where, "is not an object"))
        return None
    consumer = _text(item, "consumer", where, findings)
    contract = _text(item, "contract", where, findings)
    address = _text(item, "logicalAddress", where, findings)
    window = _window(item.get("from"), item.get("to"), where, findings)
    if consumer is None or contract is None or address is None or window is None:
        return None
    return AccessRight(consumer.strip(), contract.strip(), address.strip(), *window)


def dump_json(content: CatalogueContent) -> dict[str, Any]:
    """``content`` in our JSON format, rows in a stable order so that two dumps compare as text."""
    def route(r: Route) -> dict[str, Any]:
        out: dict[str, Any] = {"contract": r.contract, "logicalAddress": r.logical_address, "url": r.url,
                               "producer": r.producer, "profile": r.profile,
                               "from": r.valid_from.isoformat(), "to": r.valid_to.isoformat()}
        if r.connect_timeout_s is not None:
            out["connectTimeoutSeconds"] = r.connect_timeout_s
        if r.read_timeout_s is not None:
            out["readTimeoutSeconds"] = r.read_timeout_s
        return {k: v for k, v in out.items() if v is not None}

    def right(r: AccessRight) -> dict[str, Any]:
        return {"consumer": r.consumer, "contract": r.contract, "logicalAddress": r.logical_address,
                "from": r.valid_from.isoformat(), "to": r.valid_to.isoformat()}

    return {
        "format": OWN_FORMAT,
        "contracts": sorted(content.all_contracts(), key=normalise),
        "routes": [route(r) for r in sorted(content.routes, key=_route_order)],
        "accessRights": [right(r) for r in sorted(content.rights, key=_right_order)],
    }


def _route_order(r: Route) -> tuple[str, str, date, str]:
    return normalise(r.contract), normalise(r.logical_address), r.valid_from, r.url


def _right_order(r: AccessRight) -> tuple[str, str, str, date]:
    return normalise(r.contract), normalise(r.logical_address), normalise(r.consumer), r.valid_from


def rows_as_csv(routes: Sequence[Route], rights: Sequence[AccessRight]) -> str:
    """Rows in our CSV format (for ``routing export --csv``)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in sorted(routes, key=_route_order):
        writer.writerow(neutralise_row({"kind": "route", "contract": r.contract, "logicalAddress": r.logical_address,
                         "url": r.url, "producer": r.producer or "", "profile": r.profile,
                         "from": r.valid_from.isoformat(), "to": r.valid_to.isoformat(),
                         "connectTimeoutSeconds": r.connect_timeout_s or "",
                         "readTimeoutSeconds": r.read_timeout_s or ""}))
    for a in sorted(rights, key=_right_order):
        writer.writerow(neutralise_row({"kind": "access", "contract": a.contract, "logicalAddress": a.logical_address,
                                        "consumer": a.consumer, "from": a.valid_from.isoformat(),
                                        "to": a.valid_to.isoformat()}))
    return out.getvalue()
