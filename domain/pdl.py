"""PDL access-log records (Patientdatalagen), shaped like a StoreLog v2 ``log`` entry.

The gateway writes one for every access it makes to patient data, through the same code that the
StoreLog service will use for records sent by other systems. Empty optional fields are ``None``, never
empty strings, so that they are omitted on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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
) -> PdlRecord:
    """The record of a user's access to one certificate, made at the certificate's own unit.

    The user acts at the certificate's unit, so the user's and the resource's care unit and care
    giver coincide. Names of the user and the patient are left out, as the national log expects.
    """
    return PdlRecord(
        log_id=log_id,
        system_id=system.hsa_id.strip(),
        system_name=blank_to_none(system.name),
        activity=activity.value,
        activity_level=certificate_id,
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
    )
