"""StoreLog v2 entries as domain values, and the checks the schema cannot make (contracts.md §8).

A call is all or nothing: ``check_entries`` returns a problem for every failing entry (its position
in the call, its ``logId``, the field and the reason), so the sender can split the batch and resend
the good entries, instead of the incumbent's habit of parking a whole batch of ten for one bad
entry. The checks:

* at most ``max_entries`` entries per call (the schema sets no bound; one call is one transaction);
* required ids and texts not blank once trimmed (the schema lets an empty string through);
* ``logId`` unique within the call (uniqueness against stored entries needs the store and is
  checked by the use case, see ``usecases.store_log``);
* a patient id whose root names a personnummer or samordningsnummer is a valid one of that kind
  (``domain.personnummer``); other roots (reserve numbers, local ids) are taken as sent;
* ``startDate`` readable and not later than now plus the clock-skew allowance. A ``startDate``
  without a zone is Swedish local time, as Webcert and logsender send it.

An entry with several resources becomes one ``PdlRecord`` per resource, all under its ``logId``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.pdl import PdlRecord, normalised
from domain.personnummer import InvalidPersonId, parse_person_id
from domain.result_texts import (
    PERSON_ID_REASONS,
    STORELOG_DUPLICATE_IN_CALL,
    STORELOG_FIELD_BLANK,
    STORELOG_PATIENT_ID_INVALID,
    STORELOG_START_DATE_FUTURE,
    STORELOG_START_DATE_UNREADABLE,
    STORELOG_TOO_MANY_ENTRIES,
    Problem,
    ResultText,
    echo,
)
from domain.values import PERSONNUMMER_ROOT, SAMORDNINGSNUMMER_ROOT, SWEDISH_TIME

PERSON_ID_KINDS = {PERSONNUMMER_ROOT: "personnummer", SAMORDNINGSNUMMER_ROOT: "samordningsnummer"}


@dataclass(frozen=True, slots=True)
class StoreLogLimits:
    """The service's own bounds: entries per call and how far ahead of our clock a ``startDate`` may be."""

    max_entries: int = 1000
    clock_skew: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Resource:
    """One ``resources/resource``: whose data (patient), of which kind, held by which care giver/unit."""

    resource_type: str
    care_giver_id: str
    care_giver_name: str | None = None
    care_unit_id: str | None = None
    care_unit_name: str | None = None
    patient_id_root: str | None = None
    patient_id: str | None = None
    patient_name: str | None = None


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One ``log`` of a StoreLog call, as sent; ``position`` counts from 1 in the call."""

    position: int
    log_id: str
    system_id: str
    activity: str
    start_date: datetime | None  # None when the text could not be read
    purpose: str
    user_id: str
    user_care_giver_id: str
    user_care_unit_id: str
    resources: tuple[Resource, ...]
    system_name: str | None = None
    activity_level: str | None = None
    activity_args: str | None = None
    user_name: str | None = None
    user_person_id_root: str | None = None
    user_person_id: str | None = None
    user_assignment: str | None = None
    user_title: str | None = None
    user_care_giver_name: str | None = None
    user_care_unit_name: str | None = None

    def records(self) -> tuple[PdlRecord, ...]:
        """The entry as normalised records, one per resource (only for an entry that passed the checks)."""
        if self.start_date is None:
            raise ValueError("an entry without a readable startDate cannot be stored")
        return tuple(
            normalised(
                PdlRecord(
                    log_id=self.log_id, system_id=self.system_id, system_name=self.system_name,
                    activity=self.activity, activity_level=self.activity_level,
                    activity_args=self.activity_args, start_date=self.start_date, purpose=self.purpose,
                    user_id=self.user_id, user_name=self.user_name,
                    user_person_id_root=self.user_person_id_root, user_person_id=self.user_person_id,
                    user_assignment=self.user_assignment, user_title=self.user_title,
                    user_care_giver_id=self.user_care_giver_id,
                    user_care_giver_name=self.user_care_giver_name,
                    user_care_unit_id=self.user_care_unit_id,
                    user_care_unit_name=self.user_care_unit_name,
                    resource_type=resource.resource_type, patient_id_root=resource.patient_id_root,
                    patient_id=resource.patient_id, patient_name=resource.patient_name,
                    resource_care_giver_id=resource.care_giver_id,
                    resource_care_giver_name=resource.care_giver_name,
                    resource_care_unit_id=resource.care_unit_id,
                    resource_care_unit_name=resource.care_unit_name, resource_index=index,
                )
            )
            for index, resource in enumerate(self.resources)
        )  # fmt: skip


def read_start_date(text: str) -> datetime | None:
    """An ``xs:dateTime`` as an aware UTC datetime; no zone means Swedish local time; None if unreadable."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SWEDISH_TIME)
    return parsed.astimezone(UTC)


