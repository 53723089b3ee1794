"""The PDL log from the use cases: the gateway's own records, sealing, search, the check.

``record_certificate_access`` writes a user's access in the caller's transaction, for every use
case that touches a certificate. The others run in short transactions of their own; the sealer
thread, the operations API, the retention job and the command line call these.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from domain.certificates import Certificate
from domain.pdl import Activity, PdlQuery, PdlRecord, SystemIdentity, certificate_access
from domain.pdl_chain import Verification
from domain.values import HsaId
from store import Tx, UnitOfWork, pdl


def record_certificate_access(
    session: Tx,
    system: SystemIdentity,
    certificate: Certificate,
    user: HsaId,
    activity: Activity,
    at: datetime,
) -> None:
    """Append the PDL record of ``user``'s ``activity`` on ``certificate``, unless it is test data."""
    if certificate.test_certificate or certificate.patient.test_indicator:
        return
    pdl.append(
        session,
        certificate_access(
            log_id=str(uuid.uuid4()),
            system=system,
            activity=activity,
            at=at,
            user_id=user.value,
            unit_id=certificate.unit.hsa_id.value,
            unit_name=certificate.unit.name,
            care_giver_id=certificate.care_giver.hsa_id.value,
            care_giver_name=certificate.care_giver.name,
            certificate_id=certificate.id,
            patient_id_root=certificate.patient.person_id.kind.value,
            patient_id=certificate.patient.person_id.digits,
        ),
    )


def search_log(transaction: UnitOfWork, query: PdlQuery) -> list[PdlRecord]:
    """The records matching ``query``, oldest first (see ``store.pdl.search``)."""
    with transaction() as session:
        return pdl.search(session, query)


def seal_all(transaction: UnitOfWork, wait: bool = False, batch: int = pdl.SEAL_BATCH, max_rounds: int = 1000) -> int:
    """Seal committed records in transactions of up to ``batch`` until none is left; return how many.

    Without ``wait`` it gives up its turn when another sealer holds the chain's head (that one
    seals the rest); with ``wait`` it queues behind it, so every record committed before the call
    is sealed when it returns. ``max_rounds`` bounds the loop under a write load faster than sealing.
    """
    sealed = 0
    for _ in range(max_rounds):
        with transaction() as session:
            count = pdl.seal_pending(session, batch, wait=wait)
        sealed += count
        if count < batch:
            break
    return sealed


def verify_log(transaction: UnitOfWork, seal: bool = True) -> Verification:
    """Seal what is pending (unless ``seal`` is off), then walk the chain from the retention anchor to the head."""
    if seal:
        seal_all(transaction, wait=True)
    with transaction() as session:
        return pdl.verify_chain(session)


class PdlLog:
    """The PDL log as the operations API reads it: a patient's extract, and the chain check."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def search(self, query: PdlQuery) -> list[PdlRecord]:
        """The records matching ``query``, oldest first."""
        return search_log(self._uow, query)

    def verify(self) -> Verification:
        """Seal what is pending, then walk the chain (``verify_log``)."""
        return verify_log(self._uow)
