"""Routing refusals, coded as the national platform (VP) codes them.

```
RoutingError                 a lookup in the catalogue that cannot give one valid answer
├── NoLogicalAddress  VP003  the request names no logical address
├── NoRoute           VP004  no valid route for contract + logical address, not even by climbing or `*`
├── AmbiguousRoute    VP006  more than one valid route at the first level that matched
├── NoAccess          VP007  the consumer holds no valid access right for contract + logical address
└── EmptyUrl          VP010  the one valid route has an empty URL

CatalogueUnavailable  VP008  no catalogue snapshot could ever be loaded in this process
```

Every error carries its fields (code, contract, logical address, consumer, the trace of what was
tried, the nearest row that is expired or not yet valid, a hint); callers branch on the class or
``code``, never on the text. ``VP_TEXTS`` holds the code texts in one place: the gateway (and the
CLI) are the only places that turn them into faults or output.
"""

from __future__ import annotations

from dataclasses import dataclass

# code -> (Swedish text for the fault, English meaning); our own wording of the platform's meanings.
VP_TEXTS: dict[str, tuple[str, str]] = {
    "VP002": ("Avsändarens HSA-id saknas i klientcertifikatet", "no consumer identity in the client certificate"),
    "VP003": ("Logisk adress saknas i anropet", "no logical address in the request"),
    "VP004": ("Inget vägval finns för den logiska adressen och tjänstekontraktet",
              "no route for the logical address and service contract"),
    "VP006": ("Fler än ett vägval matchar den logiska adressen och tjänstekontraktet",
              "more than one route matches the logical address and service contract"),
    "VP007": ("Anropsbehörighet saknas för tjänstekonsumenten", "the consumer has no access right"),
    "VP008": ("Tjänsteadresseringskatalogen kunde inte läsas", "the routing catalogue could not be loaded"),
    "VP010": ("Vägvalets fysiska adress är tom", "the route's physical address is empty"),
    "VP011": ("Anroparen är inte betrodd", "the caller is not trusted"),
}


@dataclass(eq=False)
class RoutingError(Exception):
    """Base of every catalogue refusal; ``code`` is the platform's VP code."""

    contract: str
    logical_address: str
    consumer: str | None = None
    trace: tuple[str, ...] = ()
    nearest: str | None = None
    hint: str | None = None

    code = "VP000"

    def __post_init__(self) -> None:
        super().__init__(self.describe())

    @property
    def meaning(self) -> str:
        """The English meaning of ``code``."""
        return VP_TEXTS[self.code][1]

    @property
    def text_sv(self) -> str:
        """The Swedish fault text of ``code``."""
        return VP_TEXTS[self.code][0]

    def describe(self) -> str:
        """One line for faults and logs: code, meaning, the inputs, the chain tried, nearest, hint."""
        parts = [f"{self.code} {self.meaning}: contract={self.contract}",
                 f"logicalAddress={self.logical_address}"]
        if self.consumer is not None:
            parts.append(f"consumer={self.consumer}")
        if self.trace:
            parts.append("tried=" + ",".join(self.trace))
        if self.nearest:
            parts.append(f"nearest={self.nearest}")
        if self.hint:
            parts.append(f"hint={self.hint}")
        return ", ".join(parts)


class NoLogicalAddress(RoutingError):
    """The request carries no logical address (empty after trimming)."""

    code = "VP003"


class NoRoute(RoutingError):
    """No valid route for the contract and logical address, its HSA parents up to SE, or ``*``."""

    code = "VP004"


class AmbiguousRoute(RoutingError):
    """Several routes are valid at the first level that matched: a catalogue error, no tie-break."""

    code = "VP006"


class NoAccess(RoutingError):
    """The consumer has no valid access right: not exact, not by ``*``, not by climbing."""

    code = "VP007"


class EmptyUrl(RoutingError):
    """The single valid route's URL is empty."""

    code = "VP010"


class CatalogueUnavailable(Exception):
    """No snapshot was ever loaded in this process (the last good one is used after a failed reload)."""

    code = "VP008"
