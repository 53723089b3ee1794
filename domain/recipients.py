"""The recipients certificates are sent to: a registry loaded from data, as the certificate types are.

Who receives which types at which logical address changes with agreements and with the national
platform's catalogue, not with releases, so it lives in ``recipients.toml`` (shipped next to this
module) and a deployment may supply its own file with the same shape (the ``recipients_file``
setting). The incumbent keeps the same facts in a JSON file read by its certificate archive
(``{id, name, recipientType, logicalAddress, certificateTypes[], active, trusted}``); here the part
that decides a send is kept: id, name, logical address, the types the recipient takes, and whether
it takes anything at all now.

The file is checked when it is loaded, and every mistake is reported with the recipient it concerns:
a missing or unknown key, an empty list, a type listed twice, an id that is not a KV_PART-shaped
code. Nothing has a silent default: a recipient that is left out of the file receives nothing.

File shape::

    [recipients.FKASSA]                   # the recipient's part code (KV_PART): mottagare on the wire
    name = "Försäkringskassan"
    logical_address = "2021005521"        # where its contracts are routed (TAK)
    certificate_types = ["LISJP", "LUSE"] # canonical type codes (domain.certificate_types)
    active = true                         # false: nothing is sent to it (a send is refused)

A send is allowed only to a recipient that is in the registry, active, and lists the certificate's
type (``check_send``); the refusal names which of the three failed, before anything is queued.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

DEFAULT_FILE = "recipients.toml"

_RECIPIENT_KEYS = frozenset({"name", "logical_address", "certificate_types", "active"})
#: A part code as KV_PART spells them: capitals and digits (FKASSA, TRANSP, HSVARD, AF).
_PART_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,31}")


class RecipientConfigError(ValueError):
    """Raised when recipient data is malformed; ``recipient_id`` names the recipient at fault."""

    def __init__(self, message: str, recipient_id: str | None = None) -> None:
        where = "recipients" if recipient_id is None else f"recipient {recipient_id!r}"
        super().__init__(f"{where}: {message}")
        self.recipient_id = recipient_id


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient: its part code, its name, its logical address, the type codes it takes."""

    id: str
    name: str
    logical_address: str
    certificate_types: frozenset[str]
    active: bool


class SendRefusal(StrEnum):
    """Why a send to a recipient is refused (``check_send``); the lifecycle's refusal codes reuse these."""

    RECIPIENT_UNKNOWN = "RECIPIENT_UNKNOWN"  # no recipient with this id in the registry
    RECIPIENT_INACTIVE = "RECIPIENT_INACTIVE"  # in the registry, but active = false
    RECIPIENT_NOT_FOR_TYPE = "RECIPIENT_NOT_FOR_TYPE"  # it does not take this certificate type


class RecipientRegistry:
    """The loaded recipients by id (ids compare exactly: part codes are upper case on the wire)."""

    __slots__ = ("_by_id",)

    def __init__(self, recipients: tuple[Recipient, ...]) -> None:
        self._by_id = {recipient.id: recipient for recipient in recipients}

    def lookup(self, recipient_id: str) -> Recipient | None:
        """The recipient with this id (surrounding spaces ignored), or None."""
        return self._by_id.get(recipient_id.strip())

    def by_address(self, logical_address: str) -> Recipient | None:
        """The recipient whose logical address this is, or None (for telling simulators' callers apart)."""
        return next((r for r in self._by_id.values() if r.logical_address == logical_address.strip()), None)

    def check_send(self, recipient_id: str, type_code: str) -> Recipient | SendRefusal:
        """The recipient a certificate of ``type_code`` may be sent to, or why not."""
        recipient = self.lookup(recipient_id)
        if recipient is None:
            return SendRefusal.RECIPIENT_UNKNOWN
        if not recipient.active:
            return SendRefusal.RECIPIENT_INACTIVE
        if type_code not in recipient.certificate_types:
            return SendRefusal.RECIPIENT_NOT_FOR_TYPE
        return recipient

    def __iter__(self) -> Iterator[Recipient]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def _string(value: object, key: str, recipient_id: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RecipientConfigError(f"{key} must be a non-empty string, got {value!r}", recipient_id)
    return value.strip()


def _recipient(recipient_id: str, entry: object) -> Recipient:
    if not _PART_CODE.fullmatch(recipient_id):
        raise RecipientConfigError("the id must be a part code: capitals, digits and _, starting with a letter",
                                   recipient_id)
    if not isinstance(entry, Mapping):
        raise RecipientConfigError("must be a table", recipient_id)
    unknown = sorted(set(entry) - _RECIPIENT_KEYS)
    if unknown:
        raise RecipientConfigError(f"unknown keys {unknown}", recipient_id)
    missing = sorted(_RECIPIENT_KEYS - set(entry))
    if missing:
        raise RecipientConfigError(f"missing keys {missing}", recipient_id)
    types = entry["certificate_types"]
    if not isinstance(types, list) or not types:
        raise RecipientConfigError(f"certificate_types must be a non-empty list, got {types!r}", recipient_id)
    codes = [_string(code, "certificate_types", recipient_id) for code in types]
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise RecipientConfigError(f"certificate_types lists {repeated} more than once", recipient_id)
    active = entry["active"]
    if not isinstance(active, bool):
        raise RecipientConfigError(f"active must be true or false, got {active!r}", recipient_id)
    return Recipient(
        id=recipient_id,
        name=_string(entry["name"], "name", recipient_id),
        logical_address=_string(entry["logical_address"], "logical_address", recipient_id),
        certificate_types=frozenset(codes),
        active=active,
    )


def from_mapping(data: Mapping[str, Any]) -> RecipientRegistry:
    """Build a registry from parsed TOML (shaped as in this module's docstring), checking it all.

    Raises:
        RecipientConfigError: naming the recipient at fault and what is wrong with it.
    """
    unknown = sorted(set(data) - {"recipients"})
    if unknown:
        raise RecipientConfigError(f"unknown top-level keys {unknown}")
    entries = data.get("recipients")
    if not isinstance(entries, Mapping) or not entries:
        raise RecipientConfigError("a non-empty [recipients] table is required")
    recipients = tuple(_recipient(recipient_id, entry) for recipient_id, entry in entries.items())
    addresses: dict[str, str] = {}
    for recipient in recipients:
        other = addresses.setdefault(recipient.logical_address, recipient.id)
        if other != recipient.id:
            raise RecipientConfigError(f"logical_address {recipient.logical_address} is {other}'s too", recipient.id)
    return RecipientRegistry(recipients)


def load_default_recipients() -> RecipientRegistry:
    """The registry from the ``recipients.toml`` packaged with this module."""
    text = resources.files("domain").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return from_mapping(tomllib.loads(text))
