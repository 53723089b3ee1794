"""Signed checkpoints: what makes the PDL chain trustworthy without trusting the database.

The hash chain (``domain.pdl_chain``) shows a change to anyone who does not also recompute every
later hash; the database holds no secret, so whoever can write to it can do exactly that. A
**checkpoint** closes the gap: the chain's head (``seq`` and hash) and the retention anchor in force,
signed with a key that is held outside the database (``Signer``). A verifier with only the public keys
(``SignatureCheck``) then knows, for every signed ``seq``, which hash the chain had there. Rewriting a
record below a checkpoint changes every later hash and so disagrees with it; deleting the oldest
records behind a new anchor row is caught because only a *signed* anchor is believed; cutting off the
end is caught by any checkpoint beyond the new end.

Checkpoints are numbered (1, 2, 3 ...) and each names the digest of the one before (``prev``), so a
checkpoint deleted from the middle shows as a gap. A deleted *newest* checkpoint cannot be told from
one never made: that is why every checkpoint is also appended to a file that is shipped off the host
(``pdl verify --checkpoints FILE``).

Canonical form, signed as UTF-8 bytes: a JSON object with sorted keys and no insignificant
whitespace holding every field below (``export_digest`` only when set), ``at`` as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``, and ``"v": 1``. The signature is carried beside it, base64.

Plain Python: signing and verifying signatures happen behind the two protocols, which ``cli`` fills
with Ed25519 from ``cryptography`` (an HSM or KMS can stand in later).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from domain.pdl_chain import (
    GENESIS_HASH,
    BreakKind,
    ChainBreak,
    ChainedRecord,
    ChainPoint,
    Verification,
    verify,
)

CHECKPOINT_FORMAT = 1


class CheckpointKind(StrEnum):
    """Why a checkpoint was made: a sealing round moved the head, or a purge moved the anchor."""

    SEAL = "seal"
    PURGE = "purge"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a signature vouches for: the head at ``seq``, the anchor in force, when, with which key.

    ``export_digest`` is the SHA-256 of a purge's export file (``kind`` purge only), so an archive
    can be proved to be the one the purge wrote.
    """

    number: int
    seq: int
    head: str
    anchor_seq: int
    anchor_hash: str
    at: datetime
    key_id: str
    kind: CheckpointKind
    prev: str
    export_digest: str | None = None

    @property
    def head_point(self) -> ChainPoint:
        return ChainPoint(self.seq, self.head)

    @property
    def anchor(self) -> ChainPoint:
        return ChainPoint(self.anchor_seq, self.anchor_hash)


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint with its signature over ``payload(checkpoint)``."""

    checkpoint: Checkpoint
    signature: bytes


class Signer(Protocol):
    """Signs checkpoint payloads with a key the database never sees; ``key_id`` names the public key."""

    @property
    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


class SignatureCheck(Protocol):
    """True when ``signature`` over ``message`` is by the key ``key_id`` and that key was valid ``at``."""

    def __call__(self, key_id: str, message: bytes, signature: bytes, at: datetime) -> bool: ...


def _time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fields(checkpoint: Checkpoint) -> dict[str, Any]:
    values: dict[str, Any] = {
        "number": checkpoint.number, "seq": checkpoint.seq, "head": checkpoint.head,
        "anchor_seq": checkpoint.anchor_seq, "anchor_hash": checkpoint.anchor_hash, "at": _time(checkpoint.at),
        "key_id": checkpoint.key_id, "kind": checkpoint.kind.value, "prev": checkpoint.prev, "v": CHECKPOINT_FORMAT,
    }  # fmt: skip
    if checkpoint.export_digest is not None:
        values["export_digest"] = checkpoint.export_digest
    return values


def payload(checkpoint: Checkpoint) -> bytes:
    """The bytes that are signed (see the module doc)."""
    return json.dumps(_fields(checkpoint), sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest(checkpoint: Checkpoint) -> str:
    """SHA-256 of the payload: what the next checkpoint's ``prev`` names."""
    return hashlib.sha256(payload(checkpoint)).hexdigest()


