"""Lanes per journal system: a bound on calls in flight each, journals taken in turn, full lanes named."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from scheduler.lanes import Lanes


@dataclass(frozen=True)
class Call:
    journal: str
    unit_key: str
    n: int = 0


def test_a_journal_never_has_more_calls_in_flight_than_its_bound() -> None:
    """Two calls in flight to the slow journal: its third waits, the other journal's calls go."""
    lanes: Lanes[Call] = Lanes(per_journal=2, per_lane=10)
    for n in range(3):
        assert lanes.put(Call("slow", "U1", n))
    assert lanes.put(Call("fast", "U2"))
    taken = [lanes.take(0), lanes.take(0), lanes.take(0)]
    assert sorted((c.journal, c.n) for c in taken if c) == [("fast", 0), ("slow", 0), ("slow", 1)]
    assert lanes.take(0) is None  # the slow journal's third call waits for a free slot
    slow = next(c for c in taken if c and c.journal == "slow")
    lanes.done(slow)
    assert lanes.take(0) == Call("slow", "U1", 2)


def test_journals_are_served_in_turn() -> None:
    """A journal with a long queue does not starve one with a short one."""
    lanes: Lanes[Call] = Lanes(per_journal=10, per_lane=10)
    for n in range(5):
        lanes.put(Call("big", "U1", n))
    lanes.put(Call("small", "U2"))
    first_two = {lanes.take(0).journal, lanes.take(0).journal}  # type: ignore[union-attr]
    assert first_two == {"big", "small"}


def test_a_full_lane_refuses_and_names_its_units() -> None:
    """Past ``per_lane`` waiting calls a journal's lane refuses; its units are the ones to skip."""
    lanes: Lanes[Call] = Lanes(per_journal=1, per_lane=2)
    assert lanes.put(Call("j", "U1")) and lanes.put(Call("j", "U2"))
    assert not lanes.put(Call("j", "U3"))
    lanes.note("U4", "j")
    assert lanes.busy_units() == {"U1", "U2", "U3", "U4"}
    assert lanes.room("j") == 0 and lanes.room("other") == 2
    lanes.take(0)
    assert lanes.busy_units() == set()


def test_closing_hands_back_what_waits_and_refuses_more() -> None:
    lanes: Lanes[Call] = Lanes(per_journal=1, per_lane=5)
    lanes.put(Call("j", "U1", 1))
    lanes.put(Call("j", "U1", 2))
    assert lanes.take(0) == Call("j", "U1", 1)
    assert lanes.close() == [Call("j", "U1", 2)]
    assert not lanes.put(Call("j", "U1", 3))
    assert lanes.take(0.01) is None


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Lanes(per_journal=0, per_lane=1)
