"""The platform's HSA unit file: the tree from the DN hierarchy, care givers from the provider flag."""

from __future__ import annotations

import pytest

from contracts.errors import XmlRefused
from contracts.hsa_units_file import read_hsa_units
from domain.directory_import import (
    DirectoryFormatError,
    HsaUnitEntry,
    directory_from_hsa_units,
)
from domain.values import HsaId
from tests.unit.domain.hsa_samples import HSA_FILE


def test_tree_comes_from_the_nearest_ancestor_dn_in_the_file() -> None:
    """The sub-unit's DN skips a level absent from the file and lands on the clinic; the county is dropped."""
    entries, produced_at = read_hsa_units(HSA_FILE)
    assert produced_at is not None and produced_at.isoformat() == "2026-11-20T01:25:00+00:00"
    document = directory_from_hsa_units(entries, produced_at)
    assert [c.hsa_id.value for c in document.care_givers] == ["SE2321000016-0001"]
    units = {u.hsa_id.value: u for u in document.units}
    assert set(units) == {"SE2321000016-1000", "SE2321000016-1003"}
    assert units["SE2321000016-1000"].parent is None
    assert units["SE2321000016-1000"].care_giver == HsaId("SE2321000016-0001")
    assert units["SE2321000016-1003"].parent == HsaId("SE2321000016-1000")
    assert units["SE2321000016-1003"].name == "Mottagning syd"


def test_dn_comparison_ignores_case_and_spacing() -> None:
    """``OU=A, O=B`` is the same node as ``ou=a,o=b``."""
    document = directory_from_hsa_units([
        HsaUnitEntry("CG", "o=B,c=SE", "B", is_care_giver=True),
        HsaUnitEntry("U", "OU=A,  O=b, C=se", "A"),
    ], None)
    assert document.units[0].care_giver == HsaId("CG")


def test_duplicate_dn_is_refused() -> None:
    """Two nodes with one DN make the tree ambiguous: refused, naming the second."""
    with pytest.raises(DirectoryFormatError) as raised:
        directory_from_hsa_units([HsaUnitEntry("A", "o=x,c=SE"), HsaUnitEntry("B", "O=X, c=se")], None)
    assert (raised.value.record, raised.value.field) == ("hsaUnits[1]", "DN")


def test_a_file_that_is_not_an_hsa_unit_file_is_refused() -> None:
    """Another root element is not read as an empty directory."""
    with pytest.raises(XmlRefused):
        read_hsa_units(b"<units/>")


def test_care_unit_flag_and_members_are_read_nested_or_flat() -> None:
    """isHsaHealthCareUnit ("true" or "1") and hsaHealthCareUnitMembers, each member's hsaIdentity or its text."""
    content = b"""<FileGetHsaUnitsResponse xmlns="urn:riv:hsa:HsaWsResponder:3"><hsaUnits>
      <hsaUnit><hsaIdentity>SE-VE1</hsaIdentity><DN>ou=VC,o=R,c=SE</DN>
        <isHsaHealthCareUnit>1</isHsaHealthCareUnit>
        <hsaResponsibleHealthCareProvider>SE-VG1</hsaResponsibleHealthCareProvider>
        <hsaHealthCareUnitMembers>
          <hsaHealthCareUnitMember><hsaIdentity>SE-MO1</hsaIdentity><name>Mott</name><DN>ou=M,c=SE</DN></hsaHealthCareUnitMember>
          <hsaHealthCareUnitMember> SE-MO2 </hsaHealthCareUnitMember>
        </hsaHealthCareUnitMembers></hsaUnit>
      <hsaUnit><hsaIdentity>SE-MO1</hsaIdentity><DN>ou=M,c=SE</DN><isHsaHealthCareUnit>false</isHsaHealthCareUnit></hsaUnit>
    </hsaUnits></FileGetHsaUnitsResponse>"""
    (care_unit, member), _ = read_hsa_units(content)
    assert (care_unit.is_care_unit, care_unit.responsible_care_giver, care_unit.members) == (
        True, "SE-VG1", ("SE-MO1", "SE-MO2")
    )
    assert (member.is_care_unit, member.members) == (False, ())
