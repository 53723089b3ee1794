"""Planning a catalogue change: diff, validation report and the shrink guard."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from routing import AccessRight, Route
from routing.changes import Refusal, plan_change
from routing.content import CatalogueContent
from routing.diff import diff
from routing.validate import FindingKind, Severity, validate

NS = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3"
TODAY = date(2026, 11, 21)


def routes(n: int) -> tuple[Route, ...]:
    return tuple(Route(NS, f"SE1-{i:04}", f"https://j/{i}") for i in range(n))


def test_diff_names_added_removed_and_changed_rows() -> None:
    """A new URL for one unit is a change; a unit gone is removed; a new unit is added."""
    old = CatalogueContent(routes(3), (AccessRight("C", NS, "*"),))
    new_url = Route(NS, "SE1-0001", "https://j/new")
    new = CatalogueContent((old.routes[0], new_url, Route(NS, "SE1-0009", "https://j/9")),
                           (AccessRight("C", NS, "*", valid_to=date(2027, 1, 1)),))
    found = diff(old, new)
    assert found.routes.added == (new.routes[2],)
    assert found.routes.removed == (old.routes[2],)
    assert found.routes.changed == ((old.routes[1], new_url),)
    assert found.rights.changed == ((old.rights[0], new.rights[0]),)
    assert found.counts() == {"routesAdded": 1, "routesRemoved": 1, "routesChanged": 1, "rightsAdded": 0,
                              "rightsRemoved": 0, "rightsChanged": 1}


def test_diff_ignores_case_and_whitespace_of_ids_but_not_of_urls() -> None:
    """Re-spelling an id is no change; re-spelling a URL is."""
    old = CatalogueContent((Route(NS, "SE1-A", "https://j/A"),))
    assert diff(old, CatalogueContent((Route(NS.upper(), " se1-a ", "https://j/A"),))).empty
    assert not diff(old, CatalogueContent((Route(NS, "SE1-A", "https://j/a"),))).empty


def test_second_route_for_a_unit_is_an_addition_not_a_change() -> None:
    """A successor route next to the current one shows as added."""
    current = Route(NS, "SE1-A", "https://j/a", valid_to=date(2026, 12, 31))
    successor = Route(NS, "SE1-A", "https://j/b", valid_from=date(2027, 1, 1))
    found = diff(CatalogueContent((current,)), CatalogueContent((current, successor)))
    assert (found.routes.added, found.routes.changed) == ((successor,), ())


def test_merge_replaces_only_the_groups_the_file_names() -> None:
    """--merge: the file's unit gets the file's routes; other units are untouched."""
    base = CatalogueContent(routes(3))
    incoming = CatalogueContent((Route(NS, "se1-0001", "https://j/merged"),))
    merged = base.merged_with(incoming)
    assert {r.url for r in merged.routes} == {"https://j/0", "https://j/2", "https://j/merged"}


def test_validation_report_kinds() -> None:
    """Overlap, duplicate, whitespace, unknown contract, expired, empty URL and a bad window are found."""
    content = CatalogueContent((
        Route(NS, "SE1-A", "https://a", valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31)),
        Route(NS, "SE1-A", "https://b", valid_from=date(2026, 6, 1)),
        Route(NS, "se1-a", "https://a", valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31)),
        Route(NS, "SE1 -B", "https://c"),
        Route("urn:unknown", "SE1-C", "https://d"),
        Route(NS, "SE1-D", "https://e", valid_to=date(2025, 1, 1)),
        Route(NS, "SE1-E", ""),
        Route(NS, "SE1-F", "https://f", valid_from=date(2026, 2, 1), valid_to=date(2026, 1, 1)),
    ), contracts=(NS,))
    kinds = {f.kind for f in validate(content, TODAY)}
    assert kinds == {FindingKind.OVERLAP, FindingKind.DUPLICATE, FindingKind.WHITESPACE,
                     FindingKind.UNKNOWN_CONTRACT, FindingKind.EXPIRED, FindingKind.EMPTY_URL, FindingKind.BAD_WINDOW}
    severities = {f.kind: f.severity for f in validate(content, TODAY)}
    assert severities[FindingKind.DUPLICATE] is Severity.WARNING and severities[FindingKind.OVERLAP] is Severity.WARNING
    assert severities[FindingKind.BAD_WINDOW] is Severity.ERROR


def test_overlap_in_the_past_is_not_reported() -> None:
    """Two routes that overlapped only before today no longer cause VP006."""
    content = CatalogueContent((Route(NS, "A", "https://a", valid_to=date(2026, 1, 10)),
                                Route(NS, "A", "https://b", valid_from=date(2026, 1, 1))))
    assert [f for f in validate(content, TODAY) if f.kind is FindingKind.OVERLAP] == []


def test_shrink_guard_refuses_a_partial_export_unless_forced() -> None:
    """Losing more than the allowed share, or everything, needs force; within the share passes."""
    before = CatalogueContent(routes(10))
    assert plan_change(before, CatalogueContent(routes(8)), on=TODAY, max_shrink=0.2).allowed
    partial = plan_change(before, CatalogueContent(routes(7)), on=TODAY, max_shrink=0.2)
    assert partial.refusal is Refusal.WOULD_SHRINK
    assert plan_change(before, CatalogueContent(), on=TODAY, max_shrink=0.2).refusal is Refusal.WOULD_EMPTY
    assert plan_change(before, CatalogueContent(), on=TODAY, max_shrink=0.2, force=True).allowed
    assert plan_change(before, CatalogueContent(routes(1)), on=TODAY, max_shrink=None).allowed


def test_errors_block_even_when_forced() -> None:
    """The same row with other timeouts cannot be forced in: which one is meant?"""
    doubled = CatalogueContent((*routes(2), replace(routes(2)[0], read_timeout_s=9.0)))
    plan = plan_change(CatalogueContent(), doubled, on=TODAY, max_shrink=0.2, force=True)
    assert plan.refusal is Refusal.INVALID
    assert [f.kind for f in plan.findings] == [FindingKind.CONFLICTING_DUPLICATE]


def test_rows_given_twice_are_written_once_and_counted_as_warnings() -> None:
    """An export holding a route and an access right twice (case and spaces aside) loads, each once."""
    right = AccessRight("SE-C", NS, "SE1-0000")
    doubled = CatalogueContent((*routes(2), replace(routes(2)[0], logical_address=" se1-0000 ")),
                               (right, replace(right, consumer="se-c")))
    plan = plan_change(CatalogueContent(), doubled, on=TODAY, max_shrink=0.2)
    assert plan.allowed
    assert (plan.after.routes, plan.after.rights) == (routes(2), (right,))
    assert [(f.kind, f.severity) for f in plan.findings] == [(FindingKind.DUPLICATE, Severity.WARNING)] * 2
    assert len(plan.diff.routes.added) == 2 and len(plan.diff.rights.added) == 1


def test_strict_turns_warnings_into_a_refusal() -> None:
    """With strict, a duplicate (or any warning) refuses the change; without, it passes."""
    doubled = CatalogueContent((*routes(2), routes(2)[0]))
    assert plan_change(CatalogueContent(), doubled, on=TODAY, max_shrink=0.2).allowed
    plan = plan_change(CatalogueContent(), doubled, on=TODAY, max_shrink=0.2, strict=True)
    assert plan.refusal is Refusal.STRICT and plan.reason is not None and "1 warning" in plan.reason
    assert plan_change(CatalogueContent(), CatalogueContent(routes(2)), on=TODAY, max_shrink=0.2, strict=True).allowed


def test_conflicting_rows_load_and_name_the_days_of_vp006() -> None:
    """Two URLs for one key with overlapping validity load; the warning gives the window VP006 applies in."""
    both = CatalogueContent((
        Route(NS, "SE1-A", "https://a", valid_from=date(2026, 1, 1), valid_to=date(2126, 1, 1)),
        Route(NS, "SE1-A", "https://b", valid_from=date(2026, 12, 1), valid_to=date(2026, 12, 31)),
    ))
    plan = plan_change(CatalogueContent(), both, on=TODAY, max_shrink=0.2)
    assert plan.allowed and len(plan.after.routes) == 2
    [finding] = plan.findings
    assert (finding.kind, finding.severity) == (FindingKind.OVERLAP, Severity.WARNING)
    assert finding.detail.endswith("VP006 from 2026-12-01 to 2026-12-31")
