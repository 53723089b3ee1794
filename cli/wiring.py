"""Putting the parts together: settings in, a ready ``GatewayDeps`` out."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from cli.access import access_control
from cli.pdl_signing import Ed25519Signer, PublicKeys, append_checkpoint, public_key_from_spec
from cli.settings import Settings, SettingsError
from cli.tls import Expiry, certificate_report, own_certificates
from contracts.ns import STATUS_UPDATE_V3
from domain.certificate_types import (
    CertificateTypeRegistry,
    CertificateTypes,
    from_mapping,
    load_default_registry,
)
from domain.directory import Directory
from domain.onward import OnwardConfig, OnwardTarget
from domain.pdl import SystemIdentity
from domain.recipients import RecipientConfigError, RecipientRegistry, load_default_recipients
from domain.recipients import from_mapping as recipients_from_mapping
from domain.store_log import StoreLogLimits
from domain.values import swedish_date
from gateway import DrainLimits, GatewayDeps, Readiness
from gateway.console import Console, ConsoleDeps
from gateway.internal_api import InternalApi
from gateway.internal_api.auth import (
    Authenticator,
    Credentials,
    DevelopmentToken,
    JwksSource,
    OidcTokens,
    ServiceTokens,
)
from gateway.internal_api.certificates import routes as certificate_routes
from gateway.internal_api.outbox import routes as outbox_routes
from gateway.internal_api.pdl import routes as pdl_routes
from gateway.metrics import MetricsExposition, RoutingFigures, ScrapeSources, SoapMetrics
from routing import CatalogueUnavailable, IntegrationWatch
from routing.provider import CatalogueProvider, RefreshingProvider
from scheduler.pdl_sealer import PdlSealer
from store.directory import SqlDirectory, directory_produced_at
from store.errors import DatabaseUnavailable
from store.health import ping
from store.migrate import open_existing
from store.routing import StoreCatalogueSource
from store.session import UnitOfWork, make_engine, make_session_factory, transaction
from usecases import create_draft as drafting
from usecases import receive_message as receiving
from usecases import store_log as storing
from usecases.certificate_list import CertificateListDeps, RecentlyListed
from usecases.create_draft import CreateDraftDeps
from usecases.directory_cache import CachedDirectory
from usecases.lifecycle import LifecycleDeps
from usecases.operations_metrics import CachedFigures
from usecases.outbox import OutboxOperations
from usecases.pdl_log import PdlLog, PdlSigning
from usecases.routing_operations import RoutingOperations
from usecases.store_log import StoreLogDeps
from usecases.type_registry import ReloadingRegistry

log = structlog.get_logger("cli.wiring")


def utc_now() -> datetime:
    return datetime.now(UTC)


def routing_today() -> date:
    """The calendar date routes and access rights are judged by: TAK's dates are Swedish dates."""
    return swedish_date(datetime.now(UTC))


def routing_readiness(provider: CatalogueProvider) -> tuple[bool, dict[str, Any]]:
    """Whether a routing catalogue is loaded, and its version, age and size, for ``/readyz``.

    Not ready only when no snapshot was ever loaded (the platform's VP008); a failed reload keeps the
    last good snapshot, is still ready, and reports the error.
    """
    try:
        catalogue = provider.current()
    except CatalogueUnavailable as error:
        return False, {"version": None, "error": str(error)}
    report: dict[str, Any] = {"version": catalogue.version, "routes": catalogue.route_count,
                              "rights": catalogue.right_count, "loadedAt": catalogue.built_at.isoformat()}
    if isinstance(provider, RefreshingProvider):
        status = provider.status()
        report["error"] = status.error
        report["publishedAt"] = status.published_at.isoformat() if status.published_at else None
        report["ageSeconds"] = int((utc_now() - status.published_at).total_seconds()) if status.published_at else None
    return True, report


