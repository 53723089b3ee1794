"""Who may call us: the caller's identity and its access right in the routing catalogue.

The gateway is a producer behind the national platform, and applies the platform's own rule to its
callers: the consumer (``gateway.identity``) must hold a valid access right (anropsbehörighet) for
the service contract and the request's logical address, looked up in the same catalogue that routes
our outbound calls (``routing.catalogue.Catalogue.check_access``: exact, the HSA parents, then
``*``). Two steps, at two moments of a request:

* ``identify`` before the body is read, so an unknown caller's XML is never parsed;
* ``check`` once the envelope is split, with the LogicalAddress header and the contract namespace.

Journal systems often send no LogicalAddress to a producer they call directly (CreateDraftCertificate
does not route on it), so an empty one is checked as the gateway's first own producer address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from gateway.identity import Caller, CallerPolicy, identify
from routing.provider import CatalogueProvider


@dataclass(frozen=True, slots=True)
class AccessControl:
    """The catalogue, the trusted proxies and our own producer addresses; present means switched on."""

    catalogue: CatalogueProvider
    callers: CallerPolicy
    producer_addresses: tuple[str, ...]
    today: Callable[[], date]
    instance: str  # our name in fault strings, as VP puts ``vp.instance.name`` there

    def identify(self, environ: Mapping[str, Any]) -> Caller:
        """The consumer of this request; raises ``CallerRefused`` (VP002/VP011)."""
        return identify(environ, self.callers)

    def address_for(self, logical_address: str) -> str:
        """The logical address to check: the header's, or our first producer address when it is empty."""
        address = logical_address.strip()
        if not address and self.producer_addresses:
            return self.producer_addresses[0]
        return address

    def check(self, caller: Caller, contract: str, logical_address: str) -> tuple[str, ...]:
        """The trace of the caller's access right; raises ``NoAccess`` (VP007) or ``NoLogicalAddress`` (VP003)."""
        return self.catalogue.current().check_access(
            caller.consumer, contract, self.address_for(logical_address), self.today()
        )

    def describe(self) -> dict[str, Any]:
        """What ``/readyz`` shows about access control."""
        return {
            "enabled": True,
            "producerAddresses": list(self.producer_addresses),
            "trustedProxies": [str(network) for network in self.callers.proxies],
            "proxyHeader": self.callers.proxy_header if self.callers.proxies else None,
        }


ACCESS_CONTROL_OFF = {
    "enabled": False,
    "warning": "ACCESS CONTROL IS OFF: any caller may call every contract (local development only)",
}
