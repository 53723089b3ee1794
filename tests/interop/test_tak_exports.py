"""TAK exports with the field's quirks load, in both JSON shapes, and resolve as the platform would.

No database: the export is read (``routing.formats``), planned against an empty catalogue
(``routing.changes``) and the planned content resolved (``routing.catalogue``); the command and the
dispatcher run the same export in tests/integration/test_interop_tak.py.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from routing.catalogue import Catalogue
from routing.changes import Refusal, plan_change
from routing.content import CatalogueContent
from routing.errors import AmbiguousRoute
from routing.formats import parse_json
from routing.validate import FindingKind, Severity
from tests.interop import tak

TODAY = date(2026, 11, 21)
FORMATS = {"snapshot (numeric ids)": tak.snapshot_numeric, "export (natural keys)": tak.export_natural}


@pytest.mark.parametrize("shape", FORMATS)
def test_a_field_export_loads_with_its_quirks_counted(shape: str) -> None:
    """Duplicates are written once and counted, the conflict loads with its VP006 days, descriptions are not
    ids, the expired row is only a warning."""
    document = json.loads(json.dumps(FORMATS[shape](tak.field_catalogue())))
    parsed = parse_json(document)
    assert parsed.findings == []
    plan = plan_change(CatalogueContent(), parsed.content, on=TODAY, max_shrink=0.2, read_findings=parsed.findings)
    assert plan.allowed, plan.reason
    kinds = sorted((f.kind.value, f.severity.value) for f in plan.findings)
    assert kinds == [("duplicate", "warning")] * 3 + [("expired", "warning"), ("overlapping-validity", "warning")]
    [overlap] = [f for f in plan.findings if f.kind is FindingKind.OVERLAP]
    assert overlap.detail.endswith(f"VP006 from {tak.CONFLICT_FROM} to {tak.CONFLICT_TO}")
    assert not [f for f in plan.findings if f.kind is FindingKind.WHITESPACE]
    assert (len(plan.after.routes), len(plan.after.rights)) == (5, 2)


@pytest.mark.parametrize("shape", FORMATS)
def test_the_conflicting_key_is_vp006_inside_its_window_and_the_single_url_elsewhere(shape: str) -> None:
    """As the platform answers at run time: no tie-break inside December, the first route before and after."""
    content = plan_change(CatalogueContent(), parse_json(FORMATS[shape](tak.field_catalogue())).content, on=TODAY,
                          max_shrink=None).after
    catalogue = Catalogue(content.routes, content.rights)
    for day in (date(2026, 12, 1), date(2026, 12, 15), date(2026, 12, 31)):
        with pytest.raises(AmbiguousRoute):
            catalogue.resolve(tak.STATUS_UPDATE, "SE2321000016-1000", day)
    for day in (date(2026, 11, 30), date(2027, 1, 1)):
        assert catalogue.resolve(tak.STATUS_UPDATE, "SE2321000016-1000", day).route.url == tak.JOURNAL_URL
    assert catalogue.resolve(tak.STATUS_UPDATE, "SE2321000016-1003", TODAY).route.url == tak.JOURNAL_URL
    assert catalogue.resolve(tak.STATUS_UPDATE, "SE2321000016-2000", TODAY).route.url == tak.OTHER_URL
    assert catalogue.check_access(tak.INTYGSTJANSTEN, tak.SEND_MESSAGE, "SE2321000016-1000", TODAY)


def test_strict_refuses_the_same_export() -> None:
    """An operator who wants a clean export: every warning refuses it."""
    parsed = parse_json(tak.export_natural(tak.field_catalogue()))
    plan = plan_change(CatalogueContent(), parsed.content, on=TODAY, max_shrink=0.2, strict=True)
    assert plan.refusal is Refusal.STRICT and all(f.severity is Severity.WARNING for f in plan.findings)


def test_a_national_size_export_parses_in_both_shapes() -> None:
    """Thousands of rows with duplicates and conflicts load (the speed is bench/routing_import.py's to show)."""
    catalogue = tak.synthetic_catalogue(500, 3)
    for build in FORMATS.values():
        parsed = parse_json(build(catalogue))
        plan = plan_change(CatalogueContent(), parsed.content, on=TODAY, max_shrink=0.2)
        assert plan.allowed and len(plan.after.routes) < len(catalogue.routes)
