"""Reading the platform's HSA unit file (``FileGetHsaUnitsResponse``, ``urn:riv:hsa:HsaWsResponder:3``).

The virtualisation platform climbs the HSA tree from this file: one ``hsaUnit`` per node with its
``hsaIdentity`` and ``DN``. We read the same file into the directory (``intygsgateway directory
import FILE.xml``), so the gateway climbs exactly as the platform would. Elements are matched by local
name, so a file written with another prefix or without the namespace reads the same; unknown elements
(archive flags, dates) are ignored; the encoding is the file's own (an XML declaration or a byte
order mark). The care-unit flag, the responsible care giver and the care unit's members are read for
the unit check (``domain.directory_check``). The tree is built from the DNs by
``domain.directory_import.directory_from_hsa_units``.

Field quirks are read leniently and reported (``ImportWarning``) rather than refusing a national file:
a flag written ``TRUE`` or ``1`` (``xs:boolean``) is true, one that is no boolean at all counts as
false, and a ``startDate`` that is no date leaves the file's age unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from contracts.errors import WrongDocument
from contracts.xmlparse import parse_xml
from domain.directory_import import HsaUnitEntry, ImportWarning

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0", ""})


@dataclass(frozen=True, slots=True)
class HsaUnitFile:
    """What an HSA unit file holds: its units, when it was produced (if readable), and read quirks."""

    entries: list[HsaUnitEntry]
    produced_at: datetime | None
    warnings: list[ImportWarning] = field(default_factory=list)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if _local(child) == name:
            return (child.text or "").strip() or None
    return None


def _members(unit: etree._Element) -> tuple[str, ...]:
    """The HSA-ids in ``hsaHealthCareUnitMembers``: each member's ``hsaIdentity``, or its text.

    The platform's file nests one ``hsaHealthCareUnitMember`` per member with the member's own
    ``hsaIdentity`` (and name, DN); a flattened export may give the id as the member's text. Both read.
    """
    ids: list[str] = []
    for holder in unit:
        if _local(holder) != "hsaHealthCareUnitMembers":
            continue
        for member in holder:
            if not isinstance(member.tag, str):
                continue
            identity = _child_text(member, "hsaIdentity") or (member.text or "").strip()
            if identity:
                ids.append(identity)
    return tuple(ids)


def read_hsa_units(content: bytes) -> HsaUnitFile:
    """The units of an HSA unit file, the file's ``startDate`` (when it was produced) and read quirks.

    Raises:
        XmlRefused: not XML, a DTD (``HostileXml``), or a root other than ``FileGetHsaUnitsResponse``
            (``WrongDocument``).
    """
    root = parse_xml(content, document="an HSA unit file")
    if _local(root) != "FileGetHsaUnitsResponse":
        raise WrongDocument(f"the root element is {_local(root)!r}, not FileGetHsaUnitsResponse")
    warnings: list[ImportWarning] = []
    units = [unit for unit in root.iter() if _local(unit) == "hsaUnit"]
    entries = [
        HsaUnitEntry(
            hsa_id=_child_text(unit, "hsaIdentity") or "",
            dn=_child_text(unit, "DN") or "",
            name=_child_text(unit, "name") or _child_text(unit, "publicName"),
            is_care_giver=_flag(unit, "isHsaHealthCareProvider", f"hsaUnits[{index}]", warnings),
            responsible_care_giver=_child_text(unit, "hsaResponsibleHealthCareProvider"),
            is_care_unit=_flag(unit, "isHsaHealthCareUnit", f"hsaUnits[{index}]", warnings),
            members=_members(unit),
        )
        for index, unit in enumerate(units)
    ]
    return HsaUnitFile(entries, _produced_at(_child_text(root, "startDate"), warnings), warnings)


def _flag(unit: etree._Element, name: str, where: str, warnings: list[ImportWarning]) -> bool:
    """An ``xs:boolean`` flag: "true"/"1" in any case is true; anything but a boolean is false, with a warning."""
    value = _child_text(unit, name)
    text = (value or "").casefold()
    if text in _TRUE:
        return True
    if text not in _FALSE:
        warnings.append(ImportWarning(where, name, f"{value!r} is no boolean: read as false"))
    return False


def _produced_at(value: str | None, warnings: list[ImportWarning]) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        warnings.append(ImportWarning("document", "startDate", f"{value!r} is not a date and time: the file's "
                                                              "age is unknown"))
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
