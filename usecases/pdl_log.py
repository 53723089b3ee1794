"""The PDL log from the use cases: the gateway's own records, sealing, search, the check.

``record_certificate_access`` writes a user's access in the caller's transaction, for every use
case that touches a certificate (``certificate_access_record`` builds it, for a use case that writes
the records of several requests at once). The others run in short transactions of their own; the sealer
thread, the operations API, the retention job and the command line call these.

``PdlSigning`` is what signing needs: the signer (its key is held outside the database), how often
to sign, the clock, and where each new checkpoint is also written (the off-host checkpoint file).
A checkpoint is stored in the same transaction that holds the chain-head lock, and handed to
``on_signed`` only after that commits, so the file never names a checkpoint the database lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.certificates import Certificate
from domain.pdl import Activity, PdlQuery, PdlRecord, SystemIdentity, certificate_access
from domain.pdl_chain import ChainPoint
from domain.pdl_checkpoint import (
    CheckpointKind,
    SignatureCheck,
    SignedCheckpoint,
    SignedVerification,
    Signer,
    following,
    is_due,
    sign,
)
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
    record = certificate_access_record(system, certificate, user, activity, at)
    if record is not None:
        pdl.append(session, record)


def certificate_access_record(
    system: SystemIdentity,
    certificate: Certificate,
    user: HsaId,
    activity: Activity,
    at: datetime,
) -> PdlRecord | None:
    """The PDL record of ``user``'s ``activity`` on ``certificate`` under a new log id; None for test data
    (a test certificate, or a PU test person), which is never logged."""
    if certificate.test_certificate or certificate.patient.test_indicator:
        return None
    return certificate_access(
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
    )


def search_log(transaction: UnitOfWork, query: PdlQuery) -> list[PdlRecord]:
    """The records matching ``query``, oldest first (see ``store.pdl.search``)."""
    with transaction() as session:
        return pdl.search(session, query)


def seal_all(transaction: UnitOfWork, wait: bool = False, batch: int | None = None, max_rounds: int = 1000) -> int:
    """Seal committed records in transactions of up to ``batch`` until none is left; return how many.

    ``batch`` defaults to the database's (``store.pdl.seal_batch``). Without ``wait`` it gives up
    its turn when another sealer holds the chain's head (that one seals the rest); with ``wait`` it
    queues behind it, so every record committed before the call is sealed when it returns.
    ``max_rounds`` bounds the loop under a write load faster than sealing.
    """
    if batch is None:
        batch = pdl.seal_batch(transaction.dialect)
    sealed = 0
    for _ in range(max_rounds):
        with transaction() as session:
            count = pdl.seal_pending(session, batch, wait=wait)
        sealed += count
        if count < batch:
            break
    return sealed


@dataclass(frozen=True, slots=True)
class PdlSigning:
    """How checkpoints are signed: by whom, at least how often, by which clock, and where else they go."""

    signer: Signer
    every_seconds: float
    clock: Callable[[], datetime]
    on_signed: Callable[[SignedCheckpoint], None] = lambda _signed: None


def checkpoint_if_due(transaction: UnitOfWork, signing: PdlSigning, wait: bool = False) -> SignedCheckpoint | None:
    """Sign the chain's head when it moved and ``every_seconds`` passed since the last checkpoint.

    Takes the chain-head lock like a sealer (without ``wait`` it gives up its turn when another
    holds it), so the checkpoint's number and head follow the chain.
    """
    with transaction() as session:
        head = pdl.lock_head(session, wait)
        if head is None:
            return None
        previous = pdl.latest_checkpoint(session)
        anchor = pdl.latest_anchor(session)
        now = signing.clock()
        if not is_due(previous, head, anchor, now, signing.every_seconds):
            return None
        signed = sign(following(previous, head, anchor, now, signing.signer.key_id), signing.signer)
        pdl.add_checkpoint(session, signed)
    signing.on_signed(signed)
    return signed


def sign_purge(session: Tx, signing: PdlSigning, anchor: ChainPoint, export_digest: str) -> SignedCheckpoint:
    """The checkpoint of a purge, in the purge's transaction (which holds the head lock): the new anchor
    and the digest of its export. The caller hands it to ``on_signed`` once committed."""
    head = pdl.current_head(session)
    previous = pdl.latest_checkpoint(session)
    checkpoint = following(
        previous, head, anchor, signing.clock(), signing.signer.key_id, CheckpointKind.PURGE, export_digest
    )
    signed = sign(checkpoint, signing.signer)
    pdl.add_checkpoint(session, signed)
    return signed


def verify_log(
    transaction: UnitOfWork,
    seal: bool = True,
    keys: SignatureCheck | None = None,
    extra: Sequence[SignedCheckpoint] = (),
) -> SignedVerification:
    """Seal what is pending (unless ``seal`` is off), then walk the chain from the signed anchor to the head.

    ``keys`` checks checkpoint signatures (None: the hash chain alone, from the stored anchor);
    ``extra`` are checkpoints from the off-host file, which the chain must pass through as well.
    """
    if seal:
        seal_all(transaction, wait=True)
    with transaction() as session:
        return pdl.verify_chain(session, keys, extra)


class PdlLog:
    """The PDL log as the operations API reads it: a patient's extract, and the chain check."""

    def __init__(self, uow: UnitOfWork, keys: SignatureCheck | None = None) -> None:
        self._uow = uow
        self._keys = keys

    def search(self, query: PdlQuery) -> list[PdlRecord]:
        """The records matching ``query``, oldest first."""
        return search_log(self._uow, query)

    def verify(self) -> SignedVerification:
        """Seal what is pending, then walk the chain against the signed checkpoints (``verify_log``)."""
        return verify_log(self._uow, keys=self._keys)
