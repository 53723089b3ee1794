"""Certificates that lose their owner: a care giver's inventory, export and purge.

When a care giver disappears from HSA (a merger, new HSA-ids) its certificates stay here with no one
to answer for them. An administrator decides what happens, in three steps:

1. ``inventory``: what the care giver holds, by type, status and unit, oldest and newest;
2. ``export``: every certificate whole (its content, its outbox events, its ärenden) as JSON Lines,
   written by the caller's ``write`` (the CLI writes 0600, atomically), its SHA-256 printed and
   stored with a fingerprint of each certificate; each exported certificate is PDL-logged
   (Utskrift: the data left the system);
3. ``purge``: only with the digest of an export of this care giver whose certificates have not
   changed since (the same ids, the same content and ärenden; delivery of events does not count), and
   with a reason: in one transaction every certificate and ärende is deleted, every outbox event kept
   as a tombstone (``store.caregiver``), a PDL record (Radera) written per certificate, and the export
   marked purged. Anything amiss refuses the whole purge (``CaregiverRefused``) and changes nothing.

The export's first line is a header (``{"export": {...}}``); each further line is one certificate:
``{"certificate": <domain.certificates.to_snapshot>, "arenden": [...], "events": [...]}``. The JSON is
written with sorted keys, so the same data gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import structlog

from domain.arenden import Arende, arende_to_json
from domain.certificates import Certificate, to_snapshot
from domain.lifecycle import MAX_REASON_LENGTH
from domain.pdl import Activity, SystemIdentity
from domain.values import HsaId
from store import UnitOfWork, caregiver
from store.caregiver import Inventory
from usecases.pdl_log import record_certificate_access


def _log() -> Any:
    # A fresh logger per use: a module-level one would keep the output stream of whoever configured
    # logging first (see scheduler.locking).
    return structlog.get_logger("usecases.caregiver")

EXPORT_FORMAT = 1


class CaregiverRefusal(StrEnum):
    """Why an export or a purge was refused; nothing was written."""

    NO_CERTIFICATES = "NO_CERTIFICATES"  # the care giver holds no certificates
    EXPORT_NOT_FOUND = "EXPORT_NOT_FOUND"  # no export of this care giver has this digest
    ALREADY_PURGED = "ALREADY_PURGED"  # that export's purge was done
    CHANGED_SINCE_EXPORT = "CHANGED_SINCE_EXPORT"  # certificates added, removed or changed since the export
    STILL_IN_DIRECTORY = "STILL_IN_DIRECTORY"  # the care giver is still in the directory
    REASON_MISSING = "REASON_MISSING"  # a purge needs a reason
    USER_MISSING = "USER_MISSING"  # the acting user's HSA-id is needed for the PDL log


class CaregiverRefused(Exception):
    """Raised when an export or purge is refused; ``reason`` says why, ``details`` count what differs."""

    def __init__(self, reason: CaregiverRefusal, care_giver: HsaId, **details: int) -> None:
        self.reason = reason
        self.care_giver = care_giver
        self.details = details
        extra = ", ".join(f"{name} {value}" for name, value in details.items())
        super().__init__(f"care giver {care_giver}: {reason}" + (f" ({extra})" if extra else ""))


@dataclass(frozen=True, slots=True)
class CaregiverDeps:
    """What the care giver operations need."""

    transaction: UnitOfWork
    system: SystemIdentity
    clock: Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class ExportDone:
    """An export written and recorded: the file's SHA-256 and how many certificates it holds."""

    digest: str
    certificates: int


@dataclass(frozen=True, slots=True)
class PurgeDone:
    """A purge done: the certificates removed and the events kept as tombstones."""

    certificates: int
    events: int


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_value)


def fingerprint(certificate: Certificate, arenden: list[Arende]) -> str:
    """SHA-256 of the certificate's snapshot and its ärenden: what a purge compares with the export.

    The events are left out on purpose: their delivery state changes after the export (a pending
    status update is delivered) without the certificate changing.
    """
    data = {"certificate": to_snapshot(certificate), "arenden": [arende_to_json(a) for a in arenden]}
    return hashlib.sha256(_dumps(data).encode()).hexdigest()


def inventory(deps: CaregiverDeps, care_giver: HsaId) -> Inventory:
    """The counts of ``care_giver``'s certificates (nothing of a patient is read, nothing logged)."""
    with deps.transaction() as session:
        return caregiver.inventory(session, care_giver)


def _user(user: str, care_giver: HsaId) -> HsaId:
    if not user.strip():
        raise CaregiverRefused(CaregiverRefusal.USER_MISSING, care_giver)
    return HsaId(user)