def routing_figures(provider: CatalogueProvider) -> RoutingFigures:
    """The catalogue version this process routes by and when it was published, for ``/metrics``."""
    try:
        version: int | None = provider.current().version
    except CatalogueUnavailable:
        version = None
    published = provider.status().published_at if isinstance(provider, RefreshingProvider) else None
    return RoutingFigures(version, published)


def catalogue_provider(settings: Settings, uow: UnitOfWork) -> RefreshingProvider:
    """This process's routing catalogue snapshot, reloaded from the database when a new version is published."""
    return RefreshingProvider(StoreCatalogueSource(uow), utc_now, settings.routing_check_seconds)


def _parse_types(content: bytes) -> CertificateTypeRegistry:
    return from_mapping(tomllib.loads(content.decode("utf-8")))


def load_certificate_types(settings: Settings) -> CertificateTypeRegistry:
    """The built-in registry, or the one in ``certificate_types_file`` as it is now."""
    if not settings.certificate_types_file:
        return load_default_registry()
    return _parse_types(Path(settings.certificate_types_file).read_bytes())


def certificate_types(settings: Settings) -> CertificateTypes:
    """The registry a process serves with: ``certificate_types_file`` re-read when it changes
    (``usecases.type_registry``), or the built-in one (which changes only with a release)."""
    if not settings.certificate_types_file or settings.certificate_types_check_seconds <= 0:
        return load_certificate_types(settings)
    path = Path(settings.certificate_types_file)
    return ReloadingRegistry(path.read_bytes, _parse_types, time.monotonic,
                             settings.certificate_types_check_seconds, str(path))


