"""Reading the platform's HSA unit file (``FileGetHsaUnitsResponse``, ``urn:riv:hsa:HsaWsResponder:3``).

The virtualisation platform climbs the HSA tree from this file: one ``hsaUnit`` per node with its
``hsaIdentity`` and ``DN``. We read the same file into the directory (``intygsgateway directory
import FILE.xml``), so the gateway climbs exactly as the platform would. Elements are matched by local
name, so a file written with another prefix or without the namespace reads the same; unknown elements
(archive flags, dates) are ignored. The care-unit flag, the responsible care giver and the care
unit's members are read for the unit check (``domain.directory_check``). The tree is built from the DNs by
``domain.directory_import.directory_from_hsa_units``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from contracts.errors import WrongDocument
from contracts.xmlparse import parse_xml
from domain.directory_import import HsaUnitEntry


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if _local(child) == name:
            return (child.text or "").strip() or None
    return None


def _flag(element: etree._Element, name: str) -> bool:
    # xs:boolean allows "true" and "1" (and surrounding spaces, already trimmed).
    return (_child_text(element, name) or "").lower() in ("true", "1")


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


def read_hsa_units(content: bytes) -> tuple[list[HsaUnitEntry], datetime | None]:
    """The units of an HSA unit file and the file's ``startDate`` (when it was produced), if any.

    Raises:
        XmlRefused: not XML, a DTD (``HostileXml``), or a root other than ``FileGetHsaUnitsResponse``
            (``WrongDocument``).
    """
    root = parse_xml(content, document="an HSA unit file")
    if _local(root) != "FileGetHsaUnitsResponse":
        raise WrongDocument(f"the root element is {_local(root)!r}, not FileGetHsaUnitsResponse")
    entries = [
        HsaUnitEntry(
            hsa_id=_child_text(unit, "hsaIdentity") or "",
            dn=_child_text(unit, "DN") or "",
            name=_child_text(unit, "name") or _child_text(unit, "publicName"),
            is_care_giver=_flag(unit, "isHsaHealthCareProvider"),
            responsible_care_giver=_child_text(unit, "hsaResponsibleHealthCareProvider"),
            is_care_unit=_flag(unit, "isHsaHealthCareUnit"),
            members=_members(unit),
        )
        for unit in root.iter()
        if _local(unit) == "hsaUnit"
    ]
    return entries, _produced_at(_child_text(root, "startDate"))


def _produced_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise WrongDocument(f"startDate {value!r} is not a date and time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
