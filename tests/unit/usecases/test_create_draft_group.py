"""``draft_rows``: a group of drafts writes the rows that one transaction per draft would have written.

Plain Python. Certificates, SKAPAT events and PDL records are independent rows, kept in arrival
order; a unit that several drafts register is folded into one upsert, and the fold is checked here
against the upsert's own rule (``store.units.register_integrated_unit``) applied draft by draft, on
many random sequences. ``tests/integration/test_create_draft_group.py`` runs the same comparison on
the databases themselves.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.directory import CareGiver
from domain.values import HsaId
from store.units import IntegratedUnit
from tests.builders import make_new_draft
from usecases.create_draft import NewDraft, draft_rows

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REGION = CareGiver(HsaId("SE2321000016-0001"), "Region Demo")
OTHER_REGION = CareGiver(HsaId("SE2321000016-0002"), "Region Annan")


def _draft(
    number: int,
    unit: str = "SE2321000016-1003",
    at: datetime = T0,
    care_giver: CareGiver = REGION,
    register: bool = True,
    test_data: bool = False,
) -> NewDraft:
    return make_new_draft(f"draft-{number}", unit, at, care_giver, register, test_data)


def test_every_draft_keeps_its_rows_in_arrival_order() -> None:
    """Certificates, events and records come out in the order the drafts came in, one each."""
    drafts = [_draft(n, unit=f"SE2321000016-10{n:02d}", at=T0 + timedelta(milliseconds=n)) for n in range(5)]
    rows = draft_rows(drafts)
    assert [c.id for c in rows.certificates] == [f"draft-{n}" for n in range(5)]
    assert [e.certificate_id for e in rows.events] == [f"draft-{n}" for n in range(5)]
    assert [e.request_correlation_id for e in rows.events] == [f"corr-draft-{n}" for n in range(5)]
    assert [r.activity_level for r in rows.records] == [f"draft-{n}" for n in range(5)]
    assert [s.unit.value for s in rows.units] == [f"SE2321000016-10{n:02d}" for n in range(5)]


def test_test_data_gets_no_record_and_a_fresh_unit_no_registration() -> None:
    """A test certificate writes no PDL record; a unit this process registered lately is not upserted again."""
    rows = draft_rows([_draft(1, test_data=True), _draft(2, unit="SE2321000016-2000", register=False)])
    assert [c.id for c in rows.certificates] == ["draft-1", "draft-2"]
    assert [r.activity_level for r in rows.records] == ["draft-2"]
    assert [s.unit.value for s in rows.units] == ["SE2321000016-1003"]


def test_one_unit_seen_by_several_drafts_is_one_sighting() -> None:
    """Earliest first_seen, latest last_seen, the care giver of the newest draft, the first draft's spelling."""
    drafts = [
        _draft(1, unit="se2321000016-1003", at=T0 + timedelta(seconds=2)),
        _draft(2, unit="SE2321000016-1003", at=T0, care_giver=OTHER_REGION),
        _draft(3, unit="SE2321000016-1003", at=T0 + timedelta(seconds=5), care_giver=OTHER_REGION),
        _draft(4, unit="SE2321000016-1003", at=T0 + timedelta(seconds=1)),
    ]
    assert draft_rows(drafts).units == [
        IntegratedUnit(HsaId("se2321000016-1003"), OTHER_REGION.hsa_id, T0, T0 + timedelta(seconds=5))
    ]


def test_of_two_drafts_at_the_same_moment_the_later_one_names_the_care_giver() -> None:
    """A tie on last_seen goes to the later draft, as the upsert's ``>=`` does draft by draft."""
    drafts = [_draft(1, at=T0), _draft(2, at=T0, care_giver=OTHER_REGION)]
    assert draft_rows(drafts).units[0].care_giver == OTHER_REGION.hsa_id


@dataclass(frozen=True)
class _Row:
    """The integrated_unit row as the upsert leaves it."""

    spelling: str
    care_giver: str
    first_seen: datetime
    last_seen: datetime


def _upsert(row: _Row | None, unit: str, care_giver: str, first: datetime, last: datetime) -> _Row:
    """``register_integrated_unit``'s INSERT ... ON CONFLICT DO UPDATE, as plain Python."""
    if row is None:
        return _Row(unit, care_giver, first, last)
    return _Row(
        row.spelling,
        care_giver if last >= row.last_seen else row.care_giver,
        min(row.first_seen, first),
        max(row.last_seen, last),
    )


def test_the_fold_leaves_the_row_that_one_upsert_per_draft_would_leave() -> None:
    """Random sequences (ties, clocks stepping back, an existing row or none): folded equals draft by draft."""
    generator = random.Random(16)
    givers = [REGION, OTHER_REGION, CareGiver(HsaId("SE2321000016-0003"), "Region Tre")]
    for _ in range(2000):
        drafts = [
            _draft(n, at=T0 + timedelta(seconds=generator.randint(0, 4)), care_giver=generator.choice(givers))
            for n in range(generator.randint(1, 6))
        ]
        existing = generator.choice(
            [None, _Row("SE2321000016-1003", "SE2321000016-0009", T0 + timedelta(seconds=1), T0 + timedelta(seconds=3))]
        )
        one_by_one = existing
        for draft in drafts:
            c = draft.certificate
            one_by_one = _upsert(one_by_one, c.unit.hsa_id.value, c.care_giver.hsa_id.value, c.created_at, c.created_at)
        (seen,) = draft_rows(drafts).units
        folded = _upsert(existing, seen.unit.value, seen.care_giver.value, seen.first_seen, seen.last_seen)
        assert folded == one_by_one, (existing, [(d.certificate.created_at, d.certificate.care_giver) for d in drafts])
