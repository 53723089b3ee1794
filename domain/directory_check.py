"""The unit check (vårdenhetskontroll) of the imported directory, and what else a region must fix.

The certificate flow depends on HSA's care-unit structure: status updates are addressed by the care
unit, the care giver is written on every certificate, users are allowed by assignments on units. The
national service asks administrators to check six things every six months; the gateway checks them
on the directory it imported (after every import, monthly by the scheduler, and on demand with
``intygsgateway directory check``):

1. ``CARE_UNITS_LINKED``: care units are not linked to each other (a care unit lists another care
   unit among its members);
2. ``CARE_GIVER_NOT_A_CARE_GIVER``: the care giver a care unit names (hsaResponsibleHealthCareProvider)
   really is a care giver;
3. ``UNIT_IN_SEVERAL_CARE_UNITS``: a unit is linked to at most one care unit;
4. ``CARE_GIVER_LINKED_AS_UNIT``: a care giver is not linked as a unit under a care unit;
5. ``CARE_GIVER_AND_CARE_UNIT``: no unit is both care giver and care unit;
6. ``UNIT_WITHOUT_CARE_GIVER``: every care unit has a care giver (named, or above it in the DN tree).

and, because they break the flow here:

7. ``INTEGRATED_UNIT_MISSING``: a unit that creates drafts through CreateDraftCertificate is not in
   the directory (its next draft is refused as an unknown unit);
8. ``UNIT_WITHOUT_ARBETSPLATSKOD``: a unit where certificates are written (integrated, or with a care
   assignment) has no arbetsplatskod (status updates then carry ``TEMPORARY ARBETSPLATSKOD``);
9. ``ASSIGNMENT_ON_UNKNOWN_UNIT``: a person has an assignment on a unit the directory does not hold;
10. ``CARE_GIVER_GONE``: a care giver holds certificates here but is gone from the directory (see
    ``intygsgateway caregiver`` for what to do with them).

"Gone" is more than "not in the tables": the embedded directory never deletes (an import upserts),
so a node the latest HSA unit file no longer lists counts as gone (``DirectoryFacts.gone``).

Checks 1-6 read ``HsaNode`` values (stated by an HSA unit file, or derived from a JSON document's
tree, where the import already refuses most of these shapes). Everything here is pure; the store
gathers the facts (``store.directory_check``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from domain.directory import CARE_AND_TREATMENT, HsaNode
from domain.values import HsaId


class FindingKind(StrEnum):
    """What a finding is about; the numbers are those of the module docstring."""

    CARE_UNITS_LINKED = "CARE_UNITS_LINKED"
    CARE_GIVER_NOT_A_CARE_GIVER = "CARE_GIVER_NOT_A_CARE_GIVER"
    UNIT_IN_SEVERAL_CARE_UNITS = "UNIT_IN_SEVERAL_CARE_UNITS"
    CARE_GIVER_LINKED_AS_UNIT = "CARE_GIVER_LINKED_AS_UNIT"
    CARE_GIVER_AND_CARE_UNIT = "CARE_GIVER_AND_CARE_UNIT"
    UNIT_WITHOUT_CARE_GIVER = "UNIT_WITHOUT_CARE_GIVER"
    INTEGRATED_UNIT_MISSING = "INTEGRATED_UNIT_MISSING"
    UNIT_WITHOUT_ARBETSPLATSKOD = "UNIT_WITHOUT_ARBETSPLATSKOD"
    ASSIGNMENT_ON_UNKNOWN_UNIT = "ASSIGNMENT_ON_UNKNOWN_UNIT"
    CARE_GIVER_GONE = "CARE_GIVER_GONE"


_TEXTS: dict[FindingKind, str] = {
    FindingKind.CARE_UNITS_LINKED: "care unit {subject} lists care unit {related} as a member unit",
    FindingKind.CARE_GIVER_NOT_A_CARE_GIVER: "care unit {subject} names {related} as its care giver, "
    "which is not a care giver",
    FindingKind.UNIT_IN_SEVERAL_CARE_UNITS: "unit {subject} is linked to several care units: {related}",
    FindingKind.CARE_GIVER_LINKED_AS_UNIT: "care giver {related} is linked as a unit under care unit {subject}",
    FindingKind.CARE_GIVER_AND_CARE_UNIT: "{subject} is both a care giver and a care unit",
    FindingKind.UNIT_WITHOUT_CARE_GIVER: "care unit {subject} has no care giver",
    FindingKind.INTEGRATED_UNIT_MISSING: "integrated unit {subject} (care giver {related}) is not in the directory",
    FindingKind.UNIT_WITHOUT_ARBETSPLATSKOD: "unit {subject}, where certificates are written, has no arbetsplatskod",
    FindingKind.ASSIGNMENT_ON_UNKNOWN_UNIT: "{subject} has an assignment on unit {related}, which is not in the "
    "directory",
    FindingKind.CARE_GIVER_GONE: "care giver {subject} is gone from the directory but holds {count} certificates",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: its kind, the HSA-id it is about, the other HSA-ids involved, and a count."""

    kind: FindingKind
    subject: HsaId
    related: tuple[HsaId, ...] = ()
    count: int | None = None

    def text(self) -> str:
        """One line in English for operators and logs (HSA-ids only, never patient data)."""
        return _TEXTS[self.kind].format(
            subject=self.subject.value, related=", ".join(r.value for r in self.related), count=self.count
        )

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind.value, "subject": self.subject.value,
                "related": [r.value for r in self.related], "count": self.count, "text": self.text()}


