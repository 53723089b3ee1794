"""ListCertificatesForCareWithQA: a patient's certificates at units or a care giver, read and PDL-logged.

One transaction: the stamps of the patient's certificates with an event in the window
(``store.certificates.for_patient``), the certificates and their histories (read, or reused from
``RecentlyListed``), their questions for the counts (``store.arenden.conversations``), and the PDL
records, written in the same transaction as the read. The rules are in ``domain.certificate_list``.

**PDL.** The list shows patient data to the calling system, so each answered request is logged as a
read (``Läsa``) of the patient's certificates at each unit it listed certificates of: one record
per unit, by the calling system's HSA-id (the consumer access control identified;
``UNIDENTIFIED_CALLER`` when access control is off, local development only), with the listed
certificates' ids in ``activityArgs``. A list with nothing in it shows nothing and writes no record.

**Reuse.** A journal system lists the same patient again and again, and most of the certificates
have not changed since the last time: reading 200 certificates with their content and 2,000 events
into values costs more than the rest of the request together. So each process keeps the
certificates and histories it listed last (``RecentlyListed``, ``list_cache_certificates`` of
them): a certificate is reused while its stamp (version and time of its last change) is the one in
the database, a history while its count of events and newest row are; anything else is read again.
The stamps are read in the request's transaction, so a reused value is never older than the
database at that moment.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import structlog

from domain.certificate_list import (
    CertificateStamp,
    HistoryEvent,
    ListedCertificate,
    ListRequest,
    assemble,
    check_list_request,
)
from domain.certificate_types import CertificateTypes
from domain.certificates import Certificate
from domain.pdl import Activity, PdlRecord, SystemIdentity, certificate_access
from domain.result_texts import DEPENDENCY_UNAVAILABLE, Problem
from domain.values import HsaId
from store import Tx, UnitOfWork, arenden, certificate_events, certificates, pdl
from store.errors import DatabaseUnavailable

#: The PDL record's user when access control is off and the caller is unknown (local development).
UNIDENTIFIED_CALLER = HsaId("OKAND-ANROPANDE-SYSTEM")
#: What the PDL record says was done (``activityLevel``).
LIST_ACTIVITY = "ListCertificatesForCareWithQA"

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _log() -> Any:
    # A fresh logger per use: a module-level one would keep the output stream of whoever configured
    # logging first (see scheduler.locking).
    return structlog.get_logger("usecases.certificate_list")


class Recent(Generic[K, V]):
    """At most ``size`` values by key, the least recently used dropped first; safe across threads.

    Used for what the list reads (here) and what it writes (the rendered XML, in the contract): both
    are reused only while their key says they are current, so dropping one costs a rebuild, never a
    wrong answer. ``size`` 0 keeps nothing.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        if self._size <= 0:
            return None
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)


class RecentlyListed:
    """The certificates and histories this process listed last, each with the stamp it was read at."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.certificates: Recent[CertificateStamp, Certificate] = Recent(size)
        self.histories: Recent[tuple[str, int, int], tuple[HistoryEvent, ...]] = Recent(size)


@dataclass(frozen=True, slots=True)
class CertificateListDeps:
    """The database, the gateway's identity in PDL records, the clock, the certificate types (the
    answer names each certificate's type and text version) and what this process listed last."""

    transaction: UnitOfWork
    system: SystemIdentity
    clock: Callable[[], datetime]
    registry: CertificateTypes
    recent: RecentlyListed


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
    """The certificates ``request`` asks for, PDL-logged as read by ``caller``; or the refusal."""
    selection = check_list_request(request)
    if isinstance(selection, list):
        return ListRefused(tuple(selection))
    reader = caller or UNIDENTIFIED_CALLER
    try:
        with deps.transaction() as session:
            stamps = certificates.for_patient(
                session, selection.patient, selection.units, selection.care_giver,
                selection.from_time, selection.to_time,
            )
            found, fresh = _certificates(session, deps.recent, stamps)
            ids = [certificate.id for certificate in found]
            events = _histories(session, deps.recent, ids, fresh)
            _, conversations = arenden.conversations(session, ids, ())
            items = assemble(selection, found, events, conversations)
            pdl.append_all(session, _reads([item.certificate for item in items], deps.system, reader, deps.clock()))
    except DatabaseUnavailable:
        return UNAVAILABLE
    _log().info("certificates_listed", caller=reader.value, units=len(selection.units),
                by_care_giver=not selection.by_unit, listed=len(items), correlation_id=correlation_id)
    return CertificatesListed(tuple(items))


def _certificates(
    session: Tx, recent: RecentlyListed, stamps: Sequence[CertificateStamp]
) -> tuple[list[Certificate], set[str]]:
    """The certificates of ``stamps`` in their order, reused where the stamp is the one read before;
    and the ids of those read from the database."""
    reused = {stamp.id: recent.certificates.get(stamp) for stamp in stamps}
    missing = [certificate_id for certificate_id, certificate in reused.items() if certificate is None]
    read = certificates.certificates_by_id(session, missing) if missing else {}
    found = []
    for stamp in stamps:
        certificate = reused[stamp.id] or read.get(stamp.id)
        if certificate is None:  # deleted between the two reads of this transaction (SQLite cannot, PostgreSQL may)
            continue
        if stamp.id in read:
            recent.certificates.put(stamp, certificate)
        found.append(certificate)
    return found, set(read)


def _histories(
    session: Tx, recent: RecentlyListed, ids: Sequence[str], fresh: set[str]
) -> dict[str, Sequence[HistoryEvent]]:
    """The whole history of each certificate of ``ids``: reused while its count and newest row are unchanged.

    The histories of ``fresh`` certificates (read from the database, not reused) are read whole
    without asking for their stamps first: a certificate that changed since the process last listed
    it, or that it never listed, has a history it does not hold either. On a patient's first call
    that is every certificate, and the stamps' query is left out.
    """
    stamps = certificate_events.history_stamps(session, [i for i in ids if i not in fresh])
    histories: dict[str, Sequence[HistoryEvent]] = {}
    missing = [certificate_id for certificate_id in ids if certificate_id in fresh]
    for certificate_id, stamp in stamps.items():
        reused = recent.histories.get((certificate_id, *stamp))
        if reused is None:
            missing.append(certificate_id)
        else:
            histories[certificate_id] = reused
    for certificate_id, (stamp, events) in certificate_events.events_of(session, missing).items():
        history = tuple(events)
        recent.histories.put((certificate_id, *stamp), history)
        histories[certificate_id] = history
    return histories


def _reads(listed: Iterable[Certificate], system: SystemIdentity, reader: HsaId, at: datetime) -> list[PdlRecord]:
    """One read record per unit of ``listed`` (test data left out), naming the certificates read there."""
    by_unit: dict[HsaId, list[Certificate]] = {}
    for certificate in listed:
        if not (certificate.test_certificate or certificate.patient.test_indicator):
            by_unit.setdefault(certificate.unit.hsa_id, []).append(certificate)
    return [
        certificate_access(
            log_id=str(uuid.uuid4()), system=system, activity=Activity.READ, at=at, user_id=reader.value,
            unit_id=shown[0].unit.hsa_id.value, unit_name=shown[0].unit.name,
            care_giver_id=shown[0].care_giver.hsa_id.value, care_giver_name=shown[0].care_giver.name,
            certificate_id=LIST_ACTIVITY, patient_id_root=shown[0].patient.person_id.kind.value,
            patient_id=shown[0].patient.person_id.digits,
            activity_args=" ".join(certificate.id for certificate in shown),
        )
        for shown in by_unit.values()
    ]
