"""TAK-style routing: which endpoint serves a contract for a logical address, and who may call us.

Plain Python: no HTTP, XML or SQL here. ``Catalogue`` is an immutable snapshot of routes (vägval) and
access rights (anropsbehörighet) with the HSA tree it climbs; ``CatalogueProvider`` hands out the
current one. Refusals are ``RoutingError`` subclasses carrying the platform's VP codes.

Modules: ``catalogue`` (records, snapshot, resolution order), ``errors`` (VP codes), ``provider``,
``content`` (the catalogue as plain records, natural keys, merge), ``formats`` (TAK exports and our
JSON/CSV), ``validate`` (the import report), ``diff``, ``changes`` (planning a change: diff, report,
shrink guard), ``report`` (the operators' health check) and ``watch`` (checking a newly integrated
unit without blocking its draft). Reading files and the database is the callers' job.
"""

from routing.catalogue import (
    DEFAULT_PROFILE,
    ROOT,
    WILDCARD,
    AccessRight,
    Catalogue,
    Resolution,
    Route,
    normalise,
)
from routing.errors import (
    VP_TEXTS,
    AmbiguousRoute,
    CatalogueUnavailable,
    EmptyUrl,
    NoAccess,
    NoLogicalAddress,
    NoRoute,
    RoutingError,
)
from routing.provider import CatalogueProvider, RefreshingProvider, StaticProvider
from routing.watch import IntegrationWatch

__all__ = [
    "DEFAULT_PROFILE",
    "ROOT",
    "VP_TEXTS",
    "WILDCARD",
    "AccessRight",
    "AmbiguousRoute",
    "Catalogue",
    "CatalogueProvider",
    "CatalogueUnavailable",
    "EmptyUrl",
    "IntegrationWatch",
    "NoAccess",
    "NoLogicalAddress",
    "NoRoute",
    "Resolution",
    "Route",
    "RoutingError",
    "RefreshingProvider",
    "StaticProvider",
    "normalise",
]
