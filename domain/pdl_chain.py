"""The hash chain that makes the PDL log tamper-evident: canonical form, links and the walk that checks them.

Every stored record gets a sequence number ``seq`` (1, 2, 3 … without gaps) and
``hash = SHA-256("v1:<seq>:<prev_hash>:<content digest>")``, where the content digest is the SHA-256
of the record's canonical form and ``prev_hash`` is the hash of record ``seq - 1`` (``GENESIS_HASH``
for the first record, or the retention anchor's hash once older records have been purged).
Changing a stored field changes its hash; deleting a record leaves a gap in ``seq``; moving or
inserting a record breaks the ``prev_hash`` of the record after it; cutting records off the end
disagrees with the chain head (the last ``seq`` and hash, kept in its own row).

Canonical form: a JSON object with sorted keys, no insignificant whitespace, UTF-8, holding every
``PdlRecord`` field that has a value (absent optional fields are left out, so adding an optional
field to ``PdlRecord`` later leaves every existing hash valid; ``start_date`` as ISO 8601 UTC with
microseconds) and the format version ``v``. Hashing the content apart from the link keeps the
step that depends on the chain's position cheap. JSON is used because its
escaping is defined for every string, so no separator inside a value can make two different records
serialise alike. The version lets a later format coexist with old links.

Records are sealed after they commit (see ``store.pdl``): a business transaction only inserts its
record, and a sealer links committed records into the chain a moment later. Until then a record is
*pending*; ``check_sealing`` accepts pending records younger than ``SEAL_GRACE`` and reports an older
one as a break (``not_sealed``), since a working sealer links every record within about a second.

The chain alone protects against changes made behind the service's back by anyone who does not
also recompute every later hash. Against someone who does (anyone with write access to the
database and this source code), ``verify`` takes the heads of signed checkpoints
(``domain.pdl_checkpoint``): the chain must pass through each of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from json.encoder import encode_basestring
from operator import attrgetter

from domain.pdl import PdlRecord

CHAIN_FORMAT = 1
GENESIS_HASH = "0" * 64
#: How long a committed record may wait for its seal before ``verify`` calls it a break. Sealers run
#: every second or so; minutes leave room for a restart or a database failover, not for a sealer
#: that is switched off everywhere.
SEAL_GRACE = timedelta(minutes=5)
# The canonical form's members in their order: the fields sorted by name, then ``v`` (which sorts
# after every field name: a test checks it).
_SORTED = tuple(sorted(f.name for f in fields(PdlRecord)))
_SORTED_VALUES = attrgetter(*_SORTED)  # every field's value in one call, in that order
_MEMBER_KEYS = tuple(f'"{name}":' for name in _SORTED)
_START_DATE = _SORTED.index("start_date")
_VERSION_MEMBER = f'"v":{CHAIN_FORMAT}'


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """A position in the chain: the last ``seq`` and its hash (the head, or a retention anchor)."""

    seq: int
    hash: str


GENESIS = ChainPoint(0, GENESIS_HASH)


@dataclass(frozen=True, slots=True)
class Link:
    """A record's place in the chain."""

    seq: int
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainedRecord:
    """A stored record with its link, as ``verify`` walks them."""

    record: PdlRecord
    link: Link


def canonical(record: PdlRecord) -> bytes:
    """The record's content in canonical form (see module doc): what ``content_digest`` hashes.

    Written member by member in the sorted order of ``_SORTED``, each value as ``json.dumps`` with
    ``ensure_ascii=False`` writes it (a text through the same C function, ``encode_basestring``):
    byte for byte the ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    of the record's fields that have a value, which every stored hash was made from (a test holds the
    two equal). A third less than building that dict and sorting it, for every record of the log.
    """
    values = list(_SORTED_VALUES(record))
    values[_START_DATE] = record.start_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    members = [
        key + (encode_basestring(value) if value.__class__ is str else json.dumps(value, ensure_ascii=False))
        for key, value in zip(_MEMBER_KEYS, values, strict=True)
        if value is not None
    ]
    members.append(_VERSION_MEMBER)
    return ("{" + ",".join(members) + "}").encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_digest(record: PdlRecord) -> str:
    """SHA-256 of the record's canonical content, as 64 lower-case hex digits."""
    return _sha256(canonical(record))


def link_from_digest(digest: str, seq: int, prev_hash: str) -> str:
    """The link hash: SHA-256 over the format version, ``seq``, ``prev_hash`` and the content digest."""
    return _sha256(f"v{CHAIN_FORMAT}:{seq}:{prev_hash}:{digest}".encode("ascii"))


def link_hash(record: PdlRecord, seq: int, prev_hash: str) -> str:
    """The hash ``record`` must carry at ``seq`` after ``prev_hash``."""
    return link_from_digest(content_digest(record), seq, prev_hash)


def extend(head: ChainPoint, digests: Iterable[str]) -> tuple[list[Link], ChainPoint]:
    """Links for records (given by their content digests) appended after ``head``, and the new head.

    Taking digests rather than records keeps the hashing of content apart from the cheap linking
    step, which is all that depends on the chain's position.
    """
    links: list[Link] = []
    seq, previous = head.seq, head.hash
    for digest in digests:
        seq += 1
        current = link_from_digest(digest, seq, previous)
        links.append(Link(seq, previous, current))
        previous = current
    return links, ChainPoint(seq, previous)


