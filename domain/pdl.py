"""PDL access-log records (Patientdatalagen), shaped like a StoreLog v2 ``log`` entry.

The gateway writes one for every access it makes to patient data, through the same code that the
StoreLog service will use for records sent by other systems. Empty optional fields are ``None``, never
empty strings, so that they are omitted on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any


class Activity(StrEnum):
    """``activityType`` values, in Swedish as the national log service expects."""

    READ = "Läsa"
    WRITE = "Skriva"
    SIGN = "Signera"
    DELETE = "Radera"
    PRINT = "Utskrift"
    EMERGENCY_ACCESS = "Nödöppning"


PURPOSE_CARE = "Vård och behandling"
RESOURCE_CERTIFICATE = "Intyg"


def blank_to_none(value: str | None) -> str | None:
    """Trim a value and turn an empty result into None (StoreLog never carries empty elements)."""
    if value is None:
        return None
    trimmed = value.strip()
    return trimmed or None


@dataclass(frozen=True, slots=True)
class PdlRecord:
    """One access: who (user, in which unit), what (activity on a resource), for which patient, why."""

    log_id: str
    system_id: str
    activity: str
    start_date: datetime
    purpose: str
    user_id: str
    user_care_giver_id: str
    user_care_unit_id: str
    resource_type: str
    resource_care_giver_id: str
    system_name: str | None = None
    activity_level: str | None = None
    activity_args: str | None = None
    user_name: str | None = None
    user_assignment: str | None = None
    user_title: str | None = None
    user_care_giver_name: str | None = None
    user_care_unit_name: str | None = None
    patient_id_root: str | None = None
    patient_id: str | None = None
    patient_name: str | None = None
    resource_care_giver_name: str | None = None
    resource_care_unit_id: str | None = None
    resource_care_unit_name: str | None = None
    user_person_id_root: str | None = None
    user_person_id: str | None = None
    # A StoreLog entry may name several resources; it is kept as one record per resource, numbered
    # from 0 in the entry's order, all under the entry's logId.
    resource_index: int = 0
    # Who sent a StoreLog record: the consumer's HSA-id as access control identified it, and how
    # (``mtls`` or ``proxy``). None for the gateway's own records and with access control off.
    consumer_id: str | None = None
    consumer_auth: str | None = None


# Fields the contract requires: trimmed, but never turned into None (the checks refuse blanks).
REQUIRED_FIELDS = frozenset(
    f.name for f in fields(PdlRecord) if f.default is not None and f.name != "resource_index"
)


_FIELD_NAMES = tuple(f.name for f in fields(PdlRecord))
_ALL_VALUES = attrgetter(*_FIELD_NAMES)  # every field's value in one call, in the fields' order
_REQUIRED = tuple(name in REQUIRED_FIELDS for name in _FIELD_NAMES)


def normalised(record: PdlRecord) -> PdlRecord:
    """The record with every text trimmed and every blank optional field ``None``.

    Both the gateway's own records and records received with StoreLog pass through here before
    they are checked and chained, so the stored form (and so the hash) never depends on stray
    whitespace, and an empty optional element is omitted rather than stored as "". (The values are
    taken and given in the fields' order, in one call each way: a StoreLog call normalises a hundred.)
    """
    values: list[Any] = [
        (value.strip() if required else value.strip() or None) if isinstance(value, str) else value
        for value, required in zip(_ALL_VALUES(record), _REQUIRED, strict=True)
    ]
    return PdlRecord(*values)


def as_plain(record: PdlRecord) -> dict[str, str | int | None]:
    """The record as JSON-ready values (``start_date`` in ISO 8601 UTC), for extracts and exports."""
    plain: dict[str, str | int | None] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        plain[f.name] = value.isoformat() if isinstance(value, datetime) else value
    return plain


@dataclass(frozen=True, slots=True)
class PdlQuery:
    """A search over the log; every given criterion must hold (HSA-ids compare case-insensitively)."""

    patient_id: str | None = None
    user_id: str | None = None
    care_unit_id: str | None = None
    care_giver_id: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    consumer_id: str | None = None  # the system that sent the records with StoreLog
    limit: int = 10_000


@dataclass(frozen=True, slots=True)
class SystemIdentity:
    """The gateway as the logging system: ``system/systemId`` and ``systemName`` of its own records."""

    hsa_id: str
    name: str


def certificate_access(
    *,
    log_id: str,
    system: SystemIdentity,
    activity: Activity,
    at: datetime,
    user_id: str,
    unit_id: str,
    unit_name: str,
    care_giver_id: str,
    care_giver_name: str,
    certificate_id: str,
    patient_id_root: str,
    patient_id: str,
    activity_args: str | None = None,
) -> PdlRecord:
    """The record of a user's access to one certificate, made at the certificate's own unit.

    The user acts at the certificate's unit, so the user's and the resource's care unit and care
    giver coincide. Names of the user and the patient are left out, as the national log expects.
    ``certificate_id`` goes in ``activityLevel``; an access to several of the patient's certificates
    at once at one unit (a list) names what it did there instead, and the certificates in ``activity_args``.
    """
    return normalised(PdlRecord(
        log_id=log_id,
        system_id=system.hsa_id.strip(),
        system_name=blank_to_none(system.name),
        activity=activity.value,
        activity_level=certificate_id,
        activity_args=activity_args,
        start_date=at,
        purpose=PURPOSE_CARE,
        user_id=user_id.strip(),
        user_care_giver_id=care_giver_id.strip(),
        user_care_giver_name=blank_to_none(care_giver_name),
        user_care_unit_id=unit_id.strip(),
        user_care_unit_name=blank_to_none(unit_name),
        resource_type=RESOURCE_CERTIFICATE,
        patient_id_root=patient_id_root,
        patient_id=patient_id,
        resource_care_giver_id=care_giver_id.strip(),
        resource_care_giver_name=blank_to_none(care_giver_name),
        resource_care_unit_id=unit_id.strip(),
        resource_care_unit_name=blank_to_none(unit_name),
    ))
