"""Read a directory import document (HSA and PU data as JSON) into checked domain values.

The document format is described in ``docs/directory-format.md``. Reading is **all or nothing**: the
first problem raises ``DirectoryFormatError`` and nothing is returned, so an operator never ends up
with half a directory. The error names the record by list and index (``personnel[3]``), never by
a personnummer, so that it can be printed and logged.

What can be checked without the database is checked here: shapes and types, unknown fields (a
misspelt ``deceased`` must not silently import a living patient), non-empty HSA-ids, personnummer
and samordningsnummer (date and check digit, via ``domain.personnummer``), duplicate ids, references
between records of the document, a sub-unit's care giver matching its parent's, and cycles in the
unit tree. A reference to an HSA-id that is not in the document is accepted here on the assumption
that it is already in the directory; ``store.directory.import_directory`` checks that against the
database before it writes anything.

The input is what ``json.load`` returns; reading the file is the CLI's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.directory import Assignment, CareGiver, HsaNode, Person, Personnel, Unit
from domain.personnummer import InvalidPersonId, is_samordningsnummer, parse_person_id
from domain.values import HsaId, PersonIdKind

_DOCUMENT = "document"
_TOP_FIELDS = frozenset({"producedAt", "careGivers", "units", "personnel", "patients"})
_CARE_GIVER_FIELDS = frozenset({"hsaId", "name"})
_UNIT_FIELDS = frozenset(
    {"hsaId", "name", "careGiver", "parent", "arbetsplatskod", "postalAddress", "postalCode", "city",
     "phone", "email"}
)
_PERSONNEL_FIELDS = frozenset(
    {"hsaId", "name", "licensedProfessions", "positionCodes", "groupPrescriberCodes",
     "prescriberCode", "assignments"}
)
_ASSIGNMENT_FIELDS = frozenset({"unit", "purpose"})
_PATIENT_FIELDS = frozenset(
    {"personId", "givenName", "middleName", "familyName", "postalAddress", "postalCode", "city",
     "deceased", "protectedIdentity", "testIndicator"}
)


class DirectoryFormatError(Exception):
    """Raised when a directory document is malformed; nothing of it may be imported.

    ``record`` is ``document`` or a list entry such as ``units[2]``; ``field`` is the field inside it
    (``parent``, ``assignments[0].unit``); ``reason`` says what is wrong. No text carries a personnummer.
    """

    def __init__(self, record: str, field: str, reason: str) -> None:
        super().__init__(f"{record}: {field}: {reason}")
        self.record = record
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DirectoryDocument:
    """A checked directory document. The lists keep the document's order (and so its indexes)."""

    produced_at: datetime | None
    care_givers: tuple[CareGiver, ...] = ()
    units: tuple[Unit, ...] = ()
    personnel: tuple[Personnel, ...] = ()
    patients: tuple[Person, ...] = ()


def parse_directory_document(data: Mapping[str, Any]) -> DirectoryDocument:
    """Check a loaded JSON document and return its records as domain values.

    Raises:
        DirectoryFormatError: at the first problem, naming the record and the field.
    """
    if not isinstance(data, Mapping):
        raise DirectoryFormatError(_DOCUMENT, "", "the document must be a JSON object")
    _known_fields(data, _DOCUMENT, _TOP_FIELDS)
    produced_at = _timestamp(data, "producedAt")
    care_givers = tuple(
        _care_giver(record, where) for where, record in _records(data, "careGivers")
    )
    units = tuple(_unit(record, where) for where, record in _records(data, "units"))
    personnel = tuple(_personnel(record, where) for where, record in _records(data, "personnel"))
    patients = tuple(_patient(record, where) for where, record in _records(data, "patients"))

    _unique("careGivers", (c.hsa_id.key for c in care_givers), "hsaId")
    _unique("units", (u.hsa_id.key for u in units), "hsaId")
    _unique("personnel", (p.hsa_id.key for p in personnel), "hsaId")
    _unique("patients", (p.person_id.digits for p in patients), "personId")
    _check_unit_tree(units)
    return DirectoryDocument(produced_at, care_givers, units, personnel, patients)


