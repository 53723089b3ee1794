"""The PDL hash chain as plain Python: stable canonical form, links, and a walk that finds the first break."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

from domain.pdl import PdlRecord
from domain.pdl_chain import (
    GENESIS,
    NONE_UNSEALED,
    SEAL_GRACE,
    BreakKind,
    ChainBreak,
    ChainedRecord,
    ChainPoint,
    Unsealed,
    canonical,
    check_sealing,
    content_digest,
    extend,
    link_hash,
    verify,
)

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def record(number: int, **changes: object) -> PdlRecord:
    base = PdlRecord(
        log_id=f"log-{number}", system_id="S", activity="Läsa", start_date=T0 + timedelta(seconds=number),
        purpose="Vård och behandling", user_id="U", user_care_giver_id="G", user_care_unit_id="E",
        resource_type="Intyg", resource_care_giver_id="G",
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def chain(count: int) -> tuple[list[ChainedRecord], ChainPoint]:
    records = [record(n) for n in range(1, count + 1)]
    links, head = extend(GENESIS, [content_digest(r) for r in records])
    return [ChainedRecord(r, link) for r, link in zip(records, links, strict=True)], head


def test_the_canonical_form_of_a_sealed_record_never_changes() -> None:
    """Records sealed by earlier releases must verify: this record's content hashes to the same digest
    earlier releases sealed it with (a change to ``canonical`` that moves it breaks every stored log)."""
    sealed = record(1, patient_id="191212121212", patient_name="Åsa Öberg", consumer_id="SE-cons", resource_index=2)
    assert canonical(sealed) == (
        '{"activity":"Läsa","consumer_id":"SE-cons","log_id":"log-1","patient_id":"191212121212",'
        '"patient_name":"Åsa Öberg","purpose":"Vård och behandling","resource_care_giver_id":"G",'
        '"resource_index":2,"resource_type":"Intyg","start_date":"2026-11-20T08:00:01.000000Z","system_id":"S",'
        '"user_care_giver_id":"G","user_care_unit_id":"E","user_id":"U","v":1}'
    ).encode()
    assert content_digest(sealed) == "511465396c59bd2347b14be213e2e3797568d9f9846ef0dc31afba4ef1cc8ae5"


def _canonical_by_the_book(record: PdlRecord) -> bytes:
    """The canonical form as the module doc defines it, through the standard library's ``json.dumps``."""
    values = {f.name: getattr(record, f.name) for f in fields(record) if getattr(record, f.name) is not None}
    values["start_date"] = record.start_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    values["v"] = 1
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# Every character below 0x80 (the escaped ones among them), and beyond: Latin-1, BOM, line and paragraph
# separators, a character outside the Basic Multilingual Plane, a backslash before a quote.
_HARD_TEXTS = ["".join(map(chr, range(0x80))), "Åsa\u00d6berg\x7f\x85\xa0", "\ufeff\u2028\u2029",
               "\U0001f600 \\\" end", ""]


def test_the_canonical_form_is_the_standard_librarys_json_byte_for_byte() -> None:
    """``canonical`` writes each member itself (it is on every record's path): for every field, with
    hard texts and whole numbers, each field set alone and all together, it must equal ``json.dumps``."""
    texts = [f.name for f in fields(PdlRecord) if f.name not in ("start_date", "resource_index")]
    cases = [record(1, **{name: text}) for name in texts for text in _HARD_TEXTS]
    cases += [record(2, **{name: _HARD_TEXTS[n % len(_HARD_TEXTS)] for n, name in enumerate(texts)}, resource_index=7)]
    cases += [record(3, resource_index=2**70), record(4, start_date=datetime(1, 1, 1, tzinfo=UTC))]
    for case in cases:
        assert canonical(case) == _canonical_by_the_book(case)
    assert max(f.name for f in fields(PdlRecord)) < "v"  # the version member sorts last


def test_canonical_form_is_independent_of_zone_and_absent_fields() -> None:
    """The same instant in another zone hashes alike; an absent optional field is left out, not null."""
    stockholm = timezone(timedelta(hours=1))
    assert canonical(record(1)) == canonical(record(1, start_date=(T0 + timedelta(seconds=1)).astimezone(stockholm)))
    assert b"patient_id" not in canonical(record(1))
    assert link_hash(record(1), 1, GENESIS.hash) != link_hash(record(1, patient_id="191212121212"), 1, GENESIS.hash)


