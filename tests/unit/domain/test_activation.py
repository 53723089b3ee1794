"""Tests for domain.activation: activation rules as data, and whether a type is active here today."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from typing import Any

import pytest

from domain.activation import (
    Activation,
    ActivationConfigError,
    ActivationState,
    Placement,
    activation_from_mapping,
    activation_state,
    describe,
    placement_of,
    scope_text,
)
from domain.certificate_types import CertificateTypeConfigError, from_mapping
from domain.values import KV_INTYGSTYP, HsaId

REGION = HsaId("SE2321000016-0001")
OTHER_REGION = HsaId("SE2321000016-0002")
PILOT_UNIT = HsaId("SE2321000016-1000")
PILOT_SUB_UNIT = HsaId("SE2321000016-1003")
OTHER_UNIT = HsaId("SE2321000016-2000")
GO_LIVE = dt.date(2024, 9, 16)
LAST_DAY = dt.date(2025, 6, 30)

PILOT = Activation(starts=GO_LIVE, ends=LAST_DAY, units=frozenset({PILOT_UNIT}))
REGION_PILOT = Activation(starts=GO_LIVE, care_givers=frozenset({REGION}))
EVERYONE_FROM = Activation(starts=GO_LIVE)

AT_PILOT_UNIT = Placement((PILOT_UNIT,), OTHER_REGION)
AT_PILOT_SUB_UNIT = Placement((PILOT_SUB_UNIT, PILOT_UNIT), OTHER_REGION)
AT_OTHER_UNIT = Placement((OTHER_UNIT,), OTHER_REGION)
AT_REGION_UNIT = Placement((OTHER_UNIT,), REGION)


@pytest.mark.parametrize(
    ("active", "activation", "placement", "day", "expected"),
    [
        # No activation table: active everywhere, always, as before activation rules.
        (True, Activation(), AT_OTHER_UNIT, dt.date(1999, 1, 1), ActivationState.ACTIVE),
        # The active flag off withdraws the type whatever its rules say.
        (False, Activation(), AT_PILOT_UNIT, GO_LIVE, ActivationState.WITHDRAWN),
        (False, PILOT, AT_PILOT_UNIT, GO_LIVE, ActivationState.WITHDRAWN),
        # A pilot: before its day, on its day and its last day, after it.
        (True, PILOT, AT_PILOT_UNIT, GO_LIVE - dt.timedelta(days=1), ActivationState.NOT_YET),
        (True, PILOT, AT_PILOT_UNIT, GO_LIVE, ActivationState.ACTIVE),
        (True, PILOT, AT_PILOT_UNIT, LAST_DAY, ActivationState.ACTIVE),
        (True, PILOT, AT_PILOT_UNIT, LAST_DAY + dt.timedelta(days=1), ActivationState.ENDED),
        # Inside and outside the pilot's units; a sub-unit of a listed unit is inside.
        (True, PILOT, AT_OTHER_UNIT, GO_LIVE, ActivationState.NOT_IN_PILOT),
        (True, PILOT, AT_PILOT_SUB_UNIT, GO_LIVE, ActivationState.ACTIVE),
        # Before its day, a unit outside the pilot hears about the date first (that passes for nobody).
        (True, PILOT, AT_OTHER_UNIT, GO_LIVE - dt.timedelta(days=1), ActivationState.NOT_YET),
        # A pilot by care giver: every unit of the care giver, none of another.
        (True, REGION_PILOT, AT_REGION_UNIT, GO_LIVE, ActivationState.ACTIVE),
        (True, REGION_PILOT, AT_PILOT_UNIT, GO_LIVE, ActivationState.NOT_IN_PILOT),
        # A national roll-out from a date.
        (True, EVERYONE_FROM, AT_OTHER_UNIT, GO_LIVE, ActivationState.ACTIVE),
        (True, EVERYONE_FROM, AT_OTHER_UNIT, GO_LIVE - dt.timedelta(days=1), ActivationState.NOT_YET),
    ],
)
def test_activation_state(
    active: bool, activation: Activation, placement: Placement, day: dt.date, expected: ActivationState
) -> None:
    """Withdrawn, not yet, ended, outside the pilot or active: the table of cases."""
    assert activation_state(active, activation, placement, day) is expected


def test_listed_hsa_ids_compare_case_insensitively() -> None:
    """HSA-ids in the file may be spelt in another case than the directory's."""
    activation = activation_from_mapping({"from": GO_LIVE, "units": ["se2321000016-1000"]})
    assert activation_state(True, activation, AT_PILOT_UNIT, GO_LIVE) is ActivationState.ACTIVE