def check_entries(entries: Sequence[LogEntry], now: datetime, limits: StoreLogLimits) -> list[Problem]:
    """Every problem of every entry, in entry order (see the module doc for the rules)."""
    if len(entries) > limits.max_entries:
        return [STORELOG_TOO_MANY_ENTRIES.problem(count=len(entries), limit=limits.max_entries)]
    problems: list[Problem] = []
    first_seen: dict[str, int] = {}
    for entry in entries:
        problems += _blank_fields(entry)
        problems += _patient_ids(entry)
        problems += _start_date(entry, now, limits.clock_skew)
        key = entry.log_id.strip()
        if key and key in first_seen:
            problems.append(entry_problem(STORELOG_DUPLICATE_IN_CALL, entry, first=first_seen[key]))
        first_seen.setdefault(key, entry.position)
    return problems


def entry_problem(text: ResultText, entry: LogEntry, **fields: Any) -> Problem:
    """A problem of one entry: its position and (echo-safe) logId filled in."""
    return text.problem(index=entry.position, log_id=echo(entry.log_id) or "-", **fields)



def _blank_fields(entry: LogEntry) -> list[Problem]:
    required = [
        ("logId", entry.log_id), ("system/systemId", entry.system_id),
        ("activity/activityType", entry.activity), ("activity/purpose", entry.purpose),
        ("user/userId", entry.user_id), ("user/careProvider/careProviderId", entry.user_care_giver_id),
        ("user/careUnit/careUnitId", entry.user_care_unit_id),
    ]  # fmt: skip
    for number, resource in enumerate(entry.resources, start=1):
        path = f"resources/resource[{number}]"
        required += [
            (f"{path}/resourceType", resource.resource_type),
            (f"{path}/careProvider/careProviderId", resource.care_giver_id),
        ]
    return [entry_problem(STORELOG_FIELD_BLANK, entry, field=field) for field, value in required if not value.strip()]


def _patient_ids(entry: LogEntry) -> list[Problem]:
    problems = []
    for number, resource in enumerate(entry.resources, start=1):
        root = (resource.patient_id_root or "").strip()
        if root not in PERSON_ID_KINDS:
            continue
        try:
            parse_person_id(root, resource.patient_id or "")
        except InvalidPersonId as invalid:
            problems.append(
                entry_problem(
                    STORELOG_PATIENT_ID_INVALID,
                    entry,
                    field=f"resources/resource[{number}]/patient/patientId/extension",
                    kind=PERSON_ID_KINDS[root],
                    reason=PERSON_ID_REASONS[invalid.reason.value],
                )
            )
    return problems


def _start_date(entry: LogEntry, now: datetime, skew: timedelta) -> list[Problem]:
    if entry.start_date is None:
        return [entry_problem(STORELOG_START_DATE_UNREADABLE, entry)]
    if entry.start_date > now + skew:
        return [entry_problem(STORELOG_START_DATE_FUTURE, entry, skew=int(skew.total_seconds()))]
    return []



# The INFO answer's text (not an error, so not in the result-text catalogue; the README quotes it).
REPEATED_INFO = (
    "{count} av {total} loggposter fanns redan lagrade med samma innehåll och lagrades inte igen "
    "(logId {log_ids})."
)
REPEATED_INFO_EN = (
    "{count} of {total} log entries were already stored with the same content and were not stored "
    "again (logId {log_ids})."
)


def repeated_info(repeated: Sequence[str], total: int) -> str:
    """The INFO text for a call in which some entries were already stored, identically."""
    return REPEATED_INFO.format(count=len(repeated), total=total, log_ids=", ".join(echo(i) for i in repeated))
