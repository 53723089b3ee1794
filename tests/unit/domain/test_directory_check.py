"""The unit check (vårdenhetskontroll) and the other directory findings, each fired by crafted data."""

from __future__ import annotations

import pytest

from domain.directory import HsaNode
from domain.directory_check import (
    DirectoryFacts,
    Finding,
    FindingKind,
    UnitPlace,
    check_directory,
    check_unit_structure,
    derived_nodes,
)
from domain.directory_import import HsaUnitEntry, hsa_nodes_from_file
from domain.values import HsaId
from tests.memory import demo_document

K = FindingKind
CG, CG2 = HsaId("SE-VG1"), HsaId("SE-VG2")
VE1, VE2, MO1 = HsaId("SE-VE1"), HsaId("SE-VE2"), HsaId("SE-MO1")


def _care_giver(hsa_id: HsaId) -> HsaNode:
    return HsaNode(hsa_id, care_giver=True, stated=True)


def _care_unit(hsa_id: HsaId, care_giver: HsaId | None = CG, *members: HsaId) -> HsaNode:
    return HsaNode(hsa_id, care_unit=True, responsible_care_giver=care_giver, members=members, stated=True)


def _unit(hsa_id: HsaId) -> HsaNode:
    return HsaNode(hsa_id, dn_care_giver=CG, stated=True)


HEALTHY = [_care_giver(CG), _care_unit(VE1, CG, MO1), _unit(MO1), _care_unit(VE2, CG)]


def test_a_healthy_structure_has_no_findings() -> None:
    """Care giver, two care units, one member: nothing to report."""
    assert check_unit_structure(HEALTHY) == []


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        # 1. Care units linked to each other.
        ([_care_giver(CG), _care_unit(VE1, CG, VE2), _care_unit(VE2, CG)],
         [Finding(K.CARE_UNITS_LINKED, VE1, (VE2,))]),
        # 2. The named care giver is not a care giver (a unit, or unknown).
        ([_care_giver(CG), _care_unit(VE1, MO1), _unit(MO1)], [Finding(K.CARE_GIVER_NOT_A_CARE_GIVER, VE1, (MO1,))]),
        ([_care_giver(CG), _care_unit(VE1, HsaId("SE-NOWHERE"))],
         [Finding(K.CARE_GIVER_NOT_A_CARE_GIVER, VE1, (HsaId("SE-NOWHERE"),))]),
        # 3. A unit linked to two care units.
        ([_care_giver(CG), _care_unit(VE1, CG, MO1), _care_unit(VE2, CG, MO1), _unit(MO1)],
         [Finding(K.UNIT_IN_SEVERAL_CARE_UNITS, MO1, (VE1, VE2))]),
        # 4. A care giver linked as a unit under a care unit.
        ([_care_giver(CG), _care_giver(CG2), _care_unit(VE1, CG, CG2)],
         [Finding(K.CARE_GIVER_LINKED_AS_UNIT, VE1, (CG2,))]),
        # 5. Both care giver and care unit.
        ([HsaNode(CG, care_giver=True, care_unit=True, responsible_care_giver=CG, stated=True)],
         [Finding(K.CARE_GIVER_AND_CARE_UNIT, CG)]),
        # 6. A care unit without care giver, neither named nor above it.
        ([_care_unit(VE1, None)], [Finding(K.UNIT_WITHOUT_CARE_GIVER, VE1)]),
    ],
    ids=["1-linked", "2-unit-named", "2-unknown-named", "3-two-care-units", "4-care-giver-member",
         "5-both", "6-no-care-giver"],
)
def test_each_unit_check_fires_on_crafted_data(nodes: list[HsaNode], expected: list[Finding]) -> None:
    """Each of the six checks finds its own fault, and only that."""
    assert check_unit_structure(nodes) == expected


def test_a_care_unit_with_its_care_giver_above_it_in_the_tree_has_one() -> None:
    """No hsaResponsibleHealthCareProvider, but a care giver above in the DN tree: it has a care giver."""
    node = HsaNode(VE1, care_unit=True, dn_care_giver=CG, stated=True)
    assert check_unit_structure([_care_giver(CG), node]) == []


def test_the_demo_directory_has_no_findings() -> None:
    """The JSON demo directory, read as HSA would be, passes every check."""
    document = demo_document()
    facts = DirectoryFacts(
        units=tuple(UnitPlace(u.hsa_id, u.care_giver, u.arbetsplatskod, u.parent) for u in document.units),
        care_givers=frozenset(c.hsa_id for c in document.care_givers),
        assignments=tuple((p.hsa_id, a.unit, a.purpose) for p in document.personnel for a in p.assignments),
    )
    assert check_directory(facts) == []


