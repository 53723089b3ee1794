"""Settings: defaults, then an optional TOML file, then ``INTYGSGATEWAY_<SETTING>`` variables.

This is the only module that reads the environment. Command-line flags (``--db``, ``--host`` …) are
applied last by the commands themselves through ``Settings.replace``. Every setting is documented in
the README's settings table; ``SETTINGS_HELP`` below is that table's source, and a test keeps the two
in step.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "INTYGSGATEWAY_"


class SettingsError(Exception):
    """Raised for an unknown setting or a value of the wrong type, naming the setting and its source."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of the gateway with its default."""

    database_url: str = "sqlite:///intygsgateway.db"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 0  # 0 = one per core
    threads: int = 4
    max_request_bytes: int = 2 * 1024 * 1024
    system_hsa_id: str = "SE0000000000-INTYGSGATEWAY"
    system_name: str = "Intygsgateway"
    validation_persons: tuple[str, ...] = ()
    certificate_types_file: str = ""
    directory_cache_seconds: int = 60
    log_level: str = "info"
    log_format: str = "json"
    storelog_max_entries: int = 1000
    storelog_clock_skew_seconds: int = 300
    pdl_retention_years: int = 10
    pdl_export_dir: str = "pdl-archive"
    pdl_seal_seconds: float = 1.0
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: tuple[str, ...] = ()
    tls_require_client_cert: bool = False
    access_control: str = "auto"
    trusted_proxies: tuple[str, ...] = ()
    proxy_cert_header: str = "x-vp-auth-cert"
    producer_addresses: tuple[str, ...] = ()
    client_cert: str = ""
    client_key: str = ""
    client_ca: str = ""
    resend_schedule: str = "1m,5m,30m,1h,2h,6h,12h,1d*"
    resend_address_schedule: str = "1h,6h,1d*"
    resend_max_age: str = "30d"
    resend_poll_seconds: float = 1.0
    resend_hold_seconds: int = 0
    resend_lease_seconds: int = 60
    resend_connect_timeout_seconds: float = 3.0
    resend_read_timeout_seconds: float = 20.0
    resend_threads: int = 4
    resend_batch_size: int = 50
    routing_max_shrink: float = 0.2
    routing_keep_versions: int = 20
    routing_check_seconds: float = 1.0
    internal_api_token: str = ""
    internal_api_remote: bool = False

    def replace(self, **changes: Any) -> Settings:
        """A copy with the given settings changed; ``None`` values are ignored (flag not given)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


SETTINGS_HELP: Mapping[str, str] = {
    "database_url": "SQLAlchemy URL of the database: sqlite:///FILE or postgresql+psycopg://USER@HOST/DB",
    "host": "address `serve` listens on; keep 127.0.0.1 unless a proxy in front needs otherwise",
    "port": "port `serve` listens on",
    "workers": "worker processes for `serve`; 0 means one per CPU core",
    "threads": "threads per worker process for `serve` (keep-alive); 1 runs classic one-request-at-a-time workers",
    "max_request_bytes": "largest SOAP request accepted; larger ones get ERROR/VALIDATION_ERROR unread",
    "system_hsa_id": "the gateway's own HSA-id: `system` of the PDL records it writes",
    "system_name": "the gateway's name in its own PDL records",
    "validation_persons": "personnummer of validation persons (comma-separated in the environment): their drafts become test certificates",
    "certificate_types_file": "TOML file replacing the built-in certificate type registry (see docs/certificate-types.md)",
    "directory_cache_seconds": "how long directory (HSA/PU) answers are reused; 0 turns the cache off",
    "log_level": "debug, info, warning or error",
    "log_format": "json (one JSON object per line) or console (for a terminal)",
    "storelog_max_entries": "most log entries accepted in one StoreLog call; more answers VALIDATION_ERROR",
    "storelog_clock_skew_seconds": "how far a StoreLog startDate may lie ahead of the gateway's clock before it is refused",
    "pdl_retention_years": "PDL records older than this many years are exported and purged by the retention job",
    "pdl_export_dir": "folder where the PDL retention job writes its exports (created if missing)",
    "pdl_seal_seconds": "how often each gateway and worker process seals committed PDL records into the hash chain (seconds, fractions allowed); 0 = no sealer in this process",
    "tls_cert": "PEM server certificate (with its chain) for `serve` to terminate TLS itself; empty = plain HTTP",
    "tls_key": "PEM private key of tls_cert",
    "tls_client_ca": "PEM files of the CAs whose client certificates are accepted (mutual TLS); several files or bundles for several roots",
    "tls_require_client_cert": "refuse a TLS handshake without a client certificate (otherwise the call gets a VP002 fault)",
    "access_control": "auto, on or off: check each caller's access right in the routing catalogue; auto = on when tls_client_ca or trusted_proxies is set",
    "trusted_proxies": "addresses or networks of TLS-terminating proxies whose client-certificate header is believed",
    "proxy_cert_header": "header in which a trusted proxy forwards the client certificate (PEM, URL-encoded PEM or base64 DER)",
    "producer_addresses": "the gateway's own logical addresses (HSA-ids) in the routing catalogue; a request without LogicalAddress is checked against the first; empty = system_hsa_id",
    "client_cert": "PEM client certificate (with chain) the gateway presents on outbound calls; its days left are reported",
    "client_key": "PEM private key of client_cert",
    "client_ca": "PEM bundle of the CAs that outbound calls trust for the producers' server certificates",
    "resend_schedule": "delays between tries of a status update after technical errors (compact form, last item with * repeats)",
    "resend_address_schedule": "delays between tries when no route or access right exists (VP004/VP007 or our own routing table)",
    "resend_max_age": "how long after the event (or a manual resend) a status update is retried before it is failed, e.g. 30d",
    "resend_poll_seconds": "how often the outbox workers look for due status updates (seconds, fractions allowed)",
    "resend_hold_seconds": "wait this long after an event before its first send, so that bursts of edits collapse; 0 = off",
    "resend_lease_seconds": "how long a worker's claim on an event lasts; a crashed worker's events are sent again after it",
    "resend_connect_timeout_seconds": "connect timeout of a status-update call (a route's own timeout wins)",
    "resend_read_timeout_seconds": "read timeout of a status-update call; connect + read must stay below the lease",
    "resend_threads": "sender threads per outbox worker process",
    "resend_batch_size": "events one sender thread claims at a time",
    "routing_max_shrink": "largest share of routes and access rights a `routing import` may remove without --force (0.2 = a fifth); an import that would empty the catalogue always needs --force",
    "routing_keep_versions": "how many recent routing catalogue versions keep their full snapshot for `routing rollback`",
    "routing_check_seconds": "how often each process checks for a new routing catalogue version (one indexed query)",
    "internal_api_token": "bearer token of the operations API under /internal/api/v1/; empty = the API answers 404 everywhere",
    "internal_api_remote": "let non-loopback clients reach the operations API (it still needs the token); false = loopback only",
}


def _coerce(name: str, value: Any, default: Any, source: str) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
            return value.lower() in ("1", "true", "yes")
    elif isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            pass
    elif isinstance(default, float):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    elif isinstance(default, tuple):
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
    elif isinstance(value, str):
        return value
    raise SettingsError(f"setting {name} from {source}: {value!r} is not a valid {type(default).__name__}")


def load_settings(config_file: str | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from defaults, the TOML file (if given) and the environment."""
    environ = os.environ if environ is None else environ
    defaults = Settings()
    values: dict[str, Any] = {}
    known = {f.name for f in fields(Settings)}
    if config_file:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read config file {path}: {exc}") from exc
        for key, value in data.items():
            if key not in known:
                raise SettingsError(f"unknown setting {key!r} in {path}")
            values[key] = _coerce(key, value, getattr(defaults, key), str(path))
    for key in known:
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ:
            values[key] = _coerce(key, environ[env_name], getattr(defaults, key), env_name)
    return dataclasses.replace(defaults, **values)