def test_placement_climbs_the_parents_and_stops_at_a_cycle() -> None:
    """The unit first, then its parents; a cycle in directory data ends the climb."""
    a, b = HsaId("SE-A"), HsaId("SE-B")
    assert placement_of(PILOT_SUB_UNIT, {PILOT_SUB_UNIT: PILOT_UNIT}, REGION).units == (PILOT_SUB_UNIT, PILOT_UNIT)
    assert placement_of(a, {a: b, b: a}, REGION).units == (a, b)


def test_a_table_parsed_from_toml() -> None:
    """TOML dates become dates, lists become HSA-ids."""
    table = tomllib.loads(
        'from = 2024-09-16\nto = 2025-06-30\ncare_givers = ["SE2321000016-0001"]\nunits = ["SE2321000016-1000"]\n'
    )
    assert activation_from_mapping(table) == Activation(GO_LIVE, LAST_DAY, frozenset({REGION}), frozenset({PILOT_UNIT}))


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ({"units": ["SE-1"]}, "from is required"),
        ({"from": "2024-09-16"}, "TOML date"),
        ({"from": dt.datetime(2024, 9, 16, 8, 0, tzinfo=dt.UTC)}, "TOML date"),
        ({"from": GO_LIVE, "to": GO_LIVE - dt.timedelta(days=1)}, "before"),
        ({"from": GO_LIVE, "units": []}, "non-empty list of HSA-ids"),
        ({"from": GO_LIVE, "units": "SE-1"}, "non-empty list of HSA-ids"),
        ({"from": GO_LIVE, "units": ["SE-1", "se-1"]}, "twice"),
        ({"from": GO_LIVE, "unit": ["SE-1"]}, "unknown activation keys"),
    ],
)
def test_a_malformed_table_is_refused(table: dict[str, Any], complaint: str) -> None:
    """No silent default: a misspelt key, a string date or an empty pilot list stops the load."""
    with pytest.raises(ActivationConfigError, match=complaint):
        activation_from_mapping(table)


def _mapping(**activation: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code_systems": {"KV_INTYGSTYP": {"value": KV_INTYGSTYP, "case_sensitive_codes": True}},
        "certificate_types": {
            "ITFP": {
                "accepts": [{"code": "ITFP", "code_system": "KV_INTYGSTYP"}],
                "name": "Intyg om tillfällig föräldrapenning",
                "recipient": "FKASSA", "version": "1.0", "active": True, "allowed_roles": ["LAKARE"],
                "allowed_for_protected": True, "allowed_for_deceased": False,
            }
        },
    }  # fmt: skip
    if activation:
        data["certificate_types"]["ITFP"]["activation"] = copy.deepcopy(activation)
    return data


def test_the_registry_reads_a_types_activation_table() -> None:
    """``[certificate_types.ITFP.activation]`` becomes the type's Activation."""
    registry = from_mapping(_mapping(**{"from": GO_LIVE, "units": ["SE2321000016-1000"]}))
    certificate_type = registry.lookup("ITFP", KV_INTYGSTYP)
    assert certificate_type is not None
    assert certificate_type.activation == Activation(GO_LIVE, units=frozenset({PILOT_UNIT}))


def test_a_type_without_activation_is_active_everywhere() -> None:
    """Leaving the table out keeps the meaning every existing file has."""
    certificate_type = from_mapping(_mapping()).lookup("ITFP", KV_INTYGSTYP)
    assert certificate_type is not None and certificate_type.activation == Activation()


def test_a_bad_activation_names_the_type() -> None:
    """The registry's error names the type whose activation is wrong."""
    with pytest.raises(CertificateTypeConfigError, match="'ITFP'.*activation.from"):
        from_mapping(_mapping(units=["SE-1"]))


def test_scope_text_names_the_pilot_and_cuts_long_lists() -> None:
    """The answer says for whom; a pilot of many units names five and counts the rest."""
    assert scope_text(Activation(GO_LIVE)) == "för alla enheter"
    assert scope_text(REGION_PILOT) == "bara för vårdgivare SE2321000016-0001"
    many = Activation(GO_LIVE, units=frozenset(HsaId(f"SE-{n}") for n in range(8)))
    assert scope_text(many) == "bara för enheterna SE-0, SE-1, SE-2, SE-3, SE-4 och 3 till med underenheter"


def test_describe_is_one_line_for_people() -> None:
    """``types show`` prints the rule in English."""
    assert describe(True, PILOT) == "from 2024-09-16 to 2025-06-30 pilot: unit SE2321000016-1000"
    assert describe(True, Activation()) == "always for every unit"
    assert describe(False, PILOT) == "withdrawn (active = false)"