def _check_unit_tree(units: Sequence[Unit]) -> None:
    by_key = {unit.hsa_id.key: unit for unit in units}
    for index, unit in enumerate(units):
        where = f"units[{index}]"
        parent = by_key.get(unit.parent.key) if unit.parent else None
        if parent is not None and parent.care_giver != unit.care_giver:
            raise DirectoryFormatError(
                where, "careGiver", f"differs from the care giver of parent unit {parent.hsa_id}"
            )
        seen = {unit.hsa_id.key}
        while parent is not None:
            if parent.hsa_id.key in seen:
                raise DirectoryFormatError(where, "parent", "the unit tree has a cycle through here")
            seen.add(parent.hsa_id.key)
            parent = by_key.get(parent.parent.key) if parent.parent else None


def _unique(list_name: str, keys: Iterable[str], field: str) -> None:
    first_index: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key in first_index:
            raise DirectoryFormatError(
                f"{list_name}[{index}]", field, f"duplicate of {list_name}[{first_index[key]}]"
            )
        first_index[key] = index


def _care_giver(record: Mapping[str, Any], where: str) -> CareGiver:
    _known_fields(record, where, _CARE_GIVER_FIELDS)
    return CareGiver(hsa_id=_hsa_id(record, where, "hsaId"), name=_text(record, where, "name"))


def _unit(record: Mapping[str, Any], where: str) -> Unit:
    _known_fields(record, where, _UNIT_FIELDS)
    hsa_id = _hsa_id(record, where, "hsaId")
    parent = _optional_hsa_id(record, where, "parent")
    if parent == hsa_id:
        raise DirectoryFormatError(where, "parent", "a unit cannot be its own parent")
    return Unit(
        hsa_id=hsa_id,
        name=_text(record, where, "name"),
        care_giver=_hsa_id(record, where, "careGiver"),
        parent=parent,
        arbetsplatskod=_optional_text(record, where, "arbetsplatskod"),
        postal_address=_optional_text(record, where, "postalAddress"),
        postal_code=_optional_text(record, where, "postalCode"),
        city=_optional_text(record, where, "city"),
        phone=_optional_text(record, where, "phone"),
        email=_optional_text(record, where, "email"),
    )


def _personnel(record: Mapping[str, Any], where: str) -> Personnel:
    _known_fields(record, where, _PERSONNEL_FIELDS)
    hsa_id = _hsa_id(record, where, "hsaId")
    name = _text(record, where, "name")
    assignments: list[Assignment] = []
    for index, item in enumerate(_list(record, where, "assignments")):
        field = f"assignments[{index}]"
        if not isinstance(item, Mapping):
            raise DirectoryFormatError(where, field, "must be an object")
        unknown = sorted(set(item) - _ASSIGNMENT_FIELDS)
        if unknown:
            raise DirectoryFormatError(where, f"{field}.{unknown[0]}", "unknown field")
        unit = _hsa_id(item, where, "unit", prefix=f"{field}.")
        assignment = Assignment(unit, _text(item, where, "purpose", prefix=f"{field}."))
        if assignment in assignments:
            raise DirectoryFormatError(where, field, "the same unit and purpose are listed twice")
        assignments.append(assignment)
    return Personnel(
        hsa_id=hsa_id,
        name=name,
        licensed_professions=_texts(record, where, "licensedProfessions"),
        position_codes=_texts(record, where, "positionCodes"),
        group_prescriber_codes=_texts(record, where, "groupPrescriberCodes"),
        prescriber_code=_optional_text(record, where, "prescriberCode"),
        assignments=tuple(assignments),
    )