def load_recipients(settings: Settings) -> RecipientRegistry:
    """The built-in recipient registry, or the one in ``recipients_file``; a file that cannot be read
    or is malformed is a ``SettingsError`` (it stops the start: sends would go nowhere or astray)."""
    if not settings.recipients_file:
        return load_default_recipients()
    try:
        return recipients_from_mapping(tomllib.loads(Path(settings.recipients_file).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecipientConfigError) as broken:
        raise SettingsError("recipients_file", value=settings.recipients_file, reason=str(broken)) from broken


def onward_config(settings: Settings) -> OnwardConfig:
    """Where onward calls go: ``onward_target``, ``archive_logical_address`` and the recipients."""
    return OnwardConfig(OnwardTarget(settings.onward_target), settings.archive_logical_address,
                        load_recipients(settings))


def store_log_deps(transaction: UnitOfWork, settings: Settings) -> StoreLogDeps:
    """StoreLog with the limits from the settings and one group committer for this process."""
    limits = StoreLogLimits(
        max_entries=settings.storelog_max_entries,
        clock_skew=timedelta(seconds=settings.storelog_clock_skew_seconds),
    )
    return StoreLogDeps(transaction, utc_now, limits, storing.group_commit(transaction))


def receive_message_deps(transaction: UnitOfWork) -> receiving.ReceiveMessageDeps:
    """SendMessageToCare with one group committer for this process."""
    return receiving.ReceiveMessageDeps(transaction, utc_now, receiving.group_commit(transaction, utc_now))


def pdl_signing(settings: Settings) -> PdlSigning | None:
    """Checkpoint signing with ``pdl_signing_key`` (None when unset), writing ``pdl_checkpoint_file`` too.

    A key file others may read stops the start (``KeyFileError``): whoever reads it can sign a
    rewritten log.
    """
    if not settings.pdl_signing_key:
        return None
    signer = Ed25519Signer.from_file(settings.pdl_signing_key)
    return PdlSigning(signer, settings.pdl_checkpoint_seconds, utc_now,
                      partial(append_checkpoint, Path(settings.pdl_checkpoint_file)))


UNSIGNED_WARNING = ("PDL LOG NOT SIGNED: without pdl_signing_key anyone with write access to the database can "
                    "rewrite the log undetected")  # fmt: skip


def pdl_signing_report(settings: Settings) -> dict[str, Any]:
    """What ``/readyz`` shows about the PDL log's signing; an unsigned log is logged as a warning here (at start)."""
    if not settings.pdl_signing_key:
        log.warning("pdl_log_unsigned", warning=UNSIGNED_WARNING, fix="intygsgateway pdl keygen; set pdl_signing_key")
        return {"signed": False, "warning": UNSIGNED_WARNING}
    return {"signed": True, "checkpointSeconds": settings.pdl_checkpoint_seconds,
            "checkpointFile": settings.pdl_checkpoint_file}


def pdl_keys(settings: Settings) -> PublicKeys | None:
    """The public keys the gateway's own verification accepts: the signing key's and ``pdl_public_keys``.

    None when neither is set: the log is then checked as a hash chain only.
    """
    specs = ([settings.pdl_signing_key] if settings.pdl_signing_key else []) + list(settings.pdl_public_keys)
    return PublicKeys([public_key_from_spec(spec) for spec in specs]) if specs else None


def start_pdl_sealer(settings: Settings, transaction: UnitOfWork) -> Callable[[], None]:
    """Start this process's PDL sealer (unless ``pdl_seal_seconds`` is 0); return what stops it."""
    if settings.pdl_seal_seconds <= 0:
        return lambda: None
    sealer = PdlSealer(transaction, settings.pdl_seal_seconds, pdl_signing(settings))
    sealer.start()
    return sealer.stop


def _certificate_report(certificates: Mapping[str, Expiry]) -> dict[str, Any]:
    return certificate_report(certificates, utc_now())


def gateway_deps(
    settings: Settings, directory: Directory | None = None, catalogue: CatalogueProvider | None = None
) -> GatewayDeps:
    """Everything the gateway needs, for one process (call it after forking: it opens a pool).

    ``directory`` replaces the embedded HSA/PU store, for a deployment with another directory;
    ``catalogue`` the routing catalogue the callers' access rights are checked in.
    """
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    catalogue = catalogue or catalogue_provider(settings, UnitOfWork(factory))
    directory = directory or SqlDirectory(factory)
    if settings.directory_cache_seconds > 0:
        directory = CachedDirectory(directory, settings.directory_cache_seconds, utc_now)
    drafts = UnitOfWork(factory)
    create_deps = CreateDraftDeps(
        transaction=drafts,
        directory=directory,
        registry=certificate_types(settings),
        system=SystemIdentity(settings.system_hsa_id, settings.system_name),
        clock=utc_now,
        validation_persons=frozenset(settings.validation_persons),
        on_unit_registered=IntegrationWatch(catalogue, STATUS_UPDATE_V3, routing_today).unit_seen,
        group=drafting.group_commit(drafts),
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
        routing_ready, routing = routing_readiness(catalogue)
        return Readiness(routing_ready, {"database": "ok", "directory": directory, "routing": routing,
                                         "pdlLog": pdl_report})

    stop_sealer = start_pdl_sealer(settings, UnitOfWork(factory))
    pdl_report = pdl_signing_report(settings)
    soap_metrics = SoapMetrics()
    certificates = own_certificates(settings)
    exposition = MetricsExposition([soap_metrics.registry], ScrapeSources(
        database=CachedFigures(UnitOfWork(factory), settings.metrics_worst_units, settings.metrics_cache_seconds,
                               time.monotonic),
        routing=partial(routing_figures, catalogue),
        certificates=lambda: {role: expiry.not_after for role, expiry in certificates.items()},
        clock=utc_now,
    ))  # fmt: skip
    outbox = OutboxOperations(create_deps.transaction, create_deps.clock)
    pdl_log = PdlLog(create_deps.transaction, pdl_keys(settings))
    internal_api = operations_api(settings, create_deps, outbox, pdl_log)
    console = Console(ConsoleDeps(
        api=internal_api, outbox=outbox, pdl=pdl_log, status_contract=STATUS_UPDATE_V3,
        routing=RoutingOperations(UnitOfWork(factory), catalogue, STATUS_UPDATE_V3, routing_today,
                                  settings.allow_plain_http_routes),
    ))  # fmt: skip

    def close() -> None:
        stop_sealer()
        engine.dispose()

    return GatewayDeps(
        create_draft=create_deps,
        receive_message=receive_message_deps(UnitOfWork(factory)),
        store_log=store_log_deps(UnitOfWork(factory), settings),
        list_certificates=CertificateListDeps(UnitOfWork(factory), create_deps.system, utc_now, create_deps.registry,
                                              RecentlyListed(settings.list_cache_certificates)),
        readiness=readiness,
        max_request_bytes=settings.max_request_bytes,
        oversize_drain=DrainLimits(settings.oversize_drain_bytes, settings.oversize_drain_seconds),
        close=close,
        access=access_control(settings, catalogue, routing_today),
        certificates=partial(_certificate_report, certificates),
        internal_api=internal_api,
        console=console,
        soap_metrics=soap_metrics,
        metrics=exposition,
        metrics_port=settings.metrics_port,
    )


def lifecycle_deps(settings: Settings) -> tuple[LifecycleDeps, Callable[[], None]]:
    """The certificate operations on the embedded directory, for one command, and how to close them."""
    engine = open_existing(settings.database_url)
    factory = make_session_factory(engine)
    deps = LifecycleDeps(
        transaction=UnitOfWork(factory),
        directory=SqlDirectory(factory),
        registry=certificate_types(settings),
        system=SystemIdentity(settings.system_hsa_id, settings.system_name),
        clock=utc_now,
        draft_lock_days=settings.draft_lock_days,
        onward=onward_config(settings),
    )
    return deps, engine.dispose


def operations_api(settings: Settings, create_deps: CreateDraftDeps, outbox: OutboxOperations,
                   pdl_log: PdlLog) -> InternalApi:
    """The operations API (``gateway.internal_api``) with every module's routes in one table.

    It reuses the draft use case's transaction, directory, registry, PDL identity and clock, so an
    operation sees the same directory cache as CreateDraftCertificate; the outbox and PDL tasks are
    the console's too.
    """
    lifecycle_deps = LifecycleDeps(
        transaction=create_deps.transaction,
        directory=create_deps.directory,
        registry=create_deps.registry,
        system=create_deps.system,
        clock=create_deps.clock,
        draft_lock_days=settings.draft_lock_days,
        onward=onward_config(settings),
    )
    return InternalApi(
        [
            *certificate_routes(lifecycle_deps),
            *pdl_routes(pdl_log),
            *outbox_routes(outbox),
        ],
        credentials=api_credentials(settings),
        allow_remote=settings.internal_api_remote,
    )


def api_credentials(settings: Settings) -> Credentials:
    """The operations API's authenticators: service tokens, OIDC user tokens, and the development token.

    A file that cannot be read or holds a bad entry stops the start (``SettingsError``). The
    development token is for local work only: it is logged as a warning at start and shown on
    ``/readyz``.
    """
    authenticators: list[Authenticator] = []
    if settings.internal_api_service_tokens:
        try:
            authenticators.append(ServiceTokens.from_file(settings.internal_api_service_tokens))
        except (OSError, ValueError) as error:
            raise SettingsError("internal_api_service_tokens", value=settings.internal_api_service_tokens,
                                reason=str(error)) from error
    if settings.internal_api_oidc_issuer or settings.internal_api_oidc_jwks:
        try:
            authenticators.append(OidcTokens(
                settings.internal_api_oidc_issuer, settings.internal_api_oidc_audience,
                JwksSource(settings.internal_api_oidc_jwks), settings.internal_api_oidc_algorithms,
                settings.internal_api_oidc_hsa_claim,
            ))  # fmt: skip
        except (OSError, ValueError) as error:
            raise SettingsError("internal_api_oidc_jwks", value=settings.internal_api_oidc_jwks,
                                reason=str(error)) from error
    if settings.internal_api_token:
        authenticators.append(DevelopmentToken(settings.internal_api_token))
    return Credentials(authenticators)
