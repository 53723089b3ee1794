"""HSA unit files with the field's quirks load into the tree the platform climbs; ambiguity is refused."""

from __future__ import annotations

import pytest

from contracts.hsa_units_file import read_hsa_units
from domain.directory_import import DirectoryFormatError, directory_from_hsa_units
from domain.values import HsaId
from tests.interop import hsa


@pytest.mark.parametrize(("encoding", "prefix", "bom"), [("UTF-8", "ns2", False), ("UTF-8", None, True),
                                                         ("ISO-8859-1", "hsa", False)])
def test_a_field_file_loads_with_its_quirks_counted(encoding: str, prefix: str | None, bom: bool) -> None:
    """Any encoding and prefix; the repeated node kept once, the nodes without id or DN left out, counted."""
    hsa_file = read_hsa_units(hsa.hsa_file(hsa.field_nodes(), encoding=encoding, prefix=prefix, bom=bom))
    tree = directory_from_hsa_units(hsa_file.entries, hsa_file.produced_at)
    assert hsa_file.warnings == []
    assert [(w.record, w.field) for w in tree.warnings] == [
        ("hsaUnits[4]", "hsaUnit"), ("hsaUnits[5]", "hsaIdentity"), ("hsaUnits[7]", "DN"),
    ]
    assert {c.hsa_id.value for c in tree.document.care_givers} == {"SE2321000016-0001", "SE2321000016-0002"}
    units = {u.hsa_id.value: u for u in tree.document.units}
    assert set(units) == {"SE2321000016-1000", "SE2321000016-1003", "SE2321000016-2000"}
    assert units["SE2321000016-1000"].name == "Vårdcentralen Ängelholm"
    # The node without an id is climbed past, as the platform's cache does: 1003's parent is 1000.
    assert units["SE2321000016-1003"].parent == HsaId("SE2321000016-1000")
    assert units["SE2321000016-2000"].care_giver == HsaId("SE2321000016-0002")


def test_two_hsa_ids_at_one_dn_make_the_tree_ambiguous_and_are_refused() -> None:
    """Which node is the parent of the ones below? Refused, naming the second."""
    nodes = [*hsa.field_nodes(), hsa.Node("SE2321000016-5555", "ou=Barnmottagningen,ou=Utan id,"
                                          "ou=Vårdcentralen Ängelholm,o=Region Skåne,l=Region Skåne,c=SE")]
    hsa_file = read_hsa_units(hsa.hsa_file(nodes))
    with pytest.raises(DirectoryFormatError) as refused:
        directory_from_hsa_units(hsa_file.entries, hsa_file.produced_at)
    assert (refused.value.record, refused.value.field) == (f"hsaUnits[{len(nodes) - 1}]", "DN")
