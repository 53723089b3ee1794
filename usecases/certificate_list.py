"""ListCertificatesForCareWithQA: a patient's certificates at units or a care giver, read and PDL-logged.

One transaction: the certificates (``store.certificates.for_patient``), their events in the window
(``store.certificate_events``), their questions for the counts (``store.arenden.conversations``),
and a PDL record for every certificate listed, written in the same transaction as the read. The
list shows patient data to the calling system, so each listed certificate is logged as read
(``Läsa``) at its own unit, by the calling system's HSA-id (the consumer access control identified;
``UNIDENTIFIED_CALLER`` when access control is off, local development only). A list with nothing
in it shows nothing and writes no record. The rules are in ``domain.certificate_list``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from domain.certificate_list import ListedCertificate, ListRequest, assemble, check_list_request
from domain.certificate_types import CertificateTypes
from domain.pdl import Activity, SystemIdentity
from domain.result_texts import DEPENDENCY_UNAVAILABLE, Problem
from domain.values import HsaId
from store import UnitOfWork, arenden, certificate_events, certificates, pdl
from store.errors import DatabaseUnavailable
from usecases.pdl_log import certificate_access_record

#: The PDL record's user when access control is off and the caller is unknown (local development).
UNIDENTIFIED_CALLER = HsaId("OKAND-ANROPANDE-SYSTEM")


def _log() -> Any:
    # A fresh logger per use: a module-level one would keep the output stream of whoever configured
    # logging first (see scheduler.locking).
    return structlog.get_logger("usecases.certificate_list")


@dataclass(frozen=True, slots=True)
class CertificateListDeps:
    """The database, the gateway's identity in PDL records, the clock, and the certificate types (the
    answer names each certificate's type and text version)."""

    transaction: UnitOfWork
    system: SystemIdentity
    clock: Callable[[], datetime]
    registry: CertificateTypes


@dataclass(frozen=True, slots=True)
class CertificatesListed:
    """The answer's items, newest certificate first."""

    items: tuple[ListedCertificate, ...]


@dataclass(frozen=True, slots=True)
class ListRefused:
    """Every reason the request could not be answered (a bad request, or the database not answering)."""

    problems: tuple[Problem, ...]


UNAVAILABLE = ListRefused((DEPENDENCY_UNAVAILABLE.problem(dependency="intygsgatewayns databas"),))


def list_certificates(
    deps: CertificateListDeps, request: ListRequest, caller: HsaId | None, correlation_id: str
) -> CertificatesListed | ListRefused:
    """The certificates ``request`` asks for, each PDL-logged as read by ``caller``; or the refusal."""
    selection = check_list_request(request)
    if isinstance(selection, list):
        return ListRefused(tuple(selection))
    reader = caller or UNIDENTIFIED_CALLER
    try:
        with deps.transaction() as session:
            found = certificates.for_patient(
                session, selection.patient, selection.units, selection.care_giver,
                selection.from_time, selection.to_time,
            )
            ids = [certificate.id for certificate in found]
            events = certificate_events.events_of(session, ids, selection.from_time, selection.to_time)
            _, conversations = arenden.conversations(session, ids, ())
            items = assemble(selection, found, events, conversations)
            now = deps.clock()
            records = [certificate_access_record(deps.system, item.certificate, reader, Activity.READ, now)
                       for item in items]
            pdl.append_all(session, [record for record in records if record is not None])
    except DatabaseUnavailable:
        return UNAVAILABLE
    _log().info("certificates_listed", caller=reader.value, units=len(selection.units),
                by_care_giver=not selection.by_unit, listed=len(items), correlation_id=correlation_id)
    return CertificatesListed(tuple(items))