def following(
    previous: Checkpoint | None,
    head: ChainPoint,
    anchor: ChainPoint,
    at: datetime,
    key_id: str,
    kind: CheckpointKind = CheckpointKind.SEAL,
    export_digest: str | None = None,
) -> Checkpoint:
    """The checkpoint after ``previous`` (None: the first) for this head and anchor."""
    return Checkpoint(
        number=1 if previous is None else previous.number + 1,
        seq=head.seq, head=head.hash, anchor_seq=anchor.seq, anchor_hash=anchor.hash, at=at, key_id=key_id,
        kind=kind, prev=GENESIS_HASH if previous is None else digest(previous), export_digest=export_digest,
    )  # fmt: skip


def sign(checkpoint: Checkpoint, signer: Signer) -> SignedCheckpoint:
    """``checkpoint`` signed by ``signer`` (whose key id it must carry)."""
    if checkpoint.key_id != signer.key_id:
        raise ValueError(f"checkpoint names key {checkpoint.key_id}, the signer holds {signer.key_id}")
    return SignedCheckpoint(checkpoint, signer.sign(payload(checkpoint)))


def is_due(
    previous: Checkpoint | None, head: ChainPoint, anchor: ChainPoint, now: datetime, every_seconds: float
) -> bool:
    """Whether a sealing round should sign: the head or anchor moved, and ``every_seconds`` passed.

    An unchanged log is not signed again: there is nothing new to protect.
    """
    if previous is None:
        return head.seq > 0 or anchor.seq > 0
    if previous.head_point == head and previous.anchor == anchor:
        return False
    return (now - previous.at).total_seconds() >= every_seconds


def to_json(signed: SignedCheckpoint) -> dict[str, Any]:
    """One line of the checkpoint file: the payload's fields and ``signature`` (base64)."""
    return {**_fields(signed.checkpoint), "signature": base64.b64encode(signed.signature).decode("ascii")}


