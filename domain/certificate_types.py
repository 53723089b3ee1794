"""The certificate types the gateway can create drafts for: a registry loaded from data, not code.

Which types exist, who may create them and for which patients changes with every agreement with a
recipient, so it lives in ``certificate_types.toml`` (shipped next to this module) and a deployment
may supply its own file with the same shape. Webcert spreads the same facts over feature toggles,
privilege YAML and module code; here adding a type is adding a table to the file.

The file is checked when it is loaded, and every mistake is reported with the type it concerns:
an unknown role name or code system, an empty list, a misspelt or missing key, a version written as
a number, two types claiming the same code. Nothing has a silent default, so a typo cannot quietly
widen who may create a type.

File shape::

    [code_systems.KV_INTYGSTYP]            # a name used below
    value = "b64ea353-e8f6-4832-b563-fc7d46f29548"   # typAvIntyg/codeSystem on the wire
    case_sensitive_codes = true            # false: "lisjp" is LISJP in this code system

    [certificate_types.LISJP]              # the type's canonical code
    accepts = [                            # every (code, code system) typAvIntyg may carry for it;
        { code = "LISJP", code_system = "KV_INTYGSTYP" },      # the first pair is canonical
        { code = "LISJP", code_system = "KV_UTLATANDE_TYP" },
    ]
    name = "Läkarintyg för sjukpenning"
    recipient = "FKASSA"           # KV_PART code
    version = "1.0"                # text version of new drafts
    active = true
    allowed_roles = ["LAKARE", "TANDLAKARE", "VARDADMINISTRATOR"]   # domain.values.Role values
    allowed_for_protected = true
    allowed_for_deceased = false
    nurses_may_sign = false        # optional: sjuksköterska/barnmorska may sign (default false)
    draft_lock_days = 30           # optional: overrides the draft_lock_days setting; 0 = never lock
    send_on_sign = true            # optional: send to the recipient right after signing (default false)
    renewable = true               # optional: signed ones may be renewed (förnya; default false)
    renewal_drops = ["1", "26", "32"]   # optional: answer ids a renewal leaves out (made anew)
    required_answers = ["6", "32"] # optional: answer ids a draft must have to be signed
    other_information_answer = "25"  # optional: the "other information" answer (completion mode B)

    [certificate_types.LISJP.activation]   # optional: from when and for whom (domain.activation)
    from = 2024-09-16
    units = ["SE2321000016-1000"]

**Accepted pairs and the canonical type.** Journal systems name a type by ``typAvIntyg``'s code and
code system, and not all of them the same way: the incumbent resolves LUSE, LISJP, LUAE_NA and
LUAE_FS by their code alone, so integrations made years ago still send the legacy KV_UTLATANDE_TYP
code system, often with the code in lower case. Each type therefore lists every pair it accepts,
each pair a table of its own (room for per-pair rules later). The first pair is the type's
*canonical* name: what a stored certificate, its status updates and onward messages carry, whatever
the journal system sent (the draft keeps what was sent beside it). The table key must be the
canonical code, so that a type has one name everywhere. Code system values are compared without
regard to case (they are UUIDs and OIDs); codes exactly, unless the code system says otherwise.

``send_on_sign`` (optional, default false) is the incumbent's "sign and send" feature
(SIGNERA_SKICKA_DIREKT): signing the type also sends it to ``recipient``, in the same transaction, as
``intygsgateway certificate send`` would (``usecases.lifecycle.sign``); a test certificate is never sent.

``renewable``, ``renewal_drops``, ``required_answers`` and ``other_information_answer`` (all
optional) are the related-certificate rules of ``domain.relations`` as data: whether a signed
certificate of the type may be renewed, which answers a renewal leaves out because they must be made
anew (for LISJP the basis of the assessment, the need of sick leave and the wish for contact with
FK), which answers a draft must have to be signed (``domain.lifecycle.sign``), and which answer holds
"other information", where a completion that gives no further medical information puts the
physician's comment. Left out: not renewable, nothing dropped, nothing required but some answer, no
such completion.

``nurses_may_sign`` is optional because its default is the strict answer (only läkare and
tandläkare sign), so leaving it out can never widen who may sign. Signing also needs the role to be
in ``allowed_roles`` (see ``domain.lifecycle.sign``). ``draft_lock_days`` left out means the
deployment's ``draft_lock_days`` setting (``domain.lifecycle.lock_age``). ``activation`` left out
means active everywhere; ``active = false`` withdraws a type whatever its activation says (the
activation rules and their relation to ``active`` are in ``domain.activation``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from domain.activation import Activation, ActivationConfigError, activation_from_mapping
from domain.values import Role

DEFAULT_FILE = "certificate_types.toml"

_TOP_LEVEL_KEYS = frozenset({"code_systems", "certificate_types"})
_CODE_SYSTEM_KEYS = frozenset({"value", "case_sensitive_codes"})
_PAIR_KEYS = frozenset({"code", "code_system"})
_TYPE_KEYS = frozenset(
    {
        "accepts",
        "name",
        "recipient",
        "version",
        "active",
        "allowed_roles",
        "allowed_for_protected",
        "allowed_for_deceased",
    }
)
_OPTIONAL_TYPE_KEYS = frozenset({"nurses_may_sign", "draft_lock_days", "activation", "send_on_sign", "renewable",
                                 "renewal_drops", "required_answers", "other_information_answer"})
#: An answer id (``svar/@id``, the contract's FrageIdType).
_ANSWER_ID = re.compile(r"[0-9]+")


class CertificateTypeConfigError(ValueError):
    """Raised when certificate type data is malformed; ``type_code`` names the type at fault."""

    def __init__(self, message: str, type_code: str | None = None) -> None:
        where = "certificate types" if type_code is None else f"certificate type {type_code!r}"
        super().__init__(f"{where}: {message}")
        self.type_code = type_code


@dataclass(frozen=True, slots=True)
class CodeSystem:
    """A code system ``typAvIntyg`` may name: its name in the file, its wire value, how codes compare."""

    name: str
    value: str
    case_sensitive_codes: bool

    def code_key(self, code: str) -> str:
        """The comparison key of ``code`` in this code system (trimmed; case-folded unless case-sensitive)."""
        code = code.strip()
        return code if self.case_sensitive_codes else code.casefold()


@dataclass(frozen=True, slots=True)
class AcceptedCode:
    """One (code, code system) pair a certificate type accepts in ``typAvIntyg``."""

    code: str
    code_system: CodeSystem

    def describe(self) -> str:
        """The pair for people and answers: ``LISJP (KV_INTYGSTYP, b64ea353-e8f6-…)``."""
        return f"{self.code} ({self.code_system.name}, {self.code_system.value})"


@dataclass(frozen=True, slots=True)
class CertificateType:
    """One certificate type and the rules for creating a draft of it and signing it.

    ``code`` and ``code_system`` are the canonical pair (``accepts[0]``): what a certificate of the
    type carries, whichever accepted pair the journal system sent.
    """

    code: str
    code_system: str
    accepts: tuple[AcceptedCode, ...]
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
    send_on_sign: bool = False  # sign and send: sent to ``recipient`` right after signing
    # Related certificates (domain.relations) and signing checks (domain.lifecycle.sign):
    renewable: bool = False  # a signed one may be renewed (förnyas): a new draft with relation FRLANG
    renewal_drops: frozenset[str] = frozenset()  # answer ids a renewal leaves out: they must be made anew
    required_answers: tuple[str, ...] = ()  # answer ids a draft must have to be signed
    other_information_answer: str | None = None  # the "other information" answer (completion mode B)


def _system_key(value: str) -> str:
    return value.strip().casefold()


class CertificateTypeRegistry:
    """The loaded certificate types, looked up by (code, code system) as ``typAvIntyg`` has them."""

    __slots__ = ("_by_key", "_systems", "_types")

    def __init__(self, types: tuple[CertificateType, ...]) -> None:
        self._types = types
        self._systems: dict[str, CodeSystem] = {}
        self._by_key: dict[tuple[str, str], CertificateType] = {}
        for certificate_type in types:
            for pair in certificate_type.accepts:
                system = pair.code_system
                self._systems.setdefault(_system_key(system.value), system)
                key = (system.code_key(pair.code), _system_key(system.value))
                other = self._by_key.setdefault(key, certificate_type)
                if other is not certificate_type:
                    raise CertificateTypeConfigError(
                        f"accepts {pair.describe()}, which {other.code} accepts too", certificate_type.code
                    )

    def lookup(self, code: str, code_system: str) -> CertificateType | None:
        """The type that accepts this code in this code system, or None.

        Surrounding whitespace (XML pretty-printing adds it) is ignored; the code system's value is
        compared without regard to case, the code as its code system says (``case_sensitive_codes``).
        A code under a code system the type does not accept is a different, unknown type.
        """
        system = self._systems.get(_system_key(code_system))
        if system is None:
            return None
        return self._by_key.get((system.code_key(code), _system_key(system.value)))

    def accepted_for(self, code: str) -> tuple[AcceptedCode, ...]:
        """Every pair accepted for ``code`` in any code system, compared without regard to case.

        What to tell a journal system that sent a known code under a code system that does not take
        it (or in the wrong case): the pairs that would have worked.
        """
        wanted = code.strip().casefold()
        return tuple(pair for t in self._types for pair in t.accepts if pair.code.casefold() == wanted)

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


def _code_systems(data: Mapping[str, Any]) -> dict[str, CodeSystem]:
    table = data.get("code_systems")
    if not isinstance(table, Mapping) or not table:
        raise CertificateTypeConfigError("a non-empty [code_systems] table is required")
    systems = {}
    for name, entry in table.items():
        where = f"code system {name!r}"
        if not isinstance(entry, Mapping):
            raise CertificateTypeConfigError(
                f"{where} must be a table with value and case_sensitive_codes (docs/certificate-types.md), "
                f"got {entry!r}"
            )
        _keys(entry, _CODE_SYSTEM_KEYS, f"{where}: ")
        systems[name] = CodeSystem(
            name, _string(entry["value"], "value", name), _boolean(entry["case_sensitive_codes"],
                                                                  "case_sensitive_codes", name)
        )
    return systems


def _keys(entry: Mapping[str, Any], required: frozenset[str], where: str, type_code: str | None = None,
          optional: frozenset[str] = frozenset()) -> None:
    """Refuse unknown and missing keys, naming them after ``where`` (a typo must not become a silent default)."""
    unknown = sorted(set(entry) - required - optional)
    if unknown:
        raise CertificateTypeConfigError(f"{where}unknown keys {unknown}", type_code)
    missing = sorted(required - set(entry))
    if missing:
        raise CertificateTypeConfigError(f"{where}missing keys {missing}", type_code)


def _accepts(value: object, code: str, systems: Mapping[str, CodeSystem]) -> tuple[AcceptedCode, ...]:
    if not isinstance(value, list) or not value:
        raise CertificateTypeConfigError(f"accepts must be a non-empty list of pairs, got {value!r}", code)
    pairs = []
    for index, item in enumerate(value):
        where = f"accepts[{index}]"
        if not isinstance(item, Mapping):
            raise CertificateTypeConfigError(
                f"{where} must be a table such as {{ code = \"{code}\", code_system = \"KV_INTYGSTYP\" }}", code
            )
        _keys(item, _PAIR_KEYS, f"{where}: ", code)
        system_name = _string(item["code_system"], f"{where}.code_system", code)
        if system_name not in systems:
            raise CertificateTypeConfigError(
                f"{where}: unknown code system {system_name!r} (declared: {', '.join(sorted(systems))})", code
            )
        pair = AcceptedCode(_string(item["code"], f"{where}.code", code), systems[system_name])
        if pair in pairs:
            raise CertificateTypeConfigError(f"{where} repeats {pair.describe()}", code)
        pairs.append(pair)
    if pairs[0].code != code:
        raise CertificateTypeConfigError(
            f"the first pair of accepts is the canonical one and must have the table's code {code!r}, "
            f"not {pairs[0].code!r}", code
        )
    return tuple(pairs)


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


def _certificate_type(code: str, entry: object, systems: Mapping[str, CodeSystem]) -> CertificateType:
    if not code.strip() or code != code.strip():
        message = "the code must be non-empty without surrounding spaces"
        raise CertificateTypeConfigError(message, code)
    if not isinstance(entry, Mapping):
        raise CertificateTypeConfigError("must be a table", code)
    if "code_systems" in entry:
        raise CertificateTypeConfigError(
            "code_systems = [...] is replaced by accepts = [{ code = ..., code_system = ... }, ...], the "
            "canonical pair first (docs/certificate-types.md)", code
        )
    _keys(entry, _TYPE_KEYS, "", code, _OPTIONAL_TYPE_KEYS)
    accepts = _accepts(entry["accepts"], code, systems)
    return CertificateType(
        code=code,
        code_system=accepts[0].code_system.value,
        accepts=accepts,
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
        send_on_sign=_boolean(entry.get("send_on_sign", False), "send_on_sign", code),
        renewable=_boolean(entry.get("renewable", False), "renewable", code),
        renewal_drops=frozenset(_answer_ids(entry.get("renewal_drops", []), "renewal_drops", code)),
        required_answers=_answer_ids(entry.get("required_answers", []), "required_answers", code),
        other_information_answer=_optional_answer_id(entry.get("other_information_answer"), code),
    )


def _answer_ids(value: object, key: str, type_code: str) -> tuple[str, ...]:
    """A list of answer ids (may be empty), each once."""
    if not isinstance(value, list):
        raise CertificateTypeConfigError(f"{key} must be a list of answer ids such as [\"1\", \"32\"], got {value!r}",
                                         type_code)
    ids = tuple(_answer_id(item, key, type_code) for item in value)
    if len(set(ids)) != len(ids):
        raise CertificateTypeConfigError(f"{key} names an answer id twice: {list(ids)}", type_code)
    return ids


def _answer_id(value: object, key: str, type_code: str) -> str:
    if not isinstance(value, str) or not _ANSWER_ID.fullmatch(value):
        raise CertificateTypeConfigError(f"{key}: an answer id is digits as a string, such as \"32\", got {value!r}",
                                         type_code)
    return value


def _optional_answer_id(value: object, type_code: str) -> str | None:
    return None if value is None else _answer_id(value, "other_information_answer", type_code)


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

    def accepted_for(self, code: str) -> tuple[AcceptedCode, ...]:
        """Every pair accepted for ``code`` in any code system (for the answer to a pair no type accepts)."""
        ...

    def __iter__(self) -> Iterator[CertificateType]:
        """Every type, in the file's order."""
        ...
