"""Read a schema-valid ``StoreLog`` element into ``LogEntry`` values (contracts.md §8.1).

No rules and no I/O: values are taken as sent, and an absent optional element is ``None``; trimming,
blank checks and the rest are ``domain.store_log``'s. Everything below ``log`` is in the auditing
log core namespace. Content at the ``##other`` extension points is accepted by the schema and not
kept: a PDL record holds the contract's fields only.
"""

from __future__ import annotations

from lxml import etree

from contracts.ns import AUDITING_LOG, STORE_LOG_V2, qname
from domain.store_log import LogEntry, Resource, read_start_date

_LOG = f"{{{AUDITING_LOG}}}"
_SKIP = len(_LOG)
_RESOURCES = qname(AUDITING_LOG, "resources")
_RESOURCE = qname(AUDITING_LOG, "resource")

Values = dict[str, str]


def _leaves(element: etree._Element, prefix: str, out: Values) -> Values:
    """Texts of the log-namespace elements below ``element`` by local name, prefixed with ``prefix``.

    Within one part of an entry (system, activity, user, one resource) the contract's leaf names are
    unique, so a local name is enough, and one C-level walk is much cheaper than a lookup per field.
    The first occurrence wins. Content at an extension point (``##other``: another namespace) is not
    read, nor anything inside it: the schema does not check what it holds, so a log-namespace element
    there must not stand in for an absent field. An empty element reads as "".
    """
    nodes = element.iterdescendants()
    for node in nodes:
        tag = node.tag
        if isinstance(tag, str) and tag.startswith(_LOG):
            out.setdefault(prefix + tag[_SKIP:], node.text or "")
        else:  # skip what the extension element holds: its descendants come next in the walk
            for _inner in node.iterdescendants():
                next(nodes)
    return out


def _resource(element: etree._Element) -> Resource:
    v = _leaves(element, "", {})
    return Resource(
        resource_type=v.get("resourceType", ""),
        care_giver_id=v.get("careProviderId", ""),
        care_giver_name=v.get("careProviderName"),
        care_unit_id=v.get("careUnitId"),
        care_unit_name=v.get("careUnitName"),
        patient_id_root=v.get("root"),
        patient_id=v.get("extension"),
        patient_name=v.get("patientName"),
    )


def _entry(position: int, log: etree._Element) -> LogEntry:
    # The schema has made the required values present; an absent one still reads as "".
    v: Values = {}
    resources: tuple[Resource, ...] = ()
    for part in log:
        tag = part.tag
        if tag == _RESOURCES:
            resources = tuple(_resource(element) for element in part if element.tag == _RESOURCE)
        elif isinstance(tag, str) and tag.startswith(_LOG) and len(part):
            _leaves(part, tag[_SKIP:] + "/", v)
        elif isinstance(tag, str) and tag.startswith(_LOG):
            v.setdefault(tag[_SKIP:], part.text or "")  # logId
    return LogEntry(
        position=position,
        log_id=v.get("logId", ""),
        system_id=v.get("system/systemId", ""),
        system_name=v.get("system/systemName"),
        activity=v.get("activity/activityType", ""),
        activity_level=v.get("activity/activityLevel"),
        activity_args=v.get("activity/activityArgs"),
        start_date=read_start_date(v.get("activity/startDate", "")),
        purpose=v.get("activity/purpose", ""),
        user_id=v.get("user/userId", ""),
        user_name=v.get("user/name"),
        user_person_id_root=v.get("user/root"),
        user_person_id=v.get("user/extension"),
        user_assignment=v.get("user/assignment"),
        user_title=v.get("user/title"),
        user_care_giver_id=v.get("user/careProviderId", ""),
        user_care_giver_name=v.get("user/careProviderName"),
        user_care_unit_id=v.get("user/careUnitId", ""),
        user_care_unit_name=v.get("user/careUnitName"),
        resources=resources,
    )


def read_entries(body: etree._Element) -> list[LogEntry]:
    """Every ``log`` of the call, numbered from 1 in document order."""
    return [_entry(position, log) for position, log in enumerate(body.iterfind(qname(STORE_LOG_V2, "log")), start=1)]
