"""Resolution rules of the routing catalogue: order, climbing, validity, normalisation, refusals."""

from __future__ import annotations

from datetime import date

import pytest

from routing import (
    AccessRight,
    AmbiguousRoute,
    Catalogue,
    EmptyUrl,
    NoAccess,
    NoLogicalAddress,
    NoRoute,
    Route,
)

NS = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3"
OTHER_NS = "urn:riv:clinicalprocess:healthcond:certificate:SendMessageToCareResponder:2"
TODAY = date(2026, 11, 21)
CARE_GIVER = "SE2321000016-0001"
UNIT = "SE2321000016-1000"
SUB_UNIT = "SE2321000016-1003"
SUB_SUB_UNIT = "SE2321000016-1004"
PARENTS = {SUB_SUB_UNIT: SUB_UNIT, SUB_UNIT: UNIT, UNIT: CARE_GIVER}
CONSUMER = "SE5565594230-B8N"


def route(address: str, url: str = "https://journal.example/csu", **fields: object) -> Route:
    return Route(contract=str(fields.pop("contract", NS)), logical_address=address, url=url, **fields)  # type: ignore[arg-type]


def right(address: str, **fields: object) -> AccessRight:
    return AccessRight(consumer=str(fields.pop("consumer", CONSUMER)), contract=NS, logical_address=address,
                       **fields)  # type: ignore[arg-type]


def catalogue(routes: list[Route] = [], rights: list[AccessRight] = []) -> Catalogue:  # noqa: B006
    return Catalogue(routes, rights, parents=PARENTS, version=7)


# -- routes: order ---------------------------------------------------------------------------------

def test_exact_route_wins_over_parent_and_default() -> None:
    """The unit's own route is chosen when it, its parent and ``*`` all have one."""
    found = catalogue([route(SUB_UNIT, "https://own"), route(UNIT, "https://parent"), route("*", "https://default")]
                      ).resolve(NS, SUB_UNIT, TODAY)
    assert found.route.url == "https://own"
    assert found.trace == (SUB_UNIT,)


def test_climbs_the_hsa_tree_to_the_nearest_parent_with_a_route() -> None:
    """A sub-sub-unit without a route uses its grandparent's, and the trace shows the climb."""
    found = catalogue([route(UNIT, "https://unit"), route(CARE_GIVER, "https://care-giver")]
                      ).resolve(NS, SUB_SUB_UNIT, TODAY)
    assert found.route.url == "https://unit"
    assert found.trace == (SUB_SUB_UNIT, "(parent)", SUB_UNIT, "(parent)", UNIT)


def test_climbs_through_the_care_giver_to_the_root_se() -> None:
    """The root ``SE`` is the last level climbed, and it is tried before ``*``."""
    found = catalogue([route("SE", "https://root"), route("*", "https://default")]).resolve(NS, SUB_UNIT, TODAY)
    assert found.route.url == "https://root"
    assert found.trace == (SUB_UNIT, "(parent)", UNIT, "(parent)", CARE_GIVER, "(parent)", "SE")


def test_wildcard_is_the_last_resort() -> None:
    """With nothing on the way up, ``*`` answers, after the whole chain."""
    found = catalogue([route("*", "https://default")]).resolve(NS, SUB_UNIT, TODAY)
    assert found.route.url == "https://default"
    assert found.trace[-2:] == ("(default)", "*")
    assert "SE" in found.trace


def test_unknown_unit_climbs_straight_to_se() -> None:
    """A logical address the directory does not know has ``SE`` as its parent, as on the platform."""
    found = catalogue([route("SE", "https://root")]).resolve(NS, "SE999-UNKNOWN", TODAY)
    assert found.trace == ("SE999-UNKNOWN", "(parent)", "SE")


def test_a_cycle_in_the_directory_still_ends_at_se() -> None:
    """Bad directory data (a unit its own grandparent) cannot loop the climb."""
    cyclic = Catalogue([route("SE", "https://root")], parents={"A": "B", "B": "A"})
    assert cyclic.resolve(NS, "A", TODAY).trace == ("A", "(parent)", "B", "(parent)", "SE")


def test_routes_of_another_contract_do_not_count() -> None:
    """A route for another contract never answers, not even as a default."""
    with pytest.raises(NoRoute):
        catalogue([route(SUB_UNIT, contract=OTHER_NS), route("*", contract=OTHER_NS)]).resolve(NS, SUB_UNIT, TODAY)


# -- validity ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("on", "valid"), [
    (date(2026, 1, 1), True), (date(2026, 12, 31), True), (date(2025, 12, 31), False), (date(2027, 1, 1), False),
])
def test_validity_window_includes_both_ends(on: date, valid: bool) -> None:
    """A route from 2026-01-01 to 2026-12-31 counts on both of those days and on no day outside."""
    cat = catalogue([route(UNIT, valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31))])
    if valid:
        assert cat.resolve(NS, UNIT, on).route.logical_address == UNIT
    else:
        with pytest.raises(NoRoute):
            cat.resolve(NS, UNIT, on)


