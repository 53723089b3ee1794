"""Explain a lookup as the platform would make it: the route's trace, then the consumer's access right.

``routing explain`` on the command line and the console's routing page both show this, in the order
the platform tries: the route first (climbing the HSA tree: unit, parents, care giver, ``SE``, the
default ``*``), then, when a consumer is named, its access right. The result says whether the call
would pass, the VP code of the first refusal, and what explains a refusal (the nearest row, a hint).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from routing.catalogue import Catalogue
from routing.errors import RoutingError


@dataclass(frozen=True, slots=True)
class AccessCheck:
    """The consumer's access right: allowed or not, and the addresses tried."""

    consumer: str
    allowed: bool
    trace: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    """One lookup explained; ``url`` is set only when the call would pass."""

    contract: str
    address: str
    on: date
    version: int
    url: str | None
    route: str | None  # the route found, described
    trace: tuple[str, ...]  # the route's trace, in the order tried
    access: AccessCheck | None
    refusal: RoutingError | None  # the first refusal (route or access), None when the call passes

    @property
    def passes(self) -> bool:
        return self.refusal is None

    @property
    def explanations(self) -> list[tuple[str, str]]:
        """What explains a refusal: ``nearest`` and ``hint``, when the refusal has them."""
        if self.refusal is None:
            return []
        return [(label, value) for label, value in (("nearest", self.refusal.nearest), ("hint", self.refusal.hint))
                if value]


def explain(catalogue: Catalogue, contract: str, address: str, consumer: str | None, on: date) -> Explanation:
    """Resolve ``contract`` at ``address`` on ``on`` and, with ``consumer``, check its access right."""
    consumer = consumer.strip() if consumer else None
    try:
        found = catalogue.resolve(contract, address, on)
    except RoutingError as error:
        return Explanation(contract, address, on, catalogue.version, None, None, error.trace, None, error)
    access: AccessCheck | None = None
    refusal: RoutingError | None = None
    if consumer:
        try:
            access = AccessCheck(consumer, True, catalogue.check_access(consumer, contract, address, on))
        except RoutingError as error:
            access, refusal = AccessCheck(consumer, False, error.trace), error
    return Explanation(contract, address, on, catalogue.version, found.route.url if refusal is None else None,
                       found.route.describe(), found.trace, access, refusal)
