"""Whether access control is on, and the ``AccessControl`` the gateway checks callers with.

``access_control = auto`` (the default) is on as soon as the gateway can identify callers (mutual TLS
with ``tls_client_ca``, or ``trusted_proxies``), and off otherwise, so that ``serve --demo`` works on
plain HTTP. Off is for local development only: ``serve`` logs it as a warning at start and
``/readyz`` shows it. ``on`` without any way to identify a caller would refuse every call, so it is a
configuration error instead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import date

import structlog

from cli.settings import Settings, SettingsError
from gateway.access import ACCESS_CONTROL_OFF, AccessControl
from gateway.identity import CallerPolicy, CertificateTrust, Revocations, parse_networks
from routing.provider import CatalogueProvider

log = structlog.get_logger("cli.access")


def access_enabled(settings: Settings) -> bool:
    """Resolve ``access_control`` (auto, on, off; ``Settings`` accepts nothing else) against the identity sources.

    ``auto`` without any way to identify callers is off only on a loopback address (local development);
    on any other address it refuses to start, so that a gateway is never opened to a network by a
    missing setting: ``access_control = off`` must then be said explicitly.
    """
    mode = settings.access_control
    can_identify = bool(settings.tls_client_ca or settings.trusted_proxies)
    if mode == "on" and not can_identify:
        raise SettingsError("access_control", value=mode,
                            reason="on needs tls_client_ca or trusted_proxies: no caller could be identified")
    if mode == "auto" and not can_identify and not is_loopback_host(settings.host):
        raise SettingsError("access_control", value=mode,
                            reason=f"auto on the non-loopback address {settings.host} without tls_client_ca or "
                                   "trusted_proxies would let anyone call every contract: set one of them, or "
                                   "access_control = off explicitly")  # fmt: skip
    return mode == "on" or (mode == "auto" and can_identify)


def is_loopback_host(host: str) -> bool:
    """Whether listening on ``host`` reaches this machine only (``0.0.0.0`` and ``::`` reach every network)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def caller_policy(settings: Settings) -> CallerPolicy:
    """The trusted proxies, their certificate header, the CAs forwarded certificates must chain to, the CRLs."""
    try:
        proxies = parse_networks(settings.trusted_proxies)
    except ValueError as exc:
        raise SettingsError("trusted_proxies", value=settings.trusted_proxies, reason=str(exc)) from exc
    if proxies and not settings.tls_client_ca:
        raise SettingsError("trusted_proxies", value=settings.trusted_proxies,
                            reason="needs tls_client_ca: a forwarded certificate is believed only when it was "
                                   "issued by a trusted CA")  # fmt: skip
    try:
        trust = CertificateTrust.from_files(settings.tls_client_ca) if settings.tls_client_ca else None
    except (OSError, ValueError) as exc:
        raise SettingsError("tls_client_ca", value=settings.tls_client_ca, reason=str(exc)) from exc
    try:
        revocations = Revocations(settings.tls_crl_file) if settings.tls_crl_file else None
    except (OSError, ValueError) as exc:
        raise SettingsError("tls_crl_file", value=settings.tls_crl_file, reason=f"not a readable CRL: {exc}") from exc
    return CallerPolicy(proxies, settings.proxy_cert_header, trust, revocations)


def access_control(
    settings: Settings, catalogue: CatalogueProvider, today: Callable[[], date]
) -> AccessControl | None:
    """The gateway's access control, or None when it is off."""
    if not access_enabled(settings):
        return None
    return AccessControl(
        catalogue=catalogue,
        callers=caller_policy(settings),
        producer_addresses=settings.producer_addresses or (settings.system_hsa_id,),
        today=today,
        instance=settings.system_name,
    )


def log_access_control(settings: Settings) -> None:
    """Say at start whether callers are checked, loudly when they are not; a bad setting raises here.

    ``serve`` calls this before forking, so a typo stops it with exit code 2 instead of in each worker.
    """
    if access_enabled(settings):
        proxies = caller_policy(settings).proxies
        log.info("access_control_on", trusted_proxies=[str(network) for network in proxies],
                 mutual_tls=bool(settings.tls_client_ca),
                 producer_addresses=list(settings.producer_addresses or (settings.system_hsa_id,)))
    else:
        log.warning("access_control_off", warning=ACCESS_CONTROL_OFF["warning"],
                    fix="set tls_client_ca (mutual TLS) or trusted_proxies, see docs/tls.md")