def test_expired_own_route_falls_through_to_parent_and_refusal_names_it() -> None:
    """An expired exact route is skipped; the parent's valid route answers."""
    cat = catalogue([route(SUB_UNIT, "https://old", valid_to=date(2026, 11, 20)), route(UNIT, "https://unit")])
    assert cat.resolve(NS, SUB_UNIT, TODAY).route.url == "https://unit"


def test_refusal_names_the_nearest_expired_route() -> None:
    """VP004 carries the route that would have matched, the most recently expired one."""
    cat = catalogue([route(SUB_UNIT, "https://long-ago", valid_to=date(2020, 1, 1)),
                     route(UNIT, "https://yesterday", valid_to=date(2026, 11, 20))])
    with pytest.raises(NoRoute) as raised:
        cat.resolve(NS, SUB_UNIT, TODAY)
    assert raised.value.nearest is not None
    assert "https://yesterday" in raised.value.nearest and "expired" in raised.value.nearest


def test_refusal_names_a_route_not_yet_valid() -> None:
    """A route starting tomorrow is reported as not yet valid."""
    with pytest.raises(NoRoute) as raised:
        catalogue([route(UNIT, "https://tomorrow", valid_from=date(2026, 11, 22))]).resolve(NS, UNIT, TODAY)
    assert raised.value.nearest is not None and "not yet valid" in raised.value.nearest


# -- normalisation ------------------------------------------------------------------------------------

def test_lookup_is_case_insensitive_and_trims() -> None:
    """Logical address and contract match whatever their case and surrounding whitespace."""
    found = catalogue([route(UNIT, "https://Unit/Path?A=B")]).resolve(f" {NS.upper()} ", f"  {UNIT.lower()}\t", TODAY)
    assert found.route.url == "https://Unit/Path?A=B"  # byte-exact
    assert found.trace == (UNIT.lower(),)


def test_parent_lookup_is_case_insensitive() -> None:
    """The HSA tree is climbed from a lower-case logical address too."""
    found = catalogue([route(UNIT)]).resolve(NS, SUB_UNIT.lower(), TODAY)
    assert found.trace == (SUB_UNIT.lower(), "(parent)", UNIT)


def test_inner_whitespace_does_not_match_but_gives_a_hint() -> None:
    """A route stored as ``SE2321000016 -1000`` does not match, and the refusal says why."""
    with pytest.raises(NoRoute) as raised:
        catalogue([route("SE2321000016 -1000")]).resolve(NS, UNIT, TODAY)
    assert raised.value.hint is not None and "SE2321000016 -1000" in raised.value.hint


def test_unknown_contract_gets_a_hint() -> None:
    """A contract with no route anywhere in the catalogue is named in the hint."""
    with pytest.raises(NoRoute) as raised:
        catalogue([route(UNIT)]).resolve(OTHER_NS, UNIT, TODAY)
    assert raised.value.hint is not None and OTHER_NS.lower() in raised.value.hint


# -- refusals --------------------------------------------------------------------------------------------

def test_no_route_is_vp004_with_fields_and_full_trace() -> None:
    """VP004 carries contract, address and every level tried."""
    with pytest.raises(NoRoute) as raised:
        catalogue([]).resolve(NS, SUB_UNIT, TODAY)
    error = raised.value
    assert (error.code, error.contract, error.logical_address) == ("VP004", NS, SUB_UNIT)
    assert error.trace == (SUB_UNIT, "(parent)", UNIT, "(parent)", CARE_GIVER, "(parent)", "SE", "(default)", "*")
    assert error.describe().startswith("VP004 ")
    assert "tried=" + ",".join(error.trace) in error.describe()


def test_several_valid_routes_are_vp006() -> None:
    """Two valid routes at the same level are a catalogue error, not a tie-break."""
    with pytest.raises(AmbiguousRoute) as raised:
        catalogue([route(UNIT, "https://a"), route(UNIT, "https://b", profile="RIVTABP20"), route("*")]
                  ).resolve(NS, SUB_UNIT, TODAY)
    assert raised.value.code == "VP006"
    assert (
        raised.value.nearest is not None and "https://a" in raised.value.nearest and "https://b" in raised.value.nearest
    )


def test_two_routes_valid_at_different_times_are_not_ambiguous() -> None:
    """Only the rows valid on the day compete."""
    cat = catalogue([route(UNIT, "https://old", valid_to=date(2026, 11, 20)),
                     route(UNIT, "https://new", valid_from=date(2026, 11, 21))])
    assert cat.resolve(NS, UNIT, TODAY).route.url == "https://new"