@dataclass(frozen=True, slots=True)
class UnitPlace:
    """A unit in the embedded directory: its place in the tree and its arbetsplatskod."""

    hsa_id: HsaId
    care_giver: HsaId
    arbetsplatskod: str | None
    parent: HsaId | None = None


@dataclass(frozen=True, slots=True)
class DirectoryFacts:
    """Everything the check reads, gathered by the store in one transaction.

    ``stated`` is what the latest HSA unit file says about the nodes it lists; ``units`` and
    ``care_givers`` are the embedded directory's rows (nodes no file states are derived from them,
    ``derived_nodes``); ``gone`` the HSA-ids the latest HSA unit file no longer lists (they stay in
    the tables, since imports never delete).
    """

    stated: tuple[HsaNode, ...] = ()
    units: tuple[UnitPlace, ...] = ()
    care_givers: frozenset[HsaId] = frozenset()
    gone: frozenset[HsaId] = frozenset()
    integrated_units: tuple[tuple[HsaId, HsaId], ...] = ()  # (unit, care giver)
    assignments: tuple[tuple[HsaId, HsaId, str], ...] = ()  # (person, unit, purpose) of every assignment
    certificates_by_care_giver: Mapping[HsaId, int] = field(default_factory=dict)


def _sorted(ids: Iterable[HsaId]) -> list[HsaId]:
    return sorted(set(ids), key=lambda hsa_id: hsa_id.key)


def check_unit_structure(nodes: Sequence[HsaNode]) -> list[Finding]:
    """Checks 1-6 over the nodes, each finding once, in a stable order (by HSA-id)."""
    by_id = {node.hsa_id: node for node in nodes}
    care_givers = {node.hsa_id for node in nodes if node.care_giver}
    findings: list[Finding] = []
    linked_to: dict[HsaId, list[HsaId]] = {}
    for node in sorted(nodes, key=lambda n: n.hsa_id.key):
        if node.care_giver and node.care_unit:
            findings.append(Finding(FindingKind.CARE_GIVER_AND_CARE_UNIT, node.hsa_id))
        if not node.care_unit:
            continue
        named = node.responsible_care_giver
        if named is not None and named not in care_givers:
            findings.append(Finding(FindingKind.CARE_GIVER_NOT_A_CARE_GIVER, node.hsa_id, (named,)))
        if named is None and node.dn_care_giver is None:
            findings.append(Finding(FindingKind.UNIT_WITHOUT_CARE_GIVER, node.hsa_id))
        for member_id in node.members:
            if member_id == node.hsa_id:
                continue
            linked_to.setdefault(member_id, []).append(node.hsa_id)
            member = by_id.get(member_id)
            if member is not None and member.care_unit:
                findings.append(Finding(FindingKind.CARE_UNITS_LINKED, node.hsa_id, (member_id,)))
            if member is not None and member.care_giver:
                findings.append(Finding(FindingKind.CARE_GIVER_LINKED_AS_UNIT, node.hsa_id, (member_id,)))
    for member_id in _sorted(linked_to):
        care_units = _sorted(linked_to[member_id])
        if len(care_units) > 1:
            findings.append(Finding(FindingKind.UNIT_IN_SEVERAL_CARE_UNITS, member_id, tuple(care_units)))
    return findings