def test_a_json_care_giver_that_is_also_a_unit_is_found() -> None:
    """JSON can express checks 4 and 5: a care giver id used as a care unit, or as a sub-unit."""
    nodes = derived_nodes([(CG, CG, None), (CG2, CG, CG)], [CG, CG2])
    assert check_unit_structure(nodes) == [
        Finding(K.CARE_GIVER_AND_CARE_UNIT, CG), Finding(K.CARE_GIVER_LINKED_AS_UNIT, CG, (CG2,)),
    ]


def _facts(**changes: object) -> DirectoryFacts:
    base: dict[str, object] = {
        "stated": tuple(HEALTHY),
        "units": (UnitPlace(VE1, CG, "1234567890"), UnitPlace(MO1, CG, None), UnitPlace(VE2, CG, "0987654321")),
        "care_givers": frozenset({CG}),
    }
    return DirectoryFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_an_integrated_unit_missing_from_the_directory_is_found() -> None:
    """A unit that created drafts but is not (or no longer) in the directory."""
    gone = HsaId("SE-VE-GONE")
    assert check_directory(_facts(integrated_units=((gone, CG),))) == [
        Finding(K.INTEGRATED_UNIT_MISSING, gone, (CG,))
    ]
    listed_no_more = _facts(integrated_units=((VE2, CG),), gone=frozenset({VE2}))
    assert [f.kind for f in check_directory(listed_no_more)] == [K.INTEGRATED_UNIT_MISSING]


def test_a_unit_writing_certificates_without_arbetsplatskod_is_found() -> None:
    """An integrated unit, or one with a care assignment, needs an arbetsplatskod; others do not."""
    person = HsaId("SE-P1")
    assert check_directory(_facts(assignments=((person, MO1, "Vård och behandling"),))) == [
        Finding(K.UNIT_WITHOUT_ARBETSPLATSKOD, MO1)
    ]
    assert check_directory(_facts(integrated_units=((MO1, CG),))) == [Finding(K.UNIT_WITHOUT_ARBETSPLATSKOD, MO1)]
    assert check_directory(_facts(assignments=((person, MO1, "Administration"),))) == []
    assert check_directory(_facts()) == []


def test_an_assignment_on_an_unknown_unit_is_found() -> None:
    """The person and the unit are named."""
    person, nowhere = HsaId("SE-P1"), HsaId("SE-NOWHERE")
    assert check_directory(_facts(assignments=((person, nowhere, "Vård och behandling"),))) == [
        Finding(K.ASSIGNMENT_ON_UNKNOWN_UNIT, person, (nowhere,))
    ]


def test_a_care_giver_gone_while_holding_certificates_is_found() -> None:
    """Gone from the tables, or no longer listed by HSA: found with its count; one without certificates is not."""
    old = HsaId("SE-VG-OLD")
    found = check_directory(_facts(certificates_by_care_giver={old: 12, CG: 3}))
    assert found == [Finding(K.CARE_GIVER_GONE, old, count=12)]
    assert found[0].text() == "care giver SE-VG-OLD is gone from the directory but holds 12 certificates"
    unlisted = _facts(certificates_by_care_giver={CG: 3}, gone=frozenset({CG}))
    assert [f.kind for f in check_directory(unlisted)] == [K.CARE_GIVER_GONE]


def test_findings_name_hsa_ids_only() -> None:
    """The JSON form carries kind, subject, related, count and text."""
    finding = Finding(K.UNIT_IN_SEVERAL_CARE_UNITS, MO1, (VE1, VE2))
    assert finding.as_json() == {
        "kind": "UNIT_IN_SEVERAL_CARE_UNITS", "subject": "SE-MO1", "related": ["SE-VE1", "SE-VE2"], "count": None,
        "text": "unit SE-MO1 is linked to several care units: SE-VE1, SE-VE2",
    }


def test_file_entries_become_stated_nodes_with_the_care_giver_above_them() -> None:
    """Flags, the named care giver and members are kept; the DN tree gives the care giver above."""
    nodes = hsa_nodes_from_file([
        HsaUnitEntry("SE-VG1", "o=Region,c=SE", is_care_giver=True),
        HsaUnitEntry("SE-VE1", "ou=VC,o=Region,c=SE", is_care_unit=True, members=("SE-MO1", " ", "se-mo1")),
        HsaUnitEntry("SE-MO1", "ou=Mott,ou=VC,o=Region,c=SE"),
    ])
    by_id = {node.hsa_id: node for node in nodes}
    assert by_id[VE1] == HsaNode(VE1, care_unit=True, dn_care_giver=CG, members=(MO1,), stated=True)
    assert by_id[MO1].dn_care_giver == CG and by_id[CG].care_giver
