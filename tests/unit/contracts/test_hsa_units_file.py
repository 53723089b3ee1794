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
    hsa_file = read_hsa_units(HSA_FILE)
    produced_at = hsa_file.produced_at
    assert produced_at is not None and produced_at.isoformat() == "2026-11-20T01:25:00+00:00"
    tree = directory_from_hsa_units(hsa_file.entries, produced_at)
    document = tree.document
    assert hsa_file.warnings == [] and tree.warnings == ()
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
    ], None).document
    assert document.units[0].care_giver == HsaId("CG")


def test_duplicate_dn_is_refused() -> None:
    """Two nodes with one DN make the tree ambiguous: refused, naming the second."""
    with pytest.raises(DirectoryFormatError) as raised:
        directory_from_hsa_units([HsaUnitEntry("A", "o=x,c=SE"), HsaUnitEntry("B", "O=X, c=se")], None)
    assert (raised.value.record, raised.value.field) == ("hsaUnits[1]", "DN")


def test_one_hsa_id_at_two_dns_is_refused() -> None:
    """A node in two places of the tree: which parent does it have? Refused, naming the second."""
    with pytest.raises(DirectoryFormatError) as raised:
        directory_from_hsa_units([HsaUnitEntry("A", "o=x,c=SE"), HsaUnitEntry("a", "o=y,c=SE")], None)
    assert (raised.value.record, raised.value.field) == ("hsaUnits[1]", "hsaIdentity")


def test_field_quirks_are_worked_around_and_counted() -> None:
    """The same node twice, nodes without id or DN and odd flags load, each quirk a warning naming the node."""
    entries = [
        HsaUnitEntry("CG", "o=B,c=SE", "B", is_care_giver=True),
        HsaUnitEntry("U1", "ou=A,o=B,c=SE", "A"),
        HsaUnitEntry("u1 ", "OU=A, O=B, C=SE", "A again"),  # the same node, other case and spacing
        HsaUnitEntry("", "ou=Gone,ou=A,o=B,c=SE"),  # no id: left out
        HsaUnitEntry("U2", "ou=C,ou=Gone,ou=A,o=B,c=SE", "C"),  # climbs past the node without an id
        HsaUnitEntry("U3", "   "),  # no DN: left out
    ]
    tree = directory_from_hsa_units(entries, None)
    units = {u.hsa_id.value: u for u in tree.document.units}
    assert set(units) == {"U1", "U2"} and units["U1"].name == "A"
    assert units["U2"].parent == HsaId("U1") and units["U2"].care_giver == HsaId("CG")
    assert [(w.record, w.field) for w in tree.warnings] == [
        ("hsaUnits[2]", "hsaUnit"), ("hsaUnits[3]", "hsaIdentity"), ("hsaUnits[5]", "DN"),
    ]
    assert "repeats hsaUnits[1]" in tree.warnings[0].reason


def test_lenient_reading_of_flags_dates_and_encodings() -> None:
    """TRUE and 1 are true; a non-boolean flag and an unreadable startDate are warnings; ISO-8859-1 reads."""
    content = (
        "<?xml version='1.0' encoding='ISO-8859-1'?>\n<FileGetHsaUnitsResponse><startDate>igår</startDate><hsaUnits>"
        "<hsaUnit><hsaIdentity>CG</hsaIdentity><DN>o=Region Skåne,c=SE</DN>"
        "<isHsaHealthCareProvider>TRUE</isHsaHealthCareProvider></hsaUnit>"
        "<hsaUnit><hsaIdentity>CG2</hsaIdentity><DN>o=Other,c=SE</DN>"
        "<isHsaHealthCareProvider>1</isHsaHealthCareProvider></hsaUnit>"
        "<hsaUnit><hsaIdentity>U</hsaIdentity><DN>ou=Vårdcentralen,o=Region Skåne,c=SE</DN>"
        "<name>Vårdcentralen</name><isHsaHealthCareProvider>ja</isHsaHealthCareProvider></hsaUnit>"
        "</hsaUnits></FileGetHsaUnitsResponse>"
    ).encode("iso-8859-1")
    hsa_file = read_hsa_units(content)
    assert [e.is_care_giver for e in hsa_file.entries] == [True, True, False]
    assert hsa_file.produced_at is None
    assert [(w.record, w.field) for w in hsa_file.warnings] == [
        ("hsaUnits[2]", "isHsaHealthCareProvider"), ("document", "startDate"),
    ]
    [unit] = directory_from_hsa_units(hsa_file.entries, None).document.units
    assert unit.name == "Vårdcentralen" and unit.care_giver == HsaId("CG")


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
    care_unit, member = read_hsa_units(content).entries
    assert (care_unit.is_care_unit, care_unit.responsible_care_giver, care_unit.members) == (
        True, "SE-VG1", ("SE-MO1", "SE-MO2")
    )
    assert (member.is_care_unit, member.members) == (False, ())