def export(
    deps: CaregiverDeps, care_giver: HsaId, user: str, file_name: str, write: Callable[[bytes], None]
) -> ExportDone:
    """Export every certificate of ``care_giver`` through ``write`` and record the export.

    ``write`` gets the whole file at once and must make it durable before returning (the record
    commits after it, so a record never names a file that was not written). If the commit fails,
    the file stays without a record; a purge cannot use it, and exporting again is safe.
    """
    acting = _user(user, care_giver)
    now = deps.clock()
    with deps.transaction() as session:
        ids = caregiver.certificate_ids(session, care_giver)
        if not ids:
            raise CaregiverRefused(CaregiverRefusal.NO_CERTIFICATES, care_giver)
        found = caregiver.certificates(session, ids)
        events = caregiver.events_of(session, ids)
        header = {"export": {"format": EXPORT_FORMAT, "careGiver": care_giver.value, "exportedAt": now,
                             "exportedBy": acting.value, "certificates": len(found)}}
        lines = [_dumps(header)]
        manifest: dict[str, str] = {}
        for certificate in found:
            conversation = caregiver.arenden_of(session, certificate.id)
            manifest[certificate.id] = fingerprint(certificate, conversation)
            lines.append(_dumps({
                "certificate": to_snapshot(certificate),
                "arenden": [arende_to_json(a) for a in conversation],
                "events": events.get(certificate.id, []),
            }))
            record_certificate_access(session, deps.system, certificate, acting, Activity.PRINT, now)
        content = ("\n".join(lines) + "\n").encode()
        digest = hashlib.sha256(content).hexdigest()
        write(content)
        caregiver.add_export(session, care_giver, digest, file_name, now, acting.value, manifest)
    _log().info("caregiver_exported", care_giver=care_giver.value, certificates=len(found), digest=digest,
             user=acting.value)
    return ExportDone(digest, len(found))


def _differences(manifest: Mapping[str, str], current: Mapping[str, str]) -> dict[str, int]:
    return {
        "added": len(set(current) - set(manifest)),
        "removed": len(set(manifest) - set(current)),
        "changed": sum(1 for cid in set(manifest) & set(current) if manifest[cid] != current[cid]),
    }


def purge(
    deps: CaregiverDeps,
    care_giver: HsaId,
    export_digest: str,
    reason: str,
    user: str,
    *,
    even_if_in_directory: bool = False,
    dry_run: bool = False,
) -> PurgeDone:
    """Remove every certificate of ``care_giver`` after a matching export (see the module docstring).

    A care giver still in the directory is refused unless ``even_if_in_directory``: purging the
    certificates of a care giver that still exists is almost always a mistake of HSA-id. A dry run
    makes every check and every change, reports the counts and rolls back.
    """
    try:
        return _purge(deps, care_giver, export_digest, reason, user, even_if_in_directory, dry_run)
    except _DryRun as rolled_back:
        return rolled_back.done


class _DryRun(Exception):
    """Ends a dry run's transaction without committing, carrying the counts out."""

    def __init__(self, done: PurgeDone) -> None:
        super().__init__("dry run")
        self.done = done


def _purge(deps: CaregiverDeps, care_giver: HsaId, export_digest: str, reason: str, user: str,
           even_if_in_directory: bool, dry_run: bool) -> PurgeDone:
    acting = _user(user, care_giver)
    text = " ".join(reason.split())
    if not text:
        raise CaregiverRefused(CaregiverRefusal.REASON_MISSING, care_giver)
    text = text[:MAX_REASON_LENGTH]
    now = deps.clock()
    with deps.transaction() as session:
        if not even_if_in_directory and caregiver.in_directory(session, care_giver):
            raise CaregiverRefused(CaregiverRefusal.STILL_IN_DIRECTORY, care_giver)
        record = caregiver.find_export(session, care_giver, export_digest)
        if record is None:
            raise CaregiverRefused(CaregiverRefusal.EXPORT_NOT_FOUND, care_giver)
        if record.purged_at is not None:
            raise CaregiverRefused(CaregiverRefusal.ALREADY_PURGED, care_giver)
        ids = caregiver.certificate_ids(session, care_giver, for_update=True)
        found = caregiver.certificates(session, ids)
        current = {c.id: fingerprint(c, caregiver.arenden_of(session, c.id)) for c in found}
        if current != dict(record.manifest):
            raise CaregiverRefused(CaregiverRefusal.CHANGED_SINCE_EXPORT, care_giver,
                                   **_differences(record.manifest, current))
        for certificate in found:
            record_certificate_access(session, deps.system, certificate, acting, Activity.DELETE, now)
        tombstone = {"at": now.isoformat(), "careGiver": care_giver.value, "exportDigest": record.digest,
                     "purgeId": str(uuid.uuid4())}
        events = caregiver.purge_rows(session, ids, tombstone, now)
        caregiver.mark_purged(session, record.id, now, acting.value, text)
        if dry_run:
            raise _DryRun(PurgeDone(len(found), events))
    _log().info("caregiver_purged", care_giver=care_giver.value, certificates=len(found), events=events,
             export_digest=record.digest, user=acting.value)
    return PurgeDone(len(found), events)
