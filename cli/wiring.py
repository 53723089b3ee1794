"""Putting the parts together: settings in, a ready ``GatewayDeps`` out."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from domain.certificate_types import CertificateTypeRegistry, from_mapping, load_default_registry
from domain.directory import Directory
from domain.directory_cache import CachedDirectory
from domain.pdl import SystemIdentity
from domain.usecases.create_draft import CreateDraftDeps, create_draft
from gateway import GatewayDeps, Readiness
from store.directory import SqlDirectory, directory_produced_at
from store.errors import DatabaseUnavailable
from store.health import ping
from store.session import make_engine, make_session_factory, transaction
from cli.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


def certificate_types(settings: Settings) -> CertificateTypeRegistry:
    """The built-in registry, or the one in ``certificate_types_file``."""
    if not settings.certificate_types_file:
        return load_default_registry()
    data = tomllib.loads(Path(settings.certificate_types_file).read_text(encoding="utf-8"))
    return from_mapping(data)


def gateway_deps(settings: Settings, directory: Directory | None = None) -> GatewayDeps:
    """Everything the gateway needs, for one process (call it after forking: it opens a pool).

    ``directory`` replaces the embedded HSA/PU store, for a deployment with another directory.
    """
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    directory = directory or SqlDirectory(factory)
    if settings.directory_cache_seconds > 0:
        directory = CachedDirectory(directory, settings.directory_cache_seconds, utc_now)
    create_deps = CreateDraftDeps(
        transaction=partial(transaction, factory),
        directory=directory,
        registry=certificate_types(settings),
        system=SystemIdentity(settings.system_hsa_id, settings.system_name),
        clock=utc_now,
        validation_persons=frozenset(settings.validation_persons),
    )

    def readiness() -> Readiness:
        try:
            ping(engine)
            with transaction(factory) as session:
                produced_at = directory_produced_at(session)
        except DatabaseUnavailable:
            return Readiness(False, {"database": "unavailable"})
        directory: dict[str, str | int | None] = {"producedAt": None, "ageSeconds": None}
        if produced_at is not None:
            directory = {
                "producedAt": produced_at.isoformat(),
                "ageSeconds": int((utc_now() - produced_at).total_seconds()),
            }
        return Readiness(True, {"database": "ok", "directory": directory})

    return GatewayDeps(
        create_draft=partial(create_draft, create_deps),
        readiness=readiness,
        max_request_bytes=settings.max_request_bytes,
        close=engine.dispose,
    )
