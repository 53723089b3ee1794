"""Ready calls waiting for a sender thread, one lane per journal system, with a bound on calls in flight per lane.

Why lanes: the dispatcher's sender threads are shared by every journal system. Taken in plain
order, a journal that answers slowly (or not at all, until the deadline) would soon hold every
thread, and every other journal would wait behind it; a journal that just came back after an
outage would get the whole backlog at once. Here a thread takes the next call of a journal that
has fewer than ``per_journal`` calls in flight (journals taken in turn), so a slow journal holds at
most ``per_journal`` threads and the others keep going.

A lane holds at most ``per_lane`` waiting calls; ``put`` refuses more (the dispatcher gives such an
event back unsent), and ``busy_units`` names the units whose lane is full, so that the next claim
skips their events instead of claiming what would only wait here.

The claimers **reserve** their room before they claim (``reserve``, ``unreserve``): the waiting calls
and the places reserved together stay within ``room``. Without it two claimers counted the same free
room, each claimed it, and one in seven claimed events of a drain went back unsent: claimed, read,
built and marked for nothing (issue 14). A claimer is woken only when the free room crosses the point
where a claim is worth making (half the room), not after every call taken.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar


class Routed(Protocol):
    """A call that knows its journal system and the unit it is for."""

    @property
    def journal(self) -> str: ...

    @property
    def unit_key(self) -> str: ...


T = TypeVar("T", bound=Routed)


@dataclass
class _Lane(Generic[T]):
    waiting: deque[T] = field(default_factory=deque)
    in_flight: int = 0


class Lanes(Generic[T]):
    """Per-journal queues with a bound on calls in flight; thread-safe."""

    def __init__(self, per_journal: int, per_lane: int, room: int | None = None) -> None:
        """``room``: the calls waiting and reserved, all journals together (default ``per_lane``)."""
        room = per_lane if room is None else room
        if per_journal < 1 or per_lane < 1 or room < 1:
            raise ValueError("calls in flight, waiting calls per journal and room must be at least 1")
        self._per_journal = per_journal
        self._per_lane = per_lane
        self._capacity = room
        # Claim when fewer than this are waiting or reserved: fewer, fuller claims (each costs the same
        # few statements).
        self._below = max(1, room // 2)
        self._reserved = 0
        self._lanes: dict[str, _Lane[T]] = {}
        self._units: dict[str, str] = {}  # unit -> the journal its last call went to
        self._turn = 0
        self._waiting = 0
        self._closed = False
        self._lock = threading.Lock()
        # Two conditions on one lock, so that each change wakes only whom it concerns: a queued call or
        # a freed slot wakes one sender; a taken call wakes the claimers waiting for room. (One
        # condition woken for all would wake every sender thread after every call.)
        self._work = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)

    def put(self, item: T) -> bool:
        """Queue ``item`` on its journal's lane; False (and nothing queued) when that lane is full or
        the lanes are closed."""
        with self._lock:
            if self._closed:
                return False
            lane = self._lanes.setdefault(item.journal, _Lane())
            self._units[item.unit_key] = item.journal
            if len(lane.waiting) >= self._per_lane:
                return False
            lane.waiting.append(item)
            self._waiting += 1
            self._work.notify()
            return True

    def take(self, timeout: float) -> T | None:
        """The next call of a journal with a free slot, journals in turn; None after ``timeout`` or when closed.

        The caller owns a slot of that journal until it calls ``done`` with the item.
        """
        with self._lock:
            item = self._next()
            if item is None and not self._closed:
                self._work.wait(timeout)
                item = self._next()
            if item is not None and self._waiting + self._reserved == self._below - 1:
                self._room.notify()  # just crossed: a claim is worth making again
            return item

    def _next(self) -> T | None:
        journals = list(self._lanes)
        for offset in range(len(journals)):
            journal = journals[(self._turn + offset) % len(journals)]
            lane = self._lanes[journal]
            if lane.waiting and lane.in_flight < self._per_journal:
                self._turn = (self._turn + offset + 1) % len(journals)
                lane.in_flight += 1
                self._waiting -= 1
                return lane.waiting.popleft()
        return None

    def done(self, item: T) -> None:
        """``item``'s call is over: its journal has a free slot again."""
        with self._lock:
            lane = self._lanes[item.journal]
            lane.in_flight -= 1
            if not lane.waiting and lane.in_flight == 0:
                del self._lanes[item.journal]  # idle journals cost nothing
            elif lane.waiting:
                self._work.notify()  # a slot of a journal with calls waiting is free

    def room(self, journal: str) -> int:
        """How many more calls ``journal``'s lane takes now."""
        with self._lock:
            lane = self._lanes.get(journal)
            return self._per_lane - (len(lane.waiting) if lane else 0)

    def note(self, unit_key: str, journal: str) -> None:
        """Remember that ``unit_key``'s calls go to ``journal``, without queueing one (its lane was full)."""
        with self._lock:
            self._units[unit_key] = journal

    def busy_units(self) -> set[str]:
        """Units whose journal's lane is full: claiming their events now would only make them wait."""
        with self._lock:
            full = {journal for journal, lane in self._lanes.items() if len(lane.waiting) >= self._per_lane}
            return {unit for unit, journal in self._units.items() if journal in full} if full else set()

    def reserve(self, most: int, timeout: float) -> int:
        """Wait (at most ``timeout``) until fewer than half the room is taken by waiting calls and
        reservations, then reserve up to ``most`` places; how many (0: no room in time, or closed).

        The caller claims that many events at most, queues them (``put``) and then ``unreserve``s.
        """
        with self._lock:
            if not self._room.wait_for(lambda: self._taken() < self._below or self._closed, timeout):
                return 0
            if self._closed:
                return 0
            granted = min(most, self._capacity - self._taken())
            self._reserved += granted
            if self._taken() < self._below:
                self._room.notify()  # room left for the other claimer
            return granted

    def unreserve(self, places: int) -> None:
        """Give back a reservation once its claimed calls are queued (or none were claimed)."""
        with self._lock:
            self._reserved -= places
            if self._taken() < self._below:
                self._room.notify()

    def _taken(self) -> int:
        return self._waiting + self._reserved

    def close(self) -> list[T]:
        """Stop handing out calls; return every call still waiting (the caller gives them back)."""
        with self._lock:
            self._closed = True
            left = [item for lane in self._lanes.values() for item in lane.waiting]
            for lane in self._lanes.values():
                lane.waiting.clear()
            self._waiting = 0
            self._work.notify_all()
            self._room.notify_all()
            return left