def _pair_key(pair: tuple[HsaId, HsaId]) -> tuple[str, str]:
    return pair[0].key, pair[1].key


def check_directory(facts: DirectoryFacts) -> list[Finding]:
    """Every finding (checks 1-10), in the order of the module docstring."""
    known_units = {unit.hsa_id: unit for unit in facts.units if unit.hsa_id not in facts.gone}
    known_care_givers = facts.care_givers - facts.gone
    from_file = {node.hsa_id for node in facts.stated} | facts.gone
    derived = derived_nodes(
        [(unit.hsa_id, unit.care_giver, unit.parent) for unit in facts.units if unit.hsa_id not in from_file],
        [care_giver for care_giver in facts.care_givers if care_giver not in from_file],
    )
    findings = check_unit_structure([*facts.stated, *derived])
    integrated = sorted(facts.integrated_units, key=lambda pair: pair[0].key)
    findings += [
        Finding(FindingKind.INTEGRATED_UNIT_MISSING, unit, (care_giver,))
        for unit, care_giver in integrated
        if unit not in known_units
    ]
    care = CARE_AND_TREATMENT.casefold()
    writing = {unit for unit, _ in integrated} | {
        unit for _, unit, purpose in facts.assignments if purpose.strip().casefold() == care
    }
    findings += [
        Finding(FindingKind.UNIT_WITHOUT_ARBETSPLATSKOD, unit_id)
        for unit_id in _sorted(writing)
        if unit_id in known_units and not (known_units[unit_id].arbetsplatskod or "").strip()
    ]
    findings += [
        Finding(FindingKind.ASSIGNMENT_ON_UNKNOWN_UNIT, person, (unit,))
        for person, unit in sorted({(p, u) for p, u, _ in facts.assignments}, key=_pair_key)
        if unit not in known_units
    ]
    findings += [
        Finding(FindingKind.CARE_GIVER_GONE, care_giver, count=count)
        for care_giver, count in sorted(facts.certificates_by_care_giver.items(), key=lambda item: item[0].key)
        if count > 0 and care_giver not in known_care_givers
    ]
    return findings


def derived_nodes(units: Iterable[tuple[HsaId, HsaId, HsaId | None]], care_givers: Iterable[HsaId]) -> list[HsaNode]:
    """Nodes derived from a JSON directory's tree: ``units`` as (unit, care giver, parent).

    A care giver is a care giver; a unit without parent is a care unit naming its care giver, with
    its direct sub-units as members; a sub-unit is a member, with its care giver above it. An HSA-id
    that is both a care giver and a unit becomes one node with both flags.
    """
    nodes: dict[HsaId, HsaNode] = {cg: HsaNode(cg, care_giver=True) for cg in care_givers}
    unit_list = list(units)
    children: dict[HsaId, list[HsaId]] = {}
    for unit, _, parent in unit_list:
        if parent is not None:
            children.setdefault(parent, []).append(unit)
    for unit, care_giver, parent in unit_list:
        is_care_giver = unit in nodes
        if parent is None:
            node = HsaNode(unit, is_care_giver, True, care_giver, care_giver, tuple(_sorted(children.get(unit, ()))))
        else:
            node = HsaNode(unit, is_care_giver, False, None, care_giver)
        nodes[unit] = node
    return list(nodes.values())