def test_separators_inside_values_cannot_collide() -> None:
    """Moving text between two fields changes the hash (JSON escaping keeps field boundaries)."""
    assert link_hash(record(1, user_id="U", user_title="a,b"), 1, GENESIS.hash) != link_hash(
        record(1, user_id='U","user_title":"a', user_title="b"), 1, GENESIS.hash
    )


def test_extend_continues_from_the_head() -> None:
    """Links are numbered after the head, each names its predecessor's hash, and position changes the hash."""
    links, head = extend(ChainPoint(7, "f" * 64), [content_digest(record(1)), content_digest(record(2))])
    assert [(link.seq, link.prev_hash) for link in links] == [(8, "f" * 64), (9, links[0].hash)]
    assert head == ChainPoint(9, links[1].hash)
    assert links[0].hash == link_hash(record(1), 8, "f" * 64) != link_hash(record(1), 9, "f" * 64)


def test_intact_chain_verifies() -> None:
    """Every record checked, ending at the head."""
    chained, head = chain(4)
    result = verify(GENESIS, chained, head)
    assert (result.broken, result.checked, result.last) == (None, 4, head)


def test_first_break_is_reported() -> None:
    """Change, removal, swap and a stale head each stop the walk at the right record."""
    chained, head = chain(4)
    changed = [*chained[:1], replace(chained[1], record=record(2, user_id="X")), *chained[2:]]
    cases = {
        BreakKind.CHANGED: (changed, head, 2),
        BreakKind.MISSING: ([chained[0], *chained[2:]], head, 3),
        BreakKind.OUT_OF_PLACE: ([chained[0], replace(chained[2], link=replace(chained[2].link, seq=2)),
                                  replace(chained[1], link=replace(chained[1].link, seq=3)), chained[3]], head, 2),
        BreakKind.TRUNCATED: (chained[:3], head, 4),
        BreakKind.EXTRA: (chained, ChainPoint(3, chained[2].link.hash), 4),
    }
    for kind, (walked, recorded_head, seq) in cases.items():
        broken = verify(GENESIS, walked, recorded_head).broken
        assert broken is not None and (broken.kind, broken.seq) == (kind, seq), kind


def test_walk_starts_at_the_anchor() -> None:
    """After a purge the walk starts from the anchor's seq and hash, not from genesis."""
    chained, head = chain(4)
    anchor = ChainPoint(2, chained[1].link.hash)
    assert verify(anchor, chained[2:], head).broken is None
    broken = verify(anchor, chained[3:], head).broken
    assert broken is not None and broken.kind is BreakKind.MISSING


def test_unsealed_records_are_pending_within_the_grace_period_and_a_break_after_it() -> None:
    """Young unsealed records only count as pending; one older than the grace period breaks an intact chain."""
    chained, head = chain(2)
    intact = verify(GENESIS, chained, head)
    now = T0 + timedelta(hours=1)
    young = Unsealed(3, "log-9", now - SEAL_GRACE)
    assert (check_sealing(intact, young, now).broken, check_sealing(intact, young, now).pending) == (None, 3)
    old = Unsealed(3, "log-9", now - SEAL_GRACE - timedelta(seconds=1))
    late = check_sealing(intact, old, now)
    assert (late.broken, late.pending, late.checked) == (ChainBreak(BreakKind.NOT_SEALED, None, "log-9"), 3, 2)
    assert str(late.broken) == "not_sealed at logId log-9"
    assert check_sealing(intact, NONE_UNSEALED, now) == intact


def test_a_break_in_the_sealed_chain_is_reported_before_unsealed_records() -> None:
    """The walk's own break wins over an overdue seal; the pending count is still given."""
    chained, head = chain(3)
    broken = verify(GENESIS, [chained[0], chained[2]], head)
    now = T0 + timedelta(days=1)
    result = check_sealing(broken, Unsealed(1, "log-9", T0), now)
    assert result.broken is not None and result.broken.kind == BreakKind.MISSING and result.pending == 1
