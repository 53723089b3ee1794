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