class BreakKind(StrEnum):
    """How a link is broken, and what that usually means."""

    CHANGED = "changed"  # the record's content no longer matches its own hash
    MISSING = "missing"  # seq jumps: records were deleted
    OUT_OF_PLACE = "out_of_place"  # prev_hash is not the previous record's hash: reordered or inserted
    TRUNCATED = "truncated"  # the chain ends before the recorded head: the newest records are gone
    EXTRA = "extra"  # records after the recorded head: inserted behind the service's back
    NOT_SEALED = "not_sealed"  # a record committed longer than SEAL_GRACE ago is still outside the chain
    # Signed checkpoints (domain.pdl_checkpoint):
    REWRITTEN = "rewritten"  # the chain's hash at a signed seq is not the signed one: history recomputed
    ANCHOR_NOT_SIGNED = "anchor_not_signed"  # the stored retention anchor is not the latest signed one
    FORGED_CHECKPOINT = "forged_checkpoint"  # a checkpoint whose signature does not verify
    CHECKPOINT_MISSING = "checkpoint_missing"  # a checkpoint number skipped, or its prev link broken
    CHECKPOINT_CONFLICT = "checkpoint_conflict"  # two different checkpoints with one number


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first broken link: where (``seq`` and ``log_id`` of the record) and how.

    ``seq`` is None for a record that was never sealed (``not_sealed``): it has no place in the chain.
    """

    kind: BreakKind
    seq: int | None
    log_id: str | None
    checkpoint: int | None = None  # the checkpoint number, for the checkpoint kinds

    def __str__(self) -> str:
        if self.checkpoint is not None:
            seq = f" (seq {self.seq})" if self.seq is not None else ""
            return f"{self.kind.value} at checkpoint {self.checkpoint}{seq}"
        if self.seq is None:
            return f"{self.kind.value} at logId {self.log_id}"
        where = f"seq {self.seq}" + (f" (logId {self.log_id})" if self.log_id else "")
        return f"{self.kind.value} at {where}"


@dataclass(frozen=True, slots=True)
class Verification:
    """What a walk over the chain found: records checked, the last point reached, the first break.

    ``pending`` counts committed records not yet sealed into the chain (see ``check_sealing``).
    """

    checked: int
    last: ChainPoint
    broken: ChainBreak | None
    pending: int = 0


@dataclass(frozen=True, slots=True)
class Unsealed:
    """The records outside the chain: how many, and the one stored longest ago (its logId and time)."""

    count: int
    oldest_log_id: str | None = None
    oldest_stored_at: datetime | None = None


NONE_UNSEALED = Unsealed(0)


def verify(
    start: ChainPoint, chained: Iterable[ChainedRecord], head: ChainPoint, signed: Mapping[int, str] | None = None
) -> Verification:
    """Walk records in ``seq`` order from ``start`` (genesis or the retention anchor) to ``head``.

    Stops at the first broken link. Each record must follow its predecessor without a gap, name its
    predecessor's hash, and hash to its own stored hash; the last one must be the head. ``signed``
    maps the ``seq`` of signed checkpoints to the hash they vouch for: the chain must carry exactly
    that hash there (``rewritten`` otherwise), and must reach the highest of them (``truncated``).
    """
    signed = signed or {}
    previous = start
    checked = 0
    for item in chained:
        link = item.link
        if link.seq != previous.seq + 1:
            kind = BreakKind.MISSING if link.seq > previous.seq + 1 else BreakKind.OUT_OF_PLACE
            return Verification(checked, previous, ChainBreak(kind, link.seq, item.record.log_id))
        if link.prev_hash != previous.hash:
            return Verification(checked, previous, ChainBreak(BreakKind.OUT_OF_PLACE, link.seq, item.record.log_id))
        if link_hash(item.record, link.seq, link.prev_hash) != link.hash:
            return Verification(checked, previous, ChainBreak(BreakKind.CHANGED, link.seq, item.record.log_id))
        if signed.get(link.seq, link.hash) != link.hash:
            return Verification(checked, previous, ChainBreak(BreakKind.REWRITTEN, link.seq, item.record.log_id))
        previous = ChainPoint(link.seq, link.hash)
        checked += 1
    if signed and max(signed) > previous.seq:
        return Verification(checked, previous, ChainBreak(BreakKind.TRUNCATED, previous.seq + 1, None))
    if previous.seq < head.seq:
        return Verification(checked, previous, ChainBreak(BreakKind.TRUNCATED, previous.seq + 1, None))
    if previous.seq > head.seq:
        return Verification(checked, previous, ChainBreak(BreakKind.EXTRA, head.seq + 1, None))
    if previous.hash != head.hash:
        return Verification(checked, previous, ChainBreak(BreakKind.CHANGED, previous.seq, None))
    return Verification(checked, previous, None)


def check_sealing(
    walked: Verification, unsealed: Unsealed, now: datetime, grace: timedelta = SEAL_GRACE
) -> Verification:
    """Add the unsealed records to a walk's verdict: pending while young, a break once older than ``grace``.

    A break found by the walk comes first. A record only stays unsealed that long when no sealer
    runs, or when someone inserted it behind the service's back with an old ``stored_at``.
    """
    counted = replace(walked, pending=unsealed.count)
    if walked.broken is not None or unsealed.oldest_stored_at is None or now - unsealed.oldest_stored_at <= grace:
        return counted
    return replace(counted, broken=ChainBreak(BreakKind.NOT_SEALED, None, unsealed.oldest_log_id))
