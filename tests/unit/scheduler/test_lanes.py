"""Lanes per journal system: a bound on calls in flight each, journals taken in turn, full lanes named,
the claimers' room reserved."""

from __future__ import annotations

import threading
import time
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


def test_reservations_and_waiting_calls_together_stay_within_the_room() -> None:
    """Two claimers reserving at once share the room: the second gets what the first left, then nothing."""
    lanes: Lanes[Call] = Lanes(per_journal=10, per_lane=10, room=10)
    assert lanes.reserve(4, 0) == 4
    assert lanes.reserve(10, 0) == 6  # what is left, not another ten
    assert lanes.reserve(10, 0) == 0  # the room is taken
    for n in range(6):  # the second claimer queues its six calls, then gives back its reservation
        assert lanes.put(Call("j", "U1", n))
    lanes.unreserve(6)
    lanes.unreserve(4)  # the first claimer found nothing due
    assert lanes.reserve(10, 0) == 0  # six waiting: more than half the room is taken
    lanes.take(0)
    lanes.take(0)
    assert lanes.reserve(10, 0) == 6  # four waiting: below half, the free six reserved


def test_a_waiting_claimer_is_woken_when_the_room_frees_up() -> None:
    """A claimer waits while the room is more than half taken, and gets the room once calls are taken."""
    lanes: Lanes[Call] = Lanes(per_journal=10, per_lane=4, room=4)
    for n in range(4):
        lanes.put(Call("j", "U1", n))
    granted: list[int] = []
    claimer = threading.Thread(target=lambda: granted.append(lanes.reserve(4, 5.0)))
    claimer.start()
    time.sleep(0.05)
    lanes.take(0)  # three waiting: still not below half
    time.sleep(0.05)
    assert granted == []
    lanes.take(0)
    lanes.take(0)  # one waiting: below half
    claimer.join(5.0)
    assert granted == [3]


def test_closing_wakes_a_waiting_claimer_with_nothing() -> None:
    lanes: Lanes[Call] = Lanes(per_journal=1, per_lane=2, room=2)
    lanes.put(Call("j", "U1"))
    lanes.put(Call("j", "U2"))
    granted: list[int] = []
    claimer = threading.Thread(target=lambda: granted.append(lanes.reserve(2, 5.0)))
    claimer.start()
    lanes.close()
    claimer.join(5.0)
    assert granted == [0]
