"""Reading TAK's two export shapes and our JSON/CSV, and writing ours back."""

from __future__ import annotations

from datetime import date

import pytest

from routing import AccessRight, Route
from routing.formats import FormatError, dump_json, parse_csv, parse_json, rows_as_csv
from routing.validate import FindingKind
from tests.unit.routing.tak_samples import NS, OTHER, export_natural, snapshot_numeric

EXPECTED_ROUTES = {
    Route(NS, "SE2321000016-1000", "https://journal.example/csu/rivtabp21", "SE2321000016-J001", "RIVTABP21",
          date(2026, 1, 1), date(2126, 1, 1)),
    Route(OTHER, "SE2321000016-0001", "https://journal.example/csu/rivtabp21", "SE2321000016-J001", "RIVTABP21",
          date(2026, 1, 1), date(2126, 1, 1)),
}
EXPECTED_RIGHTS = {AccessRight("SE5565594230-B8N", OTHER, "SE2321000016-0001", date(2026, 1, 1), date(2126, 1, 1))}


@pytest.mark.parametrize("document", [snapshot_numeric(), export_natural()], ids=["snapshot", "export"])
def test_both_tak_shapes_read_to_the_same_catalogue(document: dict[str, object]) -> None:
    """Numeric ids and natural keys give the same routes, rights and contracts; dates are calendar dates."""
    parsed = parse_json(document)
    assert parsed.findings == []
    assert set(parsed.content.routes) == EXPECTED_ROUTES
    assert set(parsed.content.rights) == EXPECTED_RIGHTS
    assert set(parsed.content.contracts) == {NS, OTHER}


def test_snapshot_and_export_are_told_apart() -> None:
    """The format name says which shape was read."""
    assert "numeric" in parse_json(snapshot_numeric()).format
    assert "natural" in parse_json(export_natural()).format


def test_dangling_reference_is_an_error_finding_and_the_row_is_left_out() -> None:
    """A route naming an endpoint id that does not exist is reported with where it is."""
    document = snapshot_numeric()
    document["data"]["vagval"][0]["relationships"]["anropsadress"] = 99
    parsed = parse_json(document)
    assert [(f.kind, f.where) for f in parsed.findings] == [(FindingKind.DANGLING, "vagval[0]")]
    assert len(parsed.content.routes) == 1


def test_bad_date_is_malformed() -> None:
    """A date that cannot be read is an error, not a silent default."""
    document = export_natural()
    document["data"]["anropsbehorighet"][0]["tomTidpunkt"] = "soon"
    assert [f.kind for f in parse_json(document).findings] == [FindingKind.MALFORMED]


def test_unknown_document_is_refused() -> None:
    """Something that is no catalogue at all raises FormatError."""
    with pytest.raises(FormatError):
        parse_json({"routes": []})


def test_our_json_round_trips() -> None:
    """What dump_json writes, parse_json reads back unchanged (timeouts included)."""
    route = Route(NS, "SE1", "https://x/y?Z", "P", "RIVTABP21", date(2026, 1, 1), date(2026, 2, 1), 1.5, 20.0)
    parsed = parse_json(dump_json(parse_json(export_natural()).content.merged_with(
        parse_json({"format": "intygsgateway-routing/1", "routes": [
            {"contract": NS, "logicalAddress": "SE1", "url": "https://x/y?Z", "producer": "P",
             "from": "2026-01-01", "to": "2026-02-01", "connectTimeoutSeconds": 1.5, "readTimeoutSeconds": 20}]}
        ).content)))
    assert route in parsed.content.routes
    assert set(parsed.content.routes) == EXPECTED_ROUTES | {route}


def test_our_json_row_problems_are_reported_with_their_path() -> None:
    """A route without a logical address and one with a negative timeout are both named."""
    parsed = parse_json({"format": "intygsgateway-routing/1", "routes": [
        {"contract": NS, "url": "https://x"},
        {"contract": NS, "logicalAddress": "SE1", "url": "https://x", "readTimeoutSeconds": -1}]})
    assert [f.where for f in parsed.findings] == ["routes[0].logicalAddress", "routes[1].readTimeoutSeconds"]
    assert parsed.content.routes == ()


def test_csv_round_trips_and_reports_bad_kinds() -> None:
    """Our CSV carries routes and rights; an unknown kind is an error on its line."""
    content = parse_json(export_natural()).content
    text = rows_as_csv(content.routes, content.rights)
    parsed = parse_csv(text)
    assert set(parsed.content.routes) == EXPECTED_ROUTES and set(parsed.content.rights) == EXPECTED_RIGHTS
    broken = parse_csv(text + "vagval,urn:x,SE1,,,,,,,,\n")
    assert [(f.kind, f.where) for f in broken.findings] == [(FindingKind.MALFORMED, "line 5")]


def test_csv_without_required_columns_is_refused() -> None:
    """A CSV that is not ours at all raises FormatError."""
    with pytest.raises(FormatError):
        parse_csv("a,b\n1,2\n")
