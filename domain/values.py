"""Small value types shared by every layer: ids, wire codes and the ResultType vocabulary.

Wire codes are ``StrEnum`` members spelled exactly as on the wire so that they can be written to XML
and to the database without translation tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

HSA_ID_ROOT = "1.2.752.129.2.1.4.1"
PERSONNUMMER_ROOT = "1.2.752.129.2.1.3.1"
SAMORDNINGSNUMMER_ROOT = "1.2.752.129.2.1.3.3"
ARBETSPLATSKOD_ROOT = "1.2.752.29.4.71"
KV_INTYGSTYP = "b64ea353-e8f6-4832-b563-fc7d46f29548"
KV_UTLATANDE_TYP = "f6fb361a-e31d-48b8-8657-99b63912dd9b"
KV_HANDELSE = "dfd7bbad-dbe5-4a2f-ba25-f7b9b2cc6b14"
KV_RELATION = "c2362fcd-eda0-4f9a-bd13-b3bbaf7f2146"


@dataclass(frozen=True, slots=True)
class HsaId:
    """An HSA-id: an opaque, non-empty string compared case-insensitively.

    Test environments use forms such as ``TSTNMT2321000156-1234``, so no pattern is imposed. The
    original spelling is kept in ``value`` (it is what we echo on the wire); equality and hashing use
    the trimmed, case-folded ``key``.
    """

    value: str

    def __post_init__(self) -> None:
        trimmed = self.value.strip()
        if not trimmed:
            raise ValueError("an HSA-id must not be empty")
        object.__setattr__(self, "value", trimmed)

    @property
    def key(self) -> str:
        """The normalised form used for comparison and as the database key."""
        return self.value.casefold()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HsaId) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.value


#: An HSA-id as a person or a client types one: ASCII letters, digits and hyphens, 1 to 64 characters
#: (``SE2321000016-1000``, ``TSTNMT2321000156-1234``). The length is a bound, not HSA's own rule.
TYPED_HSA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")


def typed_hsa_id(text: str) -> HsaId:
    """The HSA-id in ``text`` as a client or an operator typed it (the unit to act at), trimmed.

    ``HsaId`` takes any non-empty string, because directory data and journal systems' requests are kept
    as they came. A value typed by hand is checked for its shape before it is looked up, so that a
    pasted line break, a unit's name or a lookalike letter (a Cyrillic "С") is told apart from an HSA-id
    the directory does not know.

    Raises:
        ValueError: blank, or not letters, digits and hyphens (the text is not repeated).
    """
    trimmed = text.strip()
    if not TYPED_HSA_ID.fullmatch(trimmed):
        raise ValueError("an HSA-id is 1 to 64 letters A-Z, digits and hyphens, such as SE2321000016-1000")
    return HsaId(trimmed)


class PersonIdKind(StrEnum):
    """The two OIDs a ``types:PersonId`` root may carry."""

    PERSONNUMMER = PERSONNUMMER_ROOT
    SAMORDNINGSNUMMER = SAMORDNINGSNUMMER_ROOT


@dataclass(frozen=True, slots=True)
class PersonId:
    """A checked personnummer or samordningsnummer: twelve digits, valid date, valid Luhn digit.

    Build it with ``domain.personnummer.parse_person_id``; constructing it directly skips the checks
    and is meant for rows read back from the database.
    """

    kind: PersonIdKind
    digits: str

    def masked(self) -> str:
        """The id with birth date and serial hidden, safe for logs: ``19121212-****``."""
        return f"{self.digits[:8]}-****"

    def __str__(self) -> str:
        return self.digits


class ResultCode(StrEnum):
    """``core:ResultCodeType``."""

    OK = "OK"
    INFO = "INFO"
    ERROR = "ERROR"


class ErrorId(StrEnum):
    """``core:ErrorIdType``: what the caller should do with a refused request."""

    VALIDATION_ERROR = "VALIDATION_ERROR"  # bad input, do not resend
    APPLICATION_ERROR = "APPLICATION_ERROR"  # logical error, do not resend
    TECHNICAL_ERROR = "TECHNICAL_ERROR"  # possibly transient, resending is fine
    REVOKED = "REVOKED"


class EventCode(StrEnum):
    """Händelsekoder (KV_HANDELSE) sent to journal systems with CertificateStatusUpdateForCare."""

    SKAPAT = "SKAPAT"
    ANDRAT = "ANDRAT"
    KFSIGN = "KFSIGN"
    SIGNAT = "SIGNAT"
    SKICKA = "SKICKA"
    RADERA = "RADERA"
    MAKULE = "MAKULE"
    NYFRFM = "NYFRFM"
    NYSVFM = "NYSVFM"
    NYFRFV = "NYFRFV"
    HANFRFM = "HANFRFM"
    HANFRFV = "HANFRFV"


class RelationCode(StrEnum):
    """How a certificate relates to the one it was made from (KV_RELATION; ``domain.relations``)."""

    KOMPLT = "KOMPLT"  # completes its parent at the recipient's request (komplettering)
    ERSATT = "ERSATT"  # replaces its parent (ersätter), which stays valid but read-only
    FRLANG = "FRLANG"  # renews its parent (förnyar), typically to extend a sick leave
    KOPIA = "KOPIA"  # a copy of a locked draft


class Role(StrEnum):
    """The role a user acts in, derived from the directory (see ``domain.roles``)."""

    LAKARE = "LAKARE"
    TANDLAKARE = "TANDLAKARE"
    SJUKSKOTERSKA = "SJUKSKOTERSKA"
    BARNMORSKA = "BARNMORSKA"
    VARDADMINISTRATOR = "VARDADMINISTRATOR"


class CertificateStatus(StrEnum):
    """Where a certificate is in its life (``domain.lifecycle`` holds the transitions between them).

    A deleted draft has no status: its row is removed (its events stay in the outbox).
    """

    DRAFT = "DRAFT"  # utkast: content may change
    READY = "READY"  # klar för signering: a vårdadministratör prepared it for a signer
    LOCKED = "LOCKED"  # låst utkast: not signed within 14 days; only revoke or copy remain
    SIGNED = "SIGNED"  # signerat intyg
    SENDING = "SENDING"  # sent by care, waiting for the recipient (or the archive) to accept it
    SENT = "SENT"  # skickat till mottagaren: the recipient accepted it
    REVOKED = "REVOKED"  # makulerat (a draft, a locked draft or a certificate)


#: Swedish local time: the wire's local timestamps, TAK's validity dates and the contracts' dates.
SWEDISH_TIME = ZoneInfo("Europe/Stockholm")


def swedish_date(moment: datetime) -> date:
    """The Swedish calendar date at ``moment``: what TAK's from/to dates and deadlines are judged by."""
    return moment.astimezone(SWEDISH_TIME).date()


def utc_instant(text: str) -> datetime:
    """An ISO 8601 time as an aware UTC datetime; a time written without a zone is taken as UTC.

    Operators type time windows into commands and API calls (resend, PDL search); one reading of
    them everywhere keeps a window from meaning different things in different tools.

    Raises:
        ValueError: ``text`` is not an ISO 8601 time.
    """
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RevokeReason(StrEnum):
    """Why a certificate is revoked (makulerat): the incumbent's two reason codes, spelt as it does.

    Webcert maps them to ``INCORRECT_PATIENT`` and ``OTHER_SERIOUS_ERROR`` for its certificate
    service; ``domain.lifecycle.check_revocation`` says when a description is required.
    """

    FEL_PATIENT = "FEL_PATIENT"  # issued for the wrong patient
    ANNAT_ALLVARLIGT_FEL = "ANNAT_ALLVARLIGT_FEL"  # another serious error: the description says which
