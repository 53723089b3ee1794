"""Build StoreLog v2 SOAP messages for tests, with keyword overrides per entry.

The defaults describe the physician SE2321000016-P001 reading a certificate of patient 191212121212
at unit SE2321000016-1000 of care giver SE2321000016-0001 (the demo directory's people), logged by a
journal system. Namespaces come from ``tests.envelopes``, not from production code, so the tests hold the wire
format against a statement of their own (contracts.md §8).

Wire reminders: every child of ``log`` and below is in the ``log`` namespace
(``urn:riv:informationsecurity:auditing:log:2``), only ``StoreLog``/``log`` and the response's
``result`` are in the responder namespace; the result has no ``errorId``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from lxml import etree

from tests.envelopes import (
    LOG_NS,
    SLR_NS,
    Element,
    logical_address_header,
    soap_envelope,
)

NSMAP = {"slr": SLR_NS, "log": LOG_NS}

PERSONNUMMER_ROOT = "1.2.752.129.2.1.3.1"
SAMORDNINGSNUMMER_ROOT = "1.2.752.129.2.1.3.3"
LOGICAL_ADDRESS = "SE165565594230-1000"
DEFAULT_START = "2026-11-20T08:15:00"

#: Defaults of one entry; ``entry(**overrides)`` replaces any of them, None leaves an element out.
DEFAULTS: dict[str, str | None] = {
    "system_id": "SE2321000016-JOURNAL",
    "system_name": "Journalen",
    "activity_type": "Läsa",
    "activity_level": "9f1b7c8e-0a4e-4a43-9d8e-3f6a9c2b1d11",
    "activity_args": None,
    "start_date": DEFAULT_START,
    "purpose": "Vård och behandling",
    "user_id": "SE2321000016-P001",
    "user_name": None,
    "assignment": "Vårdcentralen Alfa",
    "title": "Läkare",
    "user_care_provider_id": "SE2321000016-0001",
    "user_care_provider_name": "Region Demo",
    "user_care_unit_id": "SE2321000016-1000",
    "user_care_unit_name": "Alfa vårdenhet",
    "resource_type": "Intyg",
    "patient_root": PERSONNUMMER_ROOT,
    "patient_id": "191212121212",
    "patient_name": None,
    "resource_care_provider_id": "SE2321000016-0001",
    "resource_care_provider_name": "Region Demo",
    "resource_care_unit_id": "SE2321000016-1000",
    "resource_care_unit_name": "Alfa vårdenhet",
}


def _sub(parent: Element, name: str, text: str | None = None) -> Element:
    child = etree.SubElement(parent, f"{{{LOG_NS}}}{name}")
    if text is not None:
        child.text = text
    return child


def _optional(parent: Element, name: str, text: str | None) -> None:
    if text is not None:
        _sub(parent, name, text)


def _care(parent: Element, name: str, kind: str, hsa_id: str | None, label: str | None) -> None:
    holder = _sub(parent, name)
    _sub(holder, f"{kind}Id", hsa_id)
    _optional(holder, f"{kind}Name", label)


def entry(log_id: str | None = None, *, resources: int = 1, **overrides: str | None) -> Element:
    """Return one ``slr:log`` element; ``resources`` repeats the resource (same patient)."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown entry fields: {sorted(unknown)}")
    v: dict[str, Any] = {**DEFAULTS, **overrides}
    log = etree.Element(f"{{{SLR_NS}}}log", nsmap=NSMAP)
    _sub(log, "logId", log_id or str(uuid.uuid4()))
    system = _sub(log, "system")
    _sub(system, "systemId", v["system_id"])
    _optional(system, "systemName", v["system_name"])
    activity = _sub(log, "activity")
    _sub(activity, "activityType", v["activity_type"])
    _optional(activity, "activityLevel", v["activity_level"])
    _optional(activity, "activityArgs", v["activity_args"])
    _sub(activity, "startDate", v["start_date"])
    _sub(activity, "purpose", v["purpose"])
    user = _sub(log, "user")
    _sub(user, "userId", v["user_id"])
    _optional(user, "name", v["user_name"])
    _optional(user, "assignment", v["assignment"])
    _optional(user, "title", v["title"])
    _care(user, "careProvider", "careProvider", v["user_care_provider_id"], v["user_care_provider_name"])
    _care(user, "careUnit", "careUnit", v["user_care_unit_id"], v["user_care_unit_name"])
    holder = _sub(log, "resources")
    for _ in range(resources):
        resource = _sub(holder, "resource")
        _sub(resource, "resourceType", v["resource_type"])
        if v["patient_id"] is not None or v["patient_root"] is not None:
            patient = _sub(resource, "patient")
            patient_id = _sub(patient, "patientId")
            _sub(patient_id, "root", v["patient_root"])
            _optional(patient_id, "extension", v["patient_id"])
            _optional(patient, "patientName", v["patient_name"])
        _care(
            resource, "careProvider", "careProvider", v["resource_care_provider_id"], v["resource_care_provider_name"]
        )
        if v["resource_care_unit_id"] is not None:
            _care(resource, "careUnit", "careUnit", v["resource_care_unit_id"], v["resource_care_unit_name"])
    return log


def store_log_body(*entries: Element) -> Element:
    """A ``slr:StoreLog`` element holding ``entries`` (one default entry if none)."""
    body = etree.Element(f"{{{SLR_NS}}}StoreLog", nsmap=NSMAP)
    for item in entries or (entry(),):
        body.append(item)
    return body


def store_log_envelope(
    *entries: Element, body: Element | None = None, logical_address: str | None = LOGICAL_ADDRESS
) -> bytes:
    """A complete StoreLog request; ``body`` replaces the one built from ``entries``."""
    headers: Sequence[Element] = [] if logical_address is None else [logical_address_header(logical_address)]
    return soap_envelope(body if body is not None else store_log_body(*entries), headers=headers)


def store_log_response(code: str, text: str | None = None, *extra: Element) -> Element:
    """A ``slr:StoreLogResponse`` element (for schema tests)."""
    response = etree.Element(f"{{{SLR_NS}}}StoreLogResponse", nsmap=NSMAP)
    result = etree.SubElement(response, f"{{{SLR_NS}}}result")
    _sub(result, "resultCode", code)
    _optional(result, "resultText", text)
    for element in extra:
        response.append(element)
    return response