def _patient(record: Mapping[str, Any], where: str) -> Person:
    _known_fields(record, where, _PATIENT_FIELDS)
    digits = _text(record, where, "personId")
    kind = PersonIdKind.SAMORDNINGSNUMMER if is_samordningsnummer(digits) else PersonIdKind.PERSONNUMMER
    try:
        person_id = parse_person_id(kind.value, digits)
    except InvalidPersonId as error:
        raise DirectoryFormatError(
            where, "personId", f"not a valid personnummer or samordningsnummer ({error.reason.value})"
        ) from None
    return Person(
        person_id=person_id,
        given_name=_text(record, where, "givenName"),
        family_name=_text(record, where, "familyName"),
        middle_name=_optional_text(record, where, "middleName"),
        postal_address=_optional_text(record, where, "postalAddress"),
        postal_code=_optional_text(record, where, "postalCode"),
        city=_optional_text(record, where, "city"),
        deceased=_flag(record, where, "deceased"),
        protected_identity=_flag(record, where, "protectedIdentity"),
        test_indicator=_flag(record, where, "testIndicator"),
    )


# --- field readers: each raises DirectoryFormatError naming the record and the field ---


def _records(data: Mapping[str, Any], name: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for index, record in enumerate(_list(data, _DOCUMENT, name)):
        where = f"{name}[{index}]"
        if not isinstance(record, Mapping):
            raise DirectoryFormatError(where, "", "must be an object")
        yield where, record


def _known_fields(record: Mapping[str, Any], where: str, allowed: frozenset[str]) -> None:
    unknown = sorted(str(name) for name in record if name not in allowed)
    if unknown:
        raise DirectoryFormatError(where, unknown[0], "unknown field")


def _list(record: Mapping[str, Any], where: str, name: str) -> list[Any]:
    value = record.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DirectoryFormatError(where, name, "must be a list")
    return value


def _text(record: Mapping[str, Any], where: str, name: str, prefix: str = "") -> str:
    value = _optional_text(record, where, name, prefix)
    if value is None:
        raise DirectoryFormatError(where, prefix + name, "required")
    return value


def _optional_text(
    record: Mapping[str, Any], where: str, name: str, prefix: str = ""
) -> str | None:
    """A trimmed string; absent, null and blank all mean "not given"."""
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DirectoryFormatError(where, prefix + name, "must be a string")
    return value.strip() or None


def _hsa_id(record: Mapping[str, Any], where: str, name: str, prefix: str = "") -> HsaId:
    return HsaId(_text(record, where, name, prefix))


def _optional_hsa_id(record: Mapping[str, Any], where: str, name: str) -> HsaId | None:
    value = _optional_text(record, where, name)
    return HsaId(value) if value is not None else None


def _texts(record: Mapping[str, Any], where: str, name: str) -> tuple[str, ...]:
    values: list[str] = []
    for index, item in enumerate(_list(record, where, name)):
        if not isinstance(item, str) or not item.strip():
            raise DirectoryFormatError(where, f"{name}[{index}]", "must be a non-empty string")
        if item.strip() in values:
            raise DirectoryFormatError(where, f"{name}[{index}]", "listed twice")
        values.append(item.strip())
    return tuple(values)


def _flag(record: Mapping[str, Any], where: str, name: str) -> bool:
    value = record.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise DirectoryFormatError(where, name, "must be true or false")
    return value


def _timestamp(record: Mapping[str, Any], name: str) -> datetime | None:
    value = _optional_text(record, _DOCUMENT, name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise DirectoryFormatError(_DOCUMENT, name, "not an ISO 8601 date and time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise DirectoryFormatError(_DOCUMENT, name, "needs a time zone, e.g. 2026-11-20T08:00:00Z")
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class HsaUnitEntry:
    """One ``hsaUnit`` of the platform's HSA unit file (``FileGetHsaUnitsResponse``), as read."""

    hsa_id: str
    dn: str
    name: str | None = None
    is_care_giver: bool = False
    responsible_care_giver: str | None = None
    is_care_unit: bool = False
    members: tuple[str, ...] = ()  # hsaHealthCareUnitMembers: the units linked to this care unit


@dataclass(frozen=True, slots=True)
class ImportWarning:
    """A field quirk of an imported file that was worked around, named like ``DirectoryFormatError``.

    ``record`` is ``document`` or ``hsaUnits[3]``, ``field`` the element, ``reason`` what was done.
    """

    record: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.record}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class HsaTree:
    """An HSA unit file as care givers and units, the entries that were placed, and the quirks worked around."""

    document: DirectoryDocument
    warnings: tuple[ImportWarning, ...] = ()
    entries: tuple[HsaUnitEntry, ...] = ()  # what the tree was built from: for ``hsa_nodes_from_file``


def _dn_key(dn: str) -> tuple[str, ...]:
    """A DN as a tuple of normalised RDNs, leftmost first; commas escaped with a backslash stay inside."""
    parts, current, escaped = [], "", False
    for char in dn:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            current, escaped = current + char, True
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return tuple(" ".join(part.split()).casefold() for part in parts if part.strip())


def _usable_entries(entries: Sequence[HsaUnitEntry]) -> tuple[dict[tuple[str, ...], HsaUnitEntry], list[ImportWarning]]:
    """The entries by DN, with what cannot be placed left out and exact repeats kept once (warnings).

    An entry without an HSA-id or a DN has no place in a tree that is climbed by HSA-id along DNs:
    it is left out, and nodes below it climb past it as the platform's HSA cache would. The same node
    twice (same HSA-id and DN, whatever the case or spacing) is kept once. What would make the tree
    ambiguous is refused: two HSA-ids at one DN (which is the parent of the nodes below?) or one
    HSA-id at two DNs (which parent does it have?).

    Raises:
        DirectoryFormatError: a DN holding two HSA-ids, or an HSA-id at two DNs.
    """
    by_dn: dict[tuple[str, ...], HsaUnitEntry] = {}
    dn_of: dict[str, tuple[str, ...]] = {}
    where_of: dict[tuple[str, ...], str] = {}
    warnings: list[ImportWarning] = []
    for index, entry in enumerate(entries):
        where = f"hsaUnits[{index}]"
        key = _dn_key(entry.dn)
        hsa_id = entry.hsa_id.strip()
        if not hsa_id or not key:
            field = "hsaIdentity" if not hsa_id else "DN"
            warnings.append(ImportWarning(where, field, "is missing: the node is left out of the tree"))
            continue
        if len(hsa_id.split()) > 1:
            warnings.append(ImportWarning(where, "hsaIdentity", f"{hsa_id!r} has whitespace inside"))
        id_key = hsa_id.casefold()
        seen = by_dn.get(key)
        if seen is not None and seen.hsa_id.strip().casefold() == id_key:
            repeat = f"repeats {where_of[key]} ({seen.hsa_id.strip()}): kept once"
            warnings.append(ImportWarning(where, "hsaUnit", repeat))
            continue
        if seen is not None:
            raise DirectoryFormatError(where, "DN", f"duplicate of {seen.hsa_id}")
        if id_key in dn_of:
            raise DirectoryFormatError(where, "hsaIdentity", f"{hsa_id} is also at {where_of[dn_of[id_key]]} "
                                                             "with another DN")
        by_dn[key], dn_of[id_key], where_of[key] = entry, key, where
    return by_dn, warnings


def directory_from_hsa_units(entries: Sequence[HsaUnitEntry], produced_at: datetime | None) -> HsaTree:
    """Turn an HSA unit file into care givers and units, the tree taken from the DN hierarchy.

    As the platform's HSA cache does, a node's parent is the nearest ancestor DN present in the file
    (dropping RDNs from the left). Nodes flagged ``isHsaHealthCareProvider`` become care givers; every
    node below one becomes a unit of that care giver (``hsaResponsibleHealthCareProvider`` wins when
    given, unless it names a node of the file that is no care giver: one wrong attribute must not
    refuse the whole of HSA, and ``intygsgateway directory check`` reports it), its parent unit being
    the nearest ancestor that is not the care giver. Nodes above the care givers (the country,
    counties) are not kept: climbing ends at ``SE`` anyway.

    The field's quirks are worked around and reported as warnings rather than refusing a national
    file for one bad node (``_usable_entries``); what would make the tree ambiguous is refused.

    Raises:
        DirectoryFormatError: a DN holding two HSA-ids, an HSA-id at two DNs, or a unit whose
            responsible care giver is not its parent unit's.
    """
    by_dn, warnings = _usable_entries(entries)

    def parent_of(key: tuple[str, ...]) -> tuple[str, ...] | None:
        for cut in range(1, len(key)):
            if key[cut:] in by_dn:
                return key[cut:]
        return None

    kept = list(by_dn.items())
    care_givers = [CareGiver(HsaId(e.hsa_id), e.name or e.hsa_id.strip()) for _key, e in kept if e.is_care_giver]
    in_file = {HsaId(e.hsa_id): e for _key, e in kept}
    units: list[Unit] = []
    for key, entry in kept:
        if entry.is_care_giver:
            continue
        chain, node = [], parent_of(key)
        while node is not None and not by_dn[node].is_care_giver:
            chain.append(node)
            node = parent_of(node)
        named = entry.responsible_care_giver
        if named and HsaId(named) in in_file and not in_file[HsaId(named)].is_care_giver:
            named = None  # names a node of the file that is no care giver: the unit check reports it
        if node is None and not named:
            continue  # above or outside every care giver (the unit check reports a care unit left here)
        care_giver = named or by_dn[node].hsa_id  # type: ignore[index]
        parent = HsaId(by_dn[chain[0]].hsa_id) if chain and node is not None else None
        units.append(Unit(HsaId(entry.hsa_id), entry.name or entry.hsa_id.strip(), HsaId(care_giver), parent))
    kept_ids = {unit.hsa_id for unit in units}
    # A unit whose parent chain leaves the care giver's subtree keeps no parent rather than a dangling one.
    units = [u if u.parent is None or u.parent in kept_ids else Unit(u.hsa_id, u.name, u.care_giver) for u in units]
    _check_unit_tree(units)
    document = DirectoryDocument(produced_at, tuple(care_givers), tuple(units))
    return HsaTree(document, tuple(warnings), tuple(entry for _key, entry in kept))


def hsa_nodes_from_file(entries: Sequence[HsaUnitEntry]) -> list[HsaNode]:
    """What an HSA unit file states about each of its nodes, for the unit check.

    Everything the file says is kept, even what ``directory_from_hsa_units`` leaves out of the tree
    (a unit outside every care giver, a care giver flagged as a care unit too): those are the
    findings of ``intygsgateway directory check``. Call it on entries that passed
    ``directory_from_hsa_units`` (``HsaTree.entries``: unique HSA-ids and DNs).
    """
    by_dn = {_dn_key(entry.dn): entry for entry in entries}

    def care_giver_above(key: tuple[str, ...]) -> HsaId | None:
        for cut in range(1, len(key)):
            above = by_dn.get(key[cut:])
            if above is not None and above.is_care_giver:
                return HsaId(above.hsa_id)
        return None

    return [
        HsaNode(
            hsa_id=HsaId(entry.hsa_id),
            care_giver=entry.is_care_giver,
            care_unit=entry.is_care_unit,
            responsible_care_giver=HsaId(entry.responsible_care_giver) if entry.responsible_care_giver else None,
            dn_care_giver=care_giver_above(_dn_key(entry.dn)),
            members=tuple(dict.fromkeys(HsaId(member) for member in entry.members if member.strip())),
            stated=True,
        )
        for entry in entries
    ]
