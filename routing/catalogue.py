"""The routing catalogue: routes and access rights as an immutable, indexed snapshot, and resolution.

Resolution follows the national platform (VP with takdatahandler):

* **routes** (vägval): the exact logical address, then its HSA parents one by one up to and including
  the root ``SE``, then the wildcard logical address ``*``. The first level with any valid route wins;
  more than one valid route there is an error (VP006), never a tie-break.
* **access rights** (anropsbehörighet): exact, then the HSA parents up to ``SE``, then ``*``, in the
  order of the platform's ``BehorighetHandlerImpl`` (takdatahandler). Any valid right at any level
  allows the call, so the order never changes the verdict, only the trace that explains it.

A row counts when ``valid_from <= on <= valid_to``: TAK stores plain dates and the platform treats
both ends as inclusive. HSA-ids and contract namespaces are compared trimmed and case-folded (TAK's
cache keys are lower-cased); URLs are kept byte-exact. Every answer, and every refusal, carries a
trace of what was tried, e.g. ``SE2321000016-1003,(parent),SE2321000016-1000,(parent),SE,(default),*``.

The snapshot is built once from plain records and never changes, so any number of threads may read
it; a new catalogue version is a new ``Catalogue``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from routing.errors import AmbiguousRoute, EmptyUrl, NoAccess, NoLogicalAddress, NoRoute

ROOT = "SE"
ROOT_KEY = ROOT.casefold()
WILDCARD = "*"
DEFAULT_PROFILE = "RIVTABP21"
MAX_CLIMB = 32  # deeper than any real HSA tree; stops a cycle in bad directory data
MAX_CONTRACT_SPELLINGS = 1024  # bounds the memo of normalised contract names
PARENT = "(parent)"
DEFAULT = "(default)"


def normalise(value: str) -> str:
    """The comparison key of an HSA-id or a namespace: trimmed and case-folded."""
    return value.strip().casefold()


def compact(value: str) -> str:
    """``normalise`` with inner whitespace removed too: only used to explain a near miss."""
    return "".join(value.split()).casefold()


@dataclass(frozen=True, slots=True)
class Route:
    """A vägval: contract + logical address -> endpoint (producer, RIV-TA profile, URL), with validity."""

    contract: str
    logical_address: str
    url: str
    producer: str | None = None
    profile: str = DEFAULT_PROFILE
    valid_from: date = date.min
    valid_to: date = date.max
    connect_timeout_s: float | None = None
    read_timeout_s: float | None = None

    def valid_on(self, on: date) -> bool:
        """Whether the route counts on ``on`` (both ends inclusive)."""
        return self.valid_from <= on <= self.valid_to

    def describe(self) -> str:
        """One line for traces, reports and listings."""
        return (f"{self.logical_address} -> {self.url!r} ({self.profile}, producer {self.producer or '-'}) "
                f"valid {self.valid_from}..{self.valid_to}")


@dataclass(frozen=True, slots=True)
class AccessRight:
    """An anropsbehörighet: consumer may call contract for logical address, with validity."""

    consumer: str
    contract: str
    logical_address: str
    valid_from: date = date.min
    valid_to: date = date.max

    def valid_on(self, on: date) -> bool:
        """Whether the right counts on ``on`` (both ends inclusive)."""
        return self.valid_from <= on <= self.valid_to

    def describe(self) -> str:
        """One line for traces, reports and listings."""
        return (f"{self.consumer} may call for {self.logical_address} "
                f"valid {self.valid_from}..{self.valid_to}")


@dataclass(frozen=True, slots=True)
class Resolution:
    """The one valid route found and the trace of the levels tried to find it."""

    route: Route
    trace: tuple[str, ...]


Row = TypeVar("Row", Route, AccessRight)
ParentOf = Callable[[str], "str | None"]


def _parent_lookup(parents: Mapping[str, str] | ParentOf) -> ParentOf:
    if callable(parents):
        return parents
    table = {normalise(child): parent.strip() for child, parent in parents.items()}
    return table.get


class Catalogue:
    """An immutable snapshot of routes and access rights with the HSA tree needed to climb.

    ``parents`` maps a unit's HSA-id to its parent's (unit -> parent unit -> care giver); it is either
    a mapping (keys are normalised here) or a function called with a normalised HSA-id. A node
    without a parent climbs straight to ``SE``, as the platform's HSA cache answers for unknown ids.
    """

    def __init__(
        self,
        routes: Iterable[Route] = (),
        rights: Iterable[AccessRight] = (),
        parents: Mapping[str, str] | ParentOf | None = None,
        version: int = 0,
        built_at: datetime | None = None,
        contracts: Iterable[str] = (),
    ) -> None:
        self.version = version
        self.built_at = built_at or datetime.now(UTC)
        self._parent_of = _parent_lookup(parents or {})
        self._routes = _index(routes, lambda r: (normalise(r.contract), normalise(r.logical_address)))
        self._rights = _index(rights, lambda r: (normalise(r.consumer), normalise(r.contract),
                                                 normalise(r.logical_address)))
        self.contracts = frozenset(normalise(c) for c in contracts) | {key[0] for key in self._routes} \
            | {key[1] for key in self._rights}
        self._near: dict[tuple[str, ...], list[tuple[str, ...]]] | None = None
        # The hot path: contract key -> address key -> (answer, spelling, valid from, valid to) for every
        # key with exactly one route and a URL. Anything else (several rows, empty URL, climbing) takes
        # the general path below; both give the same answers, this one only skips building them.
        self._single: dict[str, dict[str, tuple[Resolution, str, date, date]]] = {}
        for (ckey, akey), rows in self._routes.items():
            if len(rows) == 1 and rows[0].url.strip():
                route = rows[0]
                self._single.setdefault(ckey, {})[akey] = (Resolution(route, (route.logical_address,)),
                                                           route.logical_address, route.valid_from, route.valid_to)
        self._by_spelling: dict[str, dict[str, tuple[Resolution, str, date, date]]] = {}

    # -- reading ---------------------------------------------------------------------------------
    def routes(self) -> Iterator[Route]:
        """Every route, in no particular order."""
        for rows in self._routes.values():
            yield from rows

    def rights(self) -> Iterator[AccessRight]:
        """Every access right, in no particular order."""
        for rows in self._rights.values():
            yield from rows

    @property
    def route_count(self) -> int:
        return sum(len(rows) for rows in self._routes.values())

    @property
    def right_count(self) -> int:
        return sum(len(rows) for rows in self._rights.values())

    def parent_of(self, hsa_id: str) -> str | None:
        """The HSA parent of ``hsa_id`` as the snapshot knows it, or None."""
        return self._parent_of(normalise(hsa_id))

    # -- resolution ------------------------------------------------------------------------------
    def resolve(self, contract: str, logical_address: str, on: date) -> Resolution:
        """The one valid route for ``contract`` and ``logical_address`` on ``on``.

        Raises ``NoLogicalAddress`` (VP003), ``NoRoute`` (VP004), ``AmbiguousRoute`` (VP006) or
        ``EmptyUrl`` (VP010).
        """
        singles = self._by_spelling.get(contract)
        if singles is None:
            singles = self._singles_for(contract)
        address = logical_address.strip()
        hit = singles.get(address.casefold())
        if hit is not None:
            answer, spelling, start, end = hit
            if start <= on <= end:
                return answer if address == spelling else Resolution(answer.route, (address,))
        ckey = normalise(contract)
        if not address:
            raise NoLogicalAddress(contract, logical_address)
        trace: list[str] = []
        missed: list[Route] = []
        for label, hsa_id in self._levels(address):
            if label:
                trace.append(label)
            trace.append(hsa_id)
            found = self._routes.get((ckey, hsa_id.casefold()), ())
            valid = [row for row in found if row.valid_on(on)]
            if valid:
                return self._chosen(valid, tuple(trace), contract, address)
            missed.extend(found)
        raise NoRoute(contract, address, trace=tuple(trace), nearest=_nearest(missed, on),
                      hint=self._hint((ckey,), trace))

    def _singles_for(self, contract: str) -> dict[str, tuple[Resolution, str, date, date]]:
        """The hot-path table of ``contract`` as spelt by the caller, remembered for a few spellings."""
        singles = self._single.get(normalise(contract), {})
        if len(self._by_spelling) < MAX_CONTRACT_SPELLINGS:
            self._by_spelling[contract] = singles
        return singles

    def check_access(self, consumer: str, contract: str, logical_address: str, on: date) -> tuple[str, ...]:
        """The trace of a valid access right for ``consumer``; raises ``NoAccess`` (VP007) without one.

        An empty logical address raises ``NoLogicalAddress`` (VP003).
        """
        address = logical_address.strip()
        if not address:
            raise NoLogicalAddress(contract, logical_address, consumer=consumer)
        prefix = (normalise(consumer), normalise(contract))
        trace: list[str] = []
        missed: list[AccessRight] = []
        for label, hsa_id in self._levels(address):
            if label:
                trace.append(label)
            trace.append(hsa_id)
            found = self._rights.get((*prefix, hsa_id.casefold()), ())
            if any(row.valid_on(on) for row in found):
                return tuple(trace)
            missed.extend(found)
        raise NoAccess(contract, address, consumer=consumer.strip(), trace=tuple(trace),
                       nearest=_nearest(missed, on), hint=self._hint(prefix, trace))

    # -- the named steps ----------------------------------------------------------------------------
    def _levels(self, address: str) -> Iterator[tuple[str, str]]:
        """Routes and access rights alike: exact, then each HSA parent up to SE, then the default ``*``."""
        yield "", address
        for parent in self._climb(address):
            yield PARENT, parent
        if address != WILDCARD:
            yield DEFAULT, WILDCARD

    def _climb(self, address: str) -> Iterator[str]:
        """The HSA parents of ``address``, ending with ``SE``; nothing for ``SE`` or ``*`` itself."""
        key = address.casefold()
        if key in (ROOT_KEY, WILDCARD):
            return
        seen = {key}
        for _ in range(MAX_CLIMB):
            parent = self._parent_of(key) or ROOT
            key = parent.casefold()
            if key in seen:  # a cycle in the directory: go to the root
                parent, key = ROOT, ROOT_KEY
            seen.add(key)
            yield parent
            if key == ROOT_KEY:
                return
        yield ROOT

    def _chosen(self, valid: Sequence[Route], trace: tuple[str, ...], contract: str, address: str) -> Resolution:
        if len(valid) > 1:
            raise AmbiguousRoute(contract, address, trace=trace,
                                 nearest="; ".join(sorted(row.describe() for row in valid)))
        route = valid[0]
        if not route.url.strip():
            raise EmptyUrl(contract, address, trace=trace, nearest=route.describe())
        return Resolution(route, trace)

    def _hint(self, prefix: tuple[str, ...], trace: list[str]) -> str | None:
        """Say so when a row would match if whitespace inside ids and case were ignored."""
        near = self._near_index()
        for hsa_id in trace:
            if hsa_id.startswith("("):
                continue
            key = (*(compact(part) for part in prefix), compact(hsa_id))
            for ids in sorted(near.get(key, ())):
                if tuple(normalise(part) for part in ids) != (*prefix, normalise(hsa_id)):
                    return (f"a row exists for {ids[-1]!r} which differs from {hsa_id!r} only in "
                            "whitespace or case")
        if len(prefix) == 1 and prefix[0] not in self.contracts:
            return f"the catalogue has no route at all for contract {prefix[0]!r}"
        return None

    def _near_index(self) -> dict[tuple[str, ...], list[tuple[str, ...]]]:
        """Rows keyed by their compacted ids; built on the first miss, never on the hot path."""
        if self._near is None:
            rows: list[tuple[str, ...]] = [(r.contract, r.logical_address) for r in self.routes()]
            rows += [(r.consumer, r.contract, r.logical_address) for r in self.rights()]
            near: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
            for ids in rows:
                near.setdefault(tuple(compact(part) for part in ids), []).append(ids)
            self._near = near
        return self._near


def _index(rows: Iterable[Row], key: Callable[[Row], tuple[str, ...]]) -> dict[tuple[str, ...], tuple[Row, ...]]:
    grouped: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        grouped.setdefault(key(row), []).append(row)
    return {k: tuple(v) for k, v in grouped.items()}


def _nearest(rows: Sequence[Route] | Sequence[AccessRight], on: date) -> str | None:
    """The row closest in time to ``on`` among those tried but not valid then, described."""
    best: tuple[int, str] | None = None
    for row in rows:
        if on < row.valid_from:
            distance, state = (row.valid_from - on).days, "not yet valid"
        else:
            distance, state = (on - row.valid_to).days, "expired"
        if best is None or distance < best[0]:
            best = (distance, f"{row.describe()} ({state})")
    return best[1] if best else None
