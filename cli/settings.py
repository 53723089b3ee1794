"""Settings: defaults, then an optional TOML file, then ``INTYGSGATEWAY_<SETTING>`` variables, then flags.

This is the only module that reads the environment. Command-line flags (``--db``, ``--port`` …) are
applied last through ``Settings.replace``. Every setting declares its type, default and what it
accepts (a ``Kind`` from ``cli.setting_kinds``) on its own line below, and every value, wherever it
comes from, is checked against that: a wrong type, a value out of range, an unknown choice or an
unknown key in the file stops start-up with a ``SettingsError`` naming the setting, its source
(``file /etc/gw.toml``, ``environment INTYGSGATEWAY_PORT``, ``flag --port``), the value received and
what is accepted; the CLI turns it into exit status 2. Nothing is coerced: ``port = 8080.9`` is not
8080 and ``threads = true`` is not 1.

The README's settings table is the only documentation of the settings; a test checks that it has
one row per setting, in this order, with this default and this ``accepted`` text.

pydantic-settings was considered and not used: its ``ValidationError`` names the field but not the
source a value came from (file, variable or flag), which is what an operator needs, and getting that
would mean validating each source separately around it, for the cost of pydantic and pydantic-core
at every start to check a flat table of a few dozen values of six kinds.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from cli.logs import LOG_FORMATS, LOG_LEVELS
from cli.setting_kinds import (
    DATABASE_URL,
    DURATION,
    FILE_OR_EMPTY,
    HEADER_NAME,
    NETWORKS,
    SCHEDULE,
    Boolean,
    Choice,
    Integer,
    Kind,
    Number,
    Refused,
    Text,
    TextList,
)

ENV_PREFIX = "INTYGSGATEWAY_"
ACCESS_CONTROL_MODES = ("auto", "on", "off")
ONWARD_TARGETS = ("recipient", "archive")
#: The source named for values given to ``Settings(...)`` directly, by code or tests.
CODE_SOURCE = "Settings()"
UNKNOWN_SETTING = "a setting listed in the README's settings table"
HIDDEN = "<hidden>"

T = TypeVar("T")


class SettingsError(Exception):
    """Raised when a setting cannot be used; ``cli.main`` prints it on one line and exits with 2.

    The fields say what went wrong, so that no caller has to read the message:
    ``setting`` (None when a whole file is at fault), ``source`` (``file PATH``, ``environment NAME``,
    ``flag --NAME`` or ``Settings()``; None for a check across settings made after loading),
    ``value`` as received (``<hidden>`` for secrets and personnummer), ``accepted`` (what would have
    been accepted), ``reason`` (set when the problem is not a refused value: an unknown key, a file
    that is not TOML, two settings that contradict each other) and ``suggestion`` (the closest known
    setting to an unknown key).
    """

    def __init__(
        self,
        setting: str | None,
        *,
        source: str | None = None,
        value: object = None,
        accepted: str | None = None,
        reason: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.setting = setting
        self.source = source
        self.value = value
        self.accepted = accepted
        self.reason = reason
        self.suggestion = suggestion
        super().__init__(self._text())

    def _text(self) -> str:
        where = " from ".join(part for part in (self.setting, self.source) if part)
        if self.reason is not None:
            said = self.reason
        else:
            said = f"{_shown(self.value)} is not {self.accepted}"
        if self.suggestion:
            said += f"; did you mean {self.suggestion}?"
        return f"{where}: {said}" if where else said


def _shown(value: object) -> str:
    """A value as the file would spell it (``true``, ``"jsno"``, ``[1, 2]``), on one line."""
    if value == HIDDEN:
        return HIDDEN
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    if isinstance(value, dict):
        return "a table"
    return str(value)


def setting(default: T, kind: Kind[T], *, secret: bool = False) -> T:
    """A field of ``Settings``: its default, its ``Kind`` and whether its value may be shown.

    A secret (a token, personnummer) is left out of ``repr`` and of error messages.
    """
    return field(default=default, repr=not secret, metadata={"kind": kind, "secret": secret})


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of the gateway with its default and what it accepts; valid once constructed."""

    database_url: str = setting("sqlite:///intygsgateway.db", DATABASE_URL)
    host: str = setting("127.0.0.1", Text(required=True))
    port: int = setting(8080, Integer(1, 65535))
    workers: int = setting(0, Integer(0))  # 0 = one per core
    threads: int = setting(4, Integer(1))  # 1 = gunicorn's sync worker
    max_request_bytes: int = setting(2 * 1024 * 1024, Integer(1))
    http_header_timeout_seconds: float = setting(10.0, Number(0, above=True))
    http_body_timeout_seconds: float = setting(30.0, Number(0, above=True))
    http_send_timeout_seconds: float = setting(30.0, Number(0, above=True))
    http_keepalive_seconds: float = setting(15.0, Number(0))
    http_max_connections: int = setting(1000, Integer(1))
    tls_handshake_timeout_seconds: float = setting(10.0, Number(0, above=True))
    oversize_drain_bytes: int = setting(64 * 1024 * 1024, Integer(0))
    oversize_drain_seconds: float = setting(10.0, Number(0))
    system_hsa_id: str = setting("SE0000000000-INTYGSGATEWAY", Text(required=True))
    system_name: str = setting("Intygsgateway", Text(required=True))
    validation_persons: tuple[str, ...] = setting((), TextList("personnummer"), secret=True)
    certificate_types_file: str = setting("", FILE_OR_EMPTY)
    certificate_types_check_seconds: float = setting(5.0, Number(0))
    draft_lock_days: int = setting(14, Integer(0))  # 0 = drafts never lock
    onward_target: str = setting("recipient", Choice(ONWARD_TARGETS))
    archive_logical_address: str = setting("5565594230", Text(required=True, description="a logical address"))
    recipients_file: str = setting("", FILE_OR_EMPTY)
    directory_cache_seconds: int = setting(60, Integer(0))
    list_cache_certificates: int = setting(1000, Integer(0))  # 0 = every list reads and writes everything anew
    log_level: str = setting("info", Choice(LOG_LEVELS))
    log_format: str = setting("json", Choice(LOG_FORMATS))
    metrics_port: int = setting(0, Integer(0, 65535))  # 0 = /metrics on the main port, behind credentials
    metrics_dir: str = setting("", Text(description="a folder path, or empty"))
    metrics_cache_seconds: float = setting(5.0, Number(0))
    metrics_worst_units: int = setting(10, Integer(0))
    worker_metrics_port: int = setting(0, Integer(0, 65535))
    storelog_max_entries: int = setting(1000, Integer(1))
    storelog_clock_skew_seconds: int = setting(300, Integer(0))
    pdl_retention_years: int = setting(10, Integer(1))
    pdl_export_dir: str = setting("pdl-archive", Text(required=True, description="a folder path"))
    pdl_seal_seconds: float = setting(1.0, Number(0))
    pdl_signing_key: str = setting("", FILE_OR_EMPTY)
    pdl_public_keys: tuple[str, ...] = setting((), TextList("key files, each FILE or FILE@FROM/UNTIL"))
    pdl_checkpoint_seconds: float = setting(10.0, Number(0, above=True))
    pdl_checkpoint_file: str = setting("pdl-checkpoints.jsonl", Text(required=True, description="a file path"))
    pdl_purge_database_url: str = setting("", Text(description="a database URL, or empty"), secret=True)
    tls_cert: str = setting("", FILE_OR_EMPTY)
    tls_key: str = setting("", FILE_OR_EMPTY)
    tls_client_ca: tuple[str, ...] = setting((), TextList("file paths"))
    tls_require_client_cert: bool = setting(False, Boolean())
    tls_crl_file: tuple[str, ...] = setting((), TextList("file paths"))
    access_control: str = setting("auto", Choice(ACCESS_CONTROL_MODES))
    trusted_proxies: tuple[str, ...] = setting((), NETWORKS)
    proxy_cert_header: str = setting("x-vp-auth-cert", HEADER_NAME)
    producer_addresses: tuple[str, ...] = setting((), TextList("HSA-ids"))
    client_cert: str = setting("", FILE_OR_EMPTY)
    client_key: str = setting("", FILE_OR_EMPTY)
    client_ca: str = setting("", FILE_OR_EMPTY)
    resend_schedule: str = setting("1m,5m,30m,1h,2h,6h,12h,1d*", SCHEDULE)
    resend_address_schedule: str = setting("1h,6h,1d*", SCHEDULE)
    resend_max_age: str = setting("30d", DURATION)
    resend_poll_seconds: float = setting(1.0, Number(0, above=True))
    resend_hold_seconds: int = setting(0, Integer(0))
    resend_lease_seconds: int = setting(60, Integer(1))
    resend_connect_timeout_seconds: float = setting(3.0, Number(0, above=True))
    resend_read_timeout_seconds: float = setting(20.0, Number(0, above=True))
    resend_threads: int = setting(8, Integer(1))
    resend_batch_size: int = setting(50, Integer(1))
    resend_journal_concurrency: int = setting(4, Integer(1))
    resend_max_claims: int = setting(5, Integer(1))
    routing_max_shrink: float = setting(0.2, Number(0, 1))
    routing_keep_versions: int = setting(20, Integer(1))
    routing_check_seconds: float = setting(1.0, Number(0))
    allow_plain_http_routes: bool = setting(False, Boolean())
    internal_api_token: str = setting("", Text(), secret=True)
    internal_api_remote: bool = setting(False, Boolean())
    internal_api_service_tokens: str = setting("", FILE_OR_EMPTY)
    internal_api_oidc_issuer: str = setting("", Text())
    internal_api_oidc_audience: str = setting("", Text())
    internal_api_oidc_jwks: str = setting("", Text(description="a JWKS file path or https:// URL, or empty"))
    internal_api_oidc_algorithms: tuple[str, ...] = setting(("RS256", "ES256"), TextList("JWS algorithm names"))
    internal_api_oidc_hsa_claim: str = setting("hsa_id", Text(required=True, description="a claim name"))

    def __post_init__(self) -> None:
        """Check (and normalise: ``0`` to ``0.0``, ``"ON"`` to ``"on"``) values given directly in code."""
        for spec in SPECS:
            checked = _checked(spec, getattr(self, spec.name), CODE_SOURCE, text=False)
            object.__setattr__(self, spec.name, checked)

    def replace(self, flag_names: Mapping[str, str] | None = None, /, **changes: Any) -> Settings:
        """A copy with command-line values applied; ``None`` values are ignored (flag not given).

        Each value is checked by its setting's rule and a refused one is reported as coming from
        ``flag --<setting with dashes>``, or from the flag ``flag_names`` gives for a setting a
        command spells otherwise (``--db`` for ``database_url``).
        """
        values: dict[str, Any] = {}
        for name, raw in changes.items():
            if raw is None:
                continue
            spec = SPECS_BY_NAME.get(name)
            if spec is None:
                raise TypeError(f"Settings has no setting {name!r}")  # a programming error, not the operator's
            flag = (flag_names or {}).get(name) or "--" + name.replace("_", "-")
            values[name] = _checked(spec, raw, f"flag {flag}", text=False)
        return dataclasses.replace(self, **values)


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting as the loader sees it: its name, environment variable, kind and secrecy."""

    name: str
    env_name: str
    kind: Kind[Any]
    secret: bool
    default: Any


SPECS: tuple[SettingSpec, ...] = tuple(
    SettingSpec(f.name, ENV_PREFIX + f.name.upper(), f.metadata["kind"], f.metadata["secret"], f.default)
    for f in fields(Settings)
)
SPECS_BY_NAME: Mapping[str, SettingSpec] = {spec.name: spec for spec in SPECS}


def _checked(spec: SettingSpec, raw: object, source: str, *, text: bool) -> Any:
    """``raw`` as the setting's typed value, or a ``SettingsError`` naming setting, source and rule.

    ``text`` says the value is environment text (``"8080"``, ``"yes"``, ``"a,b"``) rather than a
    typed TOML or Python value, where ``8080.9`` and ``True`` are never integers.
    """
    try:
        return spec.kind.from_text(raw) if isinstance(raw, str) and text else spec.kind.from_value(raw)
    except Refused:
        accepted = spec.kind.accepted_as_text if text else spec.kind.accepted
        raise SettingsError(spec.name, source=source, value=HIDDEN if spec.secret else raw, accepted=accepted) from None


def _file_values(path: Path) -> dict[str, Any]:
    """The settings in a TOML file, each checked; an unknown key is refused with the closest match."""
    source = f"file {path}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(None, source=source, reason=f"cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(None, source=source, reason=f"is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:  # its text ends with "(at line N, column M)"
        raise SettingsError(None, source=source, accepted="a TOML document", reason=f"not valid TOML: {exc}") from exc
    values: dict[str, Any] = {}
    for key, raw in data.items():
        spec = SPECS_BY_NAME.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, list(SPECS_BY_NAME), n=1)
            raise SettingsError(key, source=source, accepted=UNKNOWN_SETTING, reason="unknown setting",
                                suggestion=close[0] if close else None)
        values[key] = _checked(spec, raw, source, text=False)
    return values


def load_settings(config_file: str | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from defaults, the TOML file (if given) and the environment, checking each value."""
    environ = os.environ if environ is None else environ
    values = _file_values(Path(config_file)) if config_file else {}
    for spec in SPECS:
        if spec.env_name in environ:
            values[spec.name] = _checked(spec, environ[spec.env_name], f"environment {spec.env_name}", text=True)
    return Settings(**values)