@pytest.mark.parametrize("url", ["", "   "])
def test_empty_url_is_vp010(url: str) -> None:
    """The one valid route with an empty URL is VP010, not a fall-through to the default."""
    with pytest.raises(EmptyUrl) as raised:
        catalogue([route(UNIT, url), route("*")]).resolve(NS, UNIT, TODAY)
    assert raised.value.code == "VP010"


@pytest.mark.parametrize("address", ["", "  "])
def test_missing_logical_address_is_vp003(address: str) -> None:
    """Nothing is looked up for an empty logical address."""
    with pytest.raises(NoLogicalAddress) as raised:
        catalogue([route("*")]).resolve(NS, address, TODAY)
    assert raised.value.code == "VP003"
    with pytest.raises(NoLogicalAddress):
        catalogue([], [right("*")]).check_access(CONSUMER, NS, address, TODAY)


# -- access rights ------------------------------------------------------------------------------------

def test_exact_access_right() -> None:
    """A right for the very address answers with a one-level trace."""
    assert catalogue([], [right(UNIT)]).check_access(CONSUMER, NS, UNIT, TODAY) == (UNIT,)


def test_access_is_tried_in_the_platforms_order_and_the_trace_says_so() -> None:
    """Exact, then the HSA parents, then ``*`` (VP's BehorighetHandlerImpl); the trace reads in that order."""
    trace = catalogue([], [right(UNIT), right("*")]).check_access(CONSUMER, NS, SUB_UNIT, TODAY)
    assert trace == (SUB_UNIT, "(parent)", UNIT)
    trace = catalogue([], [right("*")]).check_access(CONSUMER, NS, SUB_UNIT, TODAY)
    assert trace == (SUB_UNIT, "(parent)", UNIT, "(parent)", CARE_GIVER, "(parent)", "SE", "(default)", "*")


def test_the_order_never_changes_the_verdict() -> None:
    """A right at any level allows the call; only the trace differs."""
    for rights in ([right(CARE_GIVER)], [right("*")], [right(SUB_UNIT)], [right(UNIT), right("*")]):
        assert catalogue([], rights).check_access(CONSUMER, NS, SUB_UNIT, TODAY)


def test_access_climbs_to_the_care_giver() -> None:
    """A right held for the care giver covers its units."""
    trace = catalogue([], [right(CARE_GIVER)]).check_access(CONSUMER, NS, SUB_UNIT, TODAY)
    assert trace == (SUB_UNIT, "(parent)", UNIT, "(parent)", CARE_GIVER)


def test_access_is_case_insensitive_for_consumer_and_address() -> None:
    """Consumer HSA-ids compare trimmed and case-folded too."""
    assert catalogue([], [right(UNIT)]).check_access(f" {CONSUMER.lower()} ", NS, UNIT.lower(), TODAY)


def test_another_consumers_right_does_not_count_and_is_vp007() -> None:
    """VP007 carries the consumer and the full access chain."""
    with pytest.raises(NoAccess) as raised:
        catalogue([], [right(UNIT, consumer="SE-OTHER")]).check_access(CONSUMER, NS, SUB_UNIT, TODAY)
    error = raised.value
    assert (error.code, error.consumer) == ("VP007", CONSUMER)
    assert error.trace == (SUB_UNIT, "(parent)", UNIT, "(parent)", CARE_GIVER, "(parent)", "SE", "(default)", "*")


def test_expired_access_right_is_refused_and_named() -> None:
    """A right that ended yesterday no longer counts; the refusal names it as expired."""
    with pytest.raises(NoAccess) as raised:
        catalogue([], [right(UNIT, valid_to=date(2026, 11, 20))]).check_access(CONSUMER, NS, UNIT, TODAY)
    assert raised.value.nearest is not None and "expired" in raised.value.nearest
    assert catalogue([], [right(UNIT, valid_to=TODAY)]).check_access(CONSUMER, NS, UNIT, TODAY) == (UNIT,)


def test_access_hint_for_consumer_spelled_with_inner_whitespace() -> None:
    """A right stored for a consumer id with a stray space is pointed out."""
    with pytest.raises(NoAccess) as raised:
        catalogue([], [right(UNIT, consumer="SE5565594230 -B8N")]).check_access(CONSUMER, NS, UNIT, TODAY)
    assert raised.value.hint is not None


def test_snapshot_counts_and_listing() -> None:
    """The snapshot reports what it holds and its version."""
    cat = catalogue([route(UNIT), route("*")], [right(UNIT)])
    assert (cat.route_count, cat.right_count, cat.version) == (2, 1, 7)
    assert {r.logical_address for r in cat.routes()} == {UNIT, "*"}
    assert NS.lower() in cat.contracts
