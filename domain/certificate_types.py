"""The certificate types the gateway can create drafts for: a registry loaded from data, not code.

Which types exist, who may create them and for which patients changes with every agreement with a
recipient, so it lives in ``certificate_types.toml`` (shipped next to this module) and a deployment
may supply its own file with the same shape. Webcert spreads the same facts over feature toggles,
privilege YAML and module code; here adding a type is adding a table to the file.

The file is checked when it is loaded, and every mistake is reported with the type it concerns:
an unknown role name or code system, an empty list, a misspelt or missing key, a version written as
a number. Nothing has a silent default, so a typo cannot quietly widen who may create a type.

File shape::

    [code_systems]                 # names used below -> the codeSystem value on the wire
    KV_INTYGSTYP = "b64ea353-e8f6-4832-b563-fc7d46f29548"

    [certificate_types.LISJP]      # the key is the code, compared case-sensitively as on the wire
    code_systems = ["KV_INTYGSTYP"]
    name = "Läkarintyg för sjukpenning"
    recipient = "FKASSA"           # KV_PART code
    version = "1.0"                # text version of new drafts
    active = true
    allowed_roles = ["LAKARE", "TANDLAKARE", "VARDADMINISTRATOR"]   # domain.values.Role values
    allowed_for_protected = true
    allowed_for_deceased = false
    nurses_may_sign = false        # optional: sjuksköterska/barnmorska may sign (default false)
    draft_lock_days = 30           # optional: overrides the draft_lock_days setting; 0 = never lock

    [certificate_types.LISJP.activation]   # optional: from when and for whom (domain.activation)
    from = 2024-09-16
    units = ["SE2321000016-1000"]

``nurses_may_sign`` is optional because its default is the strict answer (only läkare and
tandläkare sign), so leaving it out can never widen who may sign. Signing also needs the role to be
in ``allowed_roles`` (see ``domain.lifecycle.sign``). ``draft_lock_days`` left out means the
deployment's ``draft_lock_days`` setting (``domain.lifecycle.lock_age``). ``activation`` left out
means active everywhere; ``active = false`` withdraws a type whatever its activation says (the
activation rules and their relation to ``active`` are in ``domain.activation``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from domain.activation import Activation, ActivationConfigError, activation_from_mapping
from domain.values import Role

DEFAULT_FILE = "certificate_types.toml"

_TOP_LEVEL_KEYS = frozenset({"code_systems", "certificate_types"})
_TYPE_KEYS = frozenset(
    {
        "code_systems",
        "name",
        "recipient",
        "version",
        "active",
        "allowed_roles",
        "allowed_for_protected",
        "allowed_for_deceased",
    }
)
_OPTIONAL_TYPE_KEYS = frozenset({"nurses_may_sign", "draft_lock_days", "activation"})


class CertificateTypeConfigError(ValueError):
    """Raised when certificate type data is malformed; ``type_code`` names the type at fault."""

    def __init__(self, message: str, type_code: str | None = None) -> None:
        where = "certificate types" if type_code is None else f"certificate type {type_code!r}"
        super().__init__(f"{where}: {message}")
        self.type_code = type_code


@dataclass(frozen=True, slots=True)
class CertificateType:
    """One certificate type and the rules for creating a draft of it and signing it."""

    code: str
    code_systems: frozenset[str]
    name: str
    recipient: str
    version: str
    active: bool
    allowed_roles: frozenset[Role]
    allowed_for_protected: bool
    allowed_for_deceased: bool
    nurses_may_sign: bool = False
    draft_lock_days: int | None = None  # None: the deployment's draft_lock_days setting
    activation: Activation = Activation()


class CertificateTypeRegistry:
    """The loaded certificate types, looked up by (code, code system) as ``typAvIntyg`` has them."""

    __slots__ = ("_by_key", "_types")

    def __init__(self, types: tuple[CertificateType, ...]) -> None:
        self._types = types
        self._by_key = {
            (certificate_type.code, system): certificate_type
            for certificate_type in types
            for system in certificate_type.code_systems
        }

    def lookup(self, code: str, code_system: str) -> CertificateType | None:
        """The type with this code in this code system, or None.

        Both are compared exactly (after trimming surrounding whitespace, which XML pretty-printing
        adds): codes are case-sensitive on the wire, and a code under a code system the type does
        not accept is a different, unknown type.
        """
        return self._by_key.get((code.strip(), code_system.strip()))

    def __iter__(self) -> Iterator[CertificateType]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)


def _string(value: object, key: str, type_code: str) -> str:
    if not isinstance(value, str) or not value.strip():
        message = f"{key} must be a non-empty string, got {value!r}"
        raise CertificateTypeConfigError(message, type_code)
    return value.strip()


def _boolean(value: object, key: str, type_code: str) -> bool:
    if not isinstance(value, bool):
        raise CertificateTypeConfigError(f"{key} must be true or false, got {value!r}", type_code)
    return value


def _flag(entry: Mapping[str, Any], key: str, type_code: str) -> bool:
    return _boolean(entry[key], key, type_code)


def _string_list(value: object, key: str, type_code: str) -> list[str]:
    if not isinstance(value, list) or not value:
        message = f"{key} must be a non-empty list, got {value!r}"
        raise CertificateTypeConfigError(message, type_code)
    return [_string(item, key, type_code) for item in value]


def _code_systems(data: Mapping[str, Any]) -> dict[str, str]:
    table = data.get("code_systems")
    if not isinstance(table, Mapping) or not table:
        raise CertificateTypeConfigError("a non-empty [code_systems] table is required")
    return {name: _string(value, f"code_systems.{name}", name) for name, value in table.items()}


def _roles(value: object, type_code: str) -> frozenset[Role]:
    roles = set()
    for name in _string_list(value, "allowed_roles", type_code):
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(role.value for role in Role)
            raise CertificateTypeConfigError(
                f"unknown role {name!r} in allowed_roles (known: {known})", type_code
            ) from None
    return frozenset(roles)


def _certificate_type(code: str, entry: object, systems: Mapping[str, str]) -> CertificateType:
    if not code.strip() or code != code.strip():
        message = "the code must be non-empty without surrounding spaces"
        raise CertificateTypeConfigError(message, code)
    if not isinstance(entry, Mapping):
        raise CertificateTypeConfigError("must be a table", code)
    unknown = sorted(set(entry) - _TYPE_KEYS - _OPTIONAL_TYPE_KEYS)
    if unknown:
        raise CertificateTypeConfigError(f"unknown keys {unknown}", code)
    missing = sorted(_TYPE_KEYS - set(entry))
    if missing:
        raise CertificateTypeConfigError(f"missing keys {missing}", code)
    code_system_values = set()
    for name in _string_list(entry["code_systems"], "code_systems", code):
        if name not in systems:
            raise CertificateTypeConfigError(
                f"unknown code system {name!r} (declared: {', '.join(sorted(systems))})", code
            )
        code_system_values.add(systems[name])
    return CertificateType(
        code=code,
        code_systems=frozenset(code_system_values),
        name=_string(entry["name"], "name", code),
        recipient=_string(entry["recipient"], "recipient", code),
        version=_string(entry["version"], "version", code),
        active=_flag(entry, "active", code),
        allowed_roles=_roles(entry["allowed_roles"], code),
        allowed_for_protected=_flag(entry, "allowed_for_protected", code),
        allowed_for_deceased=_flag(entry, "allowed_for_deceased", code),
        nurses_may_sign=_boolean(entry.get("nurses_may_sign", False), "nurses_may_sign", code),
        draft_lock_days=_lock_days(entry.get("draft_lock_days"), code),
        activation=_activation(entry.get("activation"), code),
    )


def _lock_days(value: object, type_code: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        message = f"draft_lock_days must be an integer of 0 or more, got {value!r}"
        raise CertificateTypeConfigError(message, type_code)
    return value


def _activation(value: object, type_code: str) -> Activation:
    if value is not None and not isinstance(value, Mapping):
        raise CertificateTypeConfigError("activation must be a table", type_code)
    try:
        return activation_from_mapping(value)
    except ActivationConfigError as error:
        raise CertificateTypeConfigError(str(error), type_code) from None


def from_mapping(data: Mapping[str, Any]) -> CertificateTypeRegistry:
    """Build a registry from parsed TOML (shaped as in this module's docstring), checking it all.

    Taking the parsed mapping rather than a path keeps file reading with the caller: the CLI reads a
    deployment's own file, tests pass dictionaries.

    Raises:
        CertificateTypeConfigError: naming the type at fault and what is wrong with it.
    """
    unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
    if unknown:
        raise CertificateTypeConfigError(f"unknown top-level keys {unknown}")
    systems = _code_systems(data)
    entries = data.get("certificate_types")
    if not isinstance(entries, Mapping) or not entries:
        raise CertificateTypeConfigError("a non-empty [certificate_types] table is required")
    types = tuple(_certificate_type(code, entry, systems) for code, entry in entries.items())
    return CertificateTypeRegistry(types)


def load_default_registry() -> CertificateTypeRegistry:
    """The registry from the ``certificate_types.toml`` packaged with this module."""
    text = resources.files("domain").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return from_mapping(tomllib.loads(text))


class CertificateTypes(Protocol):
    """What the use cases ask of the registry: ``CertificateTypeRegistry``, or one that reloads its file.

    Two implementations: the registry itself, and ``usecases.type_registry.ReloadingRegistry``, which
    swaps in a new registry when the deployment's file changes.
    """

    def lookup(self, code: str, code_system: str) -> CertificateType | None:
        """The type with this code in this code system, or None."""
        ...

    def __iter__(self) -> Iterator[CertificateType]:
        """Every type, in the file's order."""
        ...