class BadCheckpointLine(ValueError):
    """A checkpoint file line that cannot be read; ``line`` is its number (from 1)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def from_json(data: Mapping[str, Any], line: int = 0) -> SignedCheckpoint:
    """Read one ``to_json`` object back; ``BadCheckpointLine`` when a field is missing or malformed."""
    try:
        if data.get("v") != CHECKPOINT_FORMAT:
            raise BadCheckpointLine(line, f"unknown checkpoint format {data.get('v')!r}")
        at = datetime.strptime(str(data["at"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        checkpoint = Checkpoint(
            number=int(data["number"]), seq=int(data["seq"]), head=str(data["head"]),
            anchor_seq=int(data["anchor_seq"]), anchor_hash=str(data["anchor_hash"]), at=at,
            key_id=str(data["key_id"]), kind=CheckpointKind(data["kind"]), prev=str(data["prev"]),
            export_digest=None if data.get("export_digest") is None else str(data["export_digest"]),
        )  # fmt: skip
        signature = base64.b64decode(str(data["signature"]), validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        if isinstance(error, BadCheckpointLine):
            raise
        raise BadCheckpointLine(line, f"not a checkpoint ({type(error).__name__}: {error})") from None
    return SignedCheckpoint(checkpoint, signature)


class CheckpointProblem(StrEnum):
    """What can be wrong with the checkpoints themselves."""

    FORGED = "forged_checkpoint"  # the signature does not verify with a key valid at its time
    GAP = "checkpoint_missing"  # a number is skipped or ``prev`` does not name the one before
    CONFLICT = "checkpoint_conflict"  # two different checkpoints carry the same number


@dataclass(frozen=True, slots=True)
class CheckpointVerdict:
    """The checkpoints that verify, in number order up to the first problem, and that problem."""

    good: tuple[Checkpoint, ...]
    problem: CheckpointProblem | None = None
    problem_number: int | None = None

    @property
    def latest(self) -> Checkpoint | None:
        return self.good[-1] if self.good else None


def check_checkpoints(signed: Iterable[SignedCheckpoint], valid: SignatureCheck) -> CheckpointVerdict:
    """Verify every signature, then the numbering and ``prev`` links, stopping at the first problem.

    ``signed`` may hold the same checkpoint twice (from the database and from the file). Numbering
    may start above 1: records and checkpoints older than the oldest kept are gone by retention
    (the first one kept is then trusted for its signature alone).
    """
    by_number: dict[int, SignedCheckpoint] = {}
    for item in sorted(signed, key=lambda s: s.checkpoint.number):
        number = item.checkpoint.number
        if not valid(item.checkpoint.key_id, payload(item.checkpoint), item.signature, item.checkpoint.at):
            return CheckpointVerdict(_good_before(by_number, number), CheckpointProblem.FORGED, number)
        known = by_number.get(number)
        if known is not None and known.checkpoint != item.checkpoint:
            return CheckpointVerdict(_good_before(by_number, number), CheckpointProblem.CONFLICT, number)
        by_number[number] = item
    good: list[Checkpoint] = []
    for number in sorted(by_number):
        checkpoint = by_number[number].checkpoint
        if good and (number != good[-1].number + 1 or checkpoint.prev != digest(good[-1])):
            return CheckpointVerdict(tuple(good), CheckpointProblem.GAP, good[-1].number + 1)
        good.append(checkpoint)
    return CheckpointVerdict(tuple(good))


def _good_before(by_number: Mapping[int, SignedCheckpoint], number: int) -> tuple[Checkpoint, ...]:
    return tuple(by_number[n].checkpoint for n in sorted(by_number) if n < number)


_PROBLEM_BREAK = {
    CheckpointProblem.FORGED: BreakKind.FORGED_CHECKPOINT,
    CheckpointProblem.GAP: BreakKind.CHECKPOINT_MISSING,
    CheckpointProblem.CONFLICT: BreakKind.CHECKPOINT_CONFLICT,
}


@dataclass(frozen=True, slots=True)
class SignedVerification:
    """A walk judged against signed checkpoints.

    ``last_good`` is the newest checkpoint that verified and that the intact part of the chain
    passes through: everything up to its ``seq`` is proved. ``unsigned`` counts the sealed records
    after it, which only the hash chain protects until the next checkpoint.
    """

    chain: Verification
    last_good: Checkpoint | None
    unsigned: int


def verify_signed(
    stored_anchor: ChainPoint,
    chained: Iterable[ChainedRecord],
    head: ChainPoint,
    verdict: CheckpointVerdict,
) -> SignedVerification:
    """Walk the chain from the latest *signed* anchor, through every signed head, to ``head``.

    The anchor row in the database (``stored_anchor``) is only believed when the latest checkpoint
    signs it: a forged or moved anchor is ``anchor_not_signed``. A problem with the checkpoints
    themselves (a forged signature, a gap) is reported before the chain's own breaks, since the
    walk then rests on fewer signatures than there should be.
    """
    latest = verdict.latest
    start = stored_anchor if latest is None else latest.anchor
    expected = {c.seq: c.head for c in verdict.good if c.seq >= start.seq}
    walked = verify(start, chained, head, expected)
    last_good = max(
        (c for c in verdict.good if start.seq <= c.seq <= walked.last.seq), key=lambda c: c.number, default=None
    )
    unsigned = walked.last.seq - (last_good.seq if last_good is not None else start.seq)
    broken = walked.broken
    if latest is not None and stored_anchor != latest.anchor:
        broken = ChainBreak(BreakKind.ANCHOR_NOT_SIGNED, stored_anchor.seq, None, latest.number)
    if verdict.problem is not None:
        broken = ChainBreak(_PROBLEM_BREAK[verdict.problem], None, None, verdict.problem_number)
    return SignedVerification(Verification(walked.checked, walked.last, broken, walked.pending), last_good, unsigned)
