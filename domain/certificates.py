"""A certificate from draft to sent or revoked: the value every lifecycle rule works on.

``Certificate`` is what ``store.certificates`` persists and what ``domain.lifecycle`` transforms. The
patient, unit, care giver and creator are snapshots taken when the draft was created (see
``store.certificates`` for why). ``content`` holds the certificate's answers (``svar``) in the shape of
the contracts' ``core:Intyg``: an answer has an id, an optional instance number and parts
(``delsvar``). A part's plain text is in ``value``; typed content (a code, a date period) is kept as
the serialised XML of the ``delsvar``'s children in ``xml`` so that it travels unchanged into the
status update.

``CERTIFICATE_COLUMNS`` is the one declaration of a certificate's flat form: for each flat value (a
column of the store's ``certificate`` table, a key of the snapshot) the attribute it holds and how
it is converted. Everything that stores or restores a certificate goes through it, both ways:

* ``certificate_to_columns``/``certificate_from_columns``: the store's row (insert and read);
  ``lifecycle_columns`` is the declared subset that changes after creation (the optimistic update);
  ``certificate_header_from_columns`` with ``HEADER_COLUMNS`` is the narrow read of a header.
* ``to_snapshot``/``from_snapshot``: the same flat values made JSON-safe (times in ISO 8601, codes as
  their wire values). The RADERA event carries the whole certificate that way, because the deleted
  draft's row is gone by the time the status update is built.
* ``certificate_to_json``: the same values nested as the attributes are, for the operations API and
  the CLI (people think in the patient and the unit, not in the row's columns).

So a new field of ``Certificate`` (or of the patient, unit, care giver or issuer in it) needs one line
in ``CERTIFICATE_COLUMNS`` and a migration for its column; importing this module fails while a field
is in no column (``domain.flatten`` builds the functions from the table, once).
``content_to_json``/``content_from_json`` are the content's own JSON form (one JSON column, and the
operations API's body).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from domain import flatten
from domain.directory import Assignment, CareGiver, Person, Personnel, Unit
from domain.drafts import Extension
from domain.flatten import (
    HSA_ID,
    OPTIONAL_HSA_ID,
    OPTIONAL_TIME,
    TEXTS,
    TIME,
    Codec,
    Column,
    FlatValues,
    code,
)
from domain.values import CertificateStatus, HsaId, PersonId, PersonIdKind, RelationCode, RevokeReason

#: The format of ``to_snapshot``: the flat form of ``CERTIFICATE_COLUMNS``. Version 1 (nested patient,
#: unit, care giver and issuer objects) was rewritten by store migration 0008. Versions 2 to 4 are
#: still read (``_fill_in``): version 3 added ``revoke_reason_code``, version 4 the type as received,
#: version 5 the send's request time and its last failure, version 6 the relation to a parent in place
#: of ``copied_from`` (a copy of a locked draft is relation KOPIA).
SNAPSHOT_VERSION = 6


def _fill_in(version: object, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """An older snapshot with the values added since, as the store's migrations fill the columns in.

    Stored snapshots are RADERA payloads of deleted drafts and are not rewritten: a draft deleted
    before reason codes had no reason code, one created before the type as received was kept was
    received under its own (canonical) pair, a draft was never sent, so it has no send fields, and a
    draft copied from a locked one named it in ``copied_from``: relation KOPIA (as migration 0014).
    """
    if version not in (2, 3, 4, 5):
        raise ValueError(f"unsupported certificate snapshot version {version!r}")
    filled = dict(data)
    if version == 2:
        filled.setdefault("revoke_reason_code", None)
    filled.setdefault("received_type_code", data["type_code"])
    filled.setdefault("received_type_code_system", data["type_code_system"])
    for name in ("send_requested_at", "send_failed_at", "send_failure_class", "send_failure_text"):
        filled.setdefault(name, None)
    copied_from = filled.pop("copied_from", None)
    filled.setdefault("relation_code", None if copied_from is None else RelationCode.KOPIA.value)
    filled.setdefault("relation_parent_id", copied_from)
    return filled


@dataclass(frozen=True, slots=True)
class AnswerPart:
    """One ``delsvar``: plain text in ``value``, or typed content as XML of its children in ``xml``."""

    id: str
    value: str
    xml: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """One ``svar`` of the certificate content."""

    id: str
    instance: int | None
    parts: tuple[AnswerPart, ...]


@dataclass(frozen=True, slots=True)
class CertificateHeader:
    """What a message about a certificate is checked against and addressed by, without its content.

    Receiving SendMessageToCare needs only these (``domain.message_checks`` and
    ``domain.events.event_about``), so the store reads and locks just these columns there rather
    than the whole certificate with its content. ``Certificate.header`` gives the same for a
    certificate already read.
    """

    id: str
    status: CertificateStatus
    patient: PersonId
    unit: HsaId
    care_giver: HsaId
    test_certificate: bool
    is_signed: bool


@dataclass(frozen=True, slots=True)
class Certificate:
    """A stored certificate in any state; ``version`` grows by one with every stored change.

    ``type_code`` and ``type_code_system`` are the type's canonical pair
    (``domain.certificate_types``): what status updates and onward messages carry.
    ``received_type_code`` and ``received_type_code_system`` are ``typAvIntyg`` as the journal
    system sent it (trimmed), which may be a legacy pair such as ``lisjp`` in KV_UTLATANDE_TYP: kept
    so that support can see what an integration really sends.
    """

    id: str
    type_code: str
    type_code_system: str
    received_type_code: str
    received_type_code_system: str
    status: CertificateStatus
    patient: Person
    unit: Unit
    care_giver: CareGiver
    created_by: Personnel
    created_at: datetime
    test_certificate: bool
    ref: str | None = None
    prefill_xml: str | None = None
    extensions: tuple[Extension, ...] = ()
    content: tuple[Answer, ...] = ()
    version: int = 1
    updated_at: datetime | None = None
    ready_at: datetime | None = None
    ready_by: HsaId | None = None
    signed_at: datetime | None = None
    signed_by: HsaId | None = None
    signed_by_name: str | None = None
    sent_at: datetime | None = None
    sent_to: str | None = None
    locked_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: HsaId | None = None
    revoke_reason: str | None = None  # the revocation's description
    revoke_reason_code: RevokeReason | None = None  # None: revoked before reason codes (migration 0010)
    # The send (migration 0013): when care asked for it (SENDING since), and its last failure for good
    # (the outcome class, the receiver's text, when): a SIGNED certificate whose send failed shows why.
    send_requested_at: datetime | None = None
    send_failed_at: datetime | None = None
    send_failure_class: str | None = None
    send_failure_text: str | None = None
    # The relation to the certificate this one was made from (migration 0014; ``domain.relations``):
    # both set or both None. A copy of a locked draft is KOPIA (before 0014: ``copied_from``).
    relation_code: RelationCode | None = None
    relation_parent: str | None = None

    @property
    def unit_id(self) -> HsaId:
        return self.unit.hsa_id

    @property
    def is_signed(self) -> bool:
        """Signed at some point: true for SIGNED, SENDING and SENT, and for REVOKED after signing."""
        return self.signed_at is not None

    @property
    def header(self) -> CertificateHeader:
        return CertificateHeader(
            id=self.id,
            status=self.status,
            patient=self.patient.person_id,
            unit=self.unit.hsa_id,
            care_giver=self.care_giver.hsa_id,
            test_certificate=self.test_certificate,
            is_signed=self.is_signed,
        )


# --- Content as JSON ---------------------------------------------------------------------------


def content_to_json(content: tuple[Answer, ...]) -> list[dict[str, Any]]:
    """Content as JSON-safe lists and dicts (the store's ``content`` column, the API's body)."""
    return [
        {
            "id": answer.id,
            "instance": answer.instance,
            "parts": [{"id": p.id, "value": p.value, "xml": p.xml} for p in answer.parts],
        }
        for answer in content
    ]


def content_from_json(data: list[dict[str, Any]]) -> tuple[Answer, ...]:
    """The inverse of ``content_to_json``.

    Raises:
        KeyError, TypeError, ValueError: ``data`` is not shaped as ``content_to_json`` writes it.
    """
    answers = []
    for answer in data:
        instance = answer.get("instance")
        if instance is not None and (isinstance(instance, bool) or not isinstance(instance, int)):
            raise TypeError("an answer's instance must be an integer or null")
        parts = tuple(
            AnswerPart(id=_text(part["id"]), value=_text(part["value"]), xml=_optional_text(part.get("xml")))
            for part in answer["parts"]
        )
        answers.append(Answer(id=_text(answer["id"]), instance=instance, parts=parts))
    return tuple(answers)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


# --- The one table -------------------------------------------------------------------------------


def _assignments_to_json(assignments: tuple[Assignment, ...]) -> list[dict[str, str]]:
    return [{"unit": a.unit.value, "purpose": a.purpose} for a in assignments]


def _assignments_from_json(value: list[dict[str, str]] | None) -> tuple[Assignment, ...]:
    return tuple(Assignment(HsaId(a["unit"]), a["purpose"]) for a in value or ())


def _extensions_to_json(extensions: tuple[Extension, ...]) -> list[dict[str, str]]:
    return [{"path": e.path, "xml": e.xml} for e in extensions]


def _extensions_from_json(value: list[dict[str, str]]) -> tuple[Extension, ...]:
    return tuple(Extension(e["path"], e["xml"]) for e in value)


_ASSIGNMENTS = Codec(to_flat=_assignments_to_json, from_flat=_assignments_from_json)
_EXTENSIONS = Codec(to_flat=_extensions_to_json, from_flat=_extensions_from_json)
_CONTENT = Codec(to_flat=content_to_json, from_flat=content_from_json)
_REVOKE_REASON = Codec(to_json=flatten.optional(attrgetter("value")), from_json=flatten.optional(RevokeReason))
_RELATION = Codec(to_json=flatten.optional(attrgetter("value")), from_json=flatten.optional(RelationCode))

#: Every attribute of a ``Certificate`` and the flat value that holds it (``domain.flatten.Column``).
#: The names are the store's column names and the snapshot's keys; the JSON documents
#: (``extensions``, ``created_by_detail`` with camelCase keys, ``content``) keep the shapes the table
#: has always held. ``lifecycle`` marks what may change after creation (what a save writes); the row
#: keeps one care giver for the certificate and its unit (``shares``).
CERTIFICATE_COLUMNS: tuple[Column, ...] = (
    Column("certificate_id", "id"),
    Column("type_code", "type_code"),
    Column("type_code_system", "type_code_system"),
    Column("received_type_code", "received_type_code"),
    Column("received_type_code_system", "received_type_code_system"),
    Column("status", "status", code(CertificateStatus), lifecycle=True),
    Column("created_at", "created_at", TIME),
    Column("test_certificate", "test_certificate"),
    Column("ref", "ref"),
    Column("prefill_xml", "prefill_xml"),
    Column("extensions", "extensions", _EXTENSIONS),
    Column("patient_id_kind", "patient.person_id.kind", code(PersonIdKind)),
    Column("patient_id", "patient.person_id.digits"),
    Column("patient_given_name", "patient.given_name"),
    Column("patient_middle_name", "patient.middle_name"),
    Column("patient_family_name", "patient.family_name"),
    Column("patient_postal_address", "patient.postal_address"),
    Column("patient_postal_code", "patient.postal_code"),
    Column("patient_city", "patient.city"),
    Column("patient_deceased", "patient.deceased"),
    Column("patient_protected_identity", "patient.protected_identity"),
    Column("patient_test_indicator", "patient.test_indicator"),
    Column("unit_hsa_id", "unit.hsa_id", HSA_ID),
    Column("unit_name", "unit.name"),
    Column("unit_parent_hsa_id", "unit.parent", OPTIONAL_HSA_ID),
    Column("unit_arbetsplatskod", "unit.arbetsplatskod"),
    Column("unit_postal_address", "unit.postal_address"),
    Column("unit_postal_code", "unit.postal_code"),
    Column("unit_city", "unit.city"),
    Column("unit_phone", "unit.phone"),
    Column("unit_email", "unit.email"),
    Column("care_giver_hsa_id", "care_giver.hsa_id", HSA_ID, shares=("unit.care_giver",)),
    Column("care_giver_name", "care_giver.name"),
    Column("created_by_hsa_id", "created_by.hsa_id", HSA_ID),
    Column("created_by_name", "created_by.name"),
    Column("created_by_detail", "created_by.licensed_professions", TEXTS, key="licensedProfessions"),
    Column("created_by_detail", "created_by.position_codes", TEXTS, key="positionCodes"),
    Column("created_by_detail", "created_by.group_prescriber_codes", TEXTS, key="groupPrescriberCodes"),
    Column("created_by_detail", "created_by.prescriber_code", key="prescriberCode"),
    Column("created_by_detail", "created_by.assignments", _ASSIGNMENTS, key="assignments"),
    Column("content", "content", _CONTENT, lifecycle=True),
    Column("version", "version", lifecycle=True),
    Column("updated_at", "updated_at", OPTIONAL_TIME, lifecycle=True),
    Column("ready_at", "ready_at", OPTIONAL_TIME, lifecycle=True),
    Column("ready_by_hsa_id", "ready_by", OPTIONAL_HSA_ID, lifecycle=True),
    Column("signed_at", "signed_at", OPTIONAL_TIME, lifecycle=True),
    Column("signed_by_hsa_id", "signed_by", OPTIONAL_HSA_ID, lifecycle=True),
    Column("signed_by_name", "signed_by_name", lifecycle=True),
    Column("sent_at", "sent_at", OPTIONAL_TIME, lifecycle=True),
    Column("sent_to", "sent_to", lifecycle=True),
    Column("locked_at", "locked_at", OPTIONAL_TIME, lifecycle=True),
    Column("revoked_at", "revoked_at", OPTIONAL_TIME, lifecycle=True),
    Column("revoked_by_hsa_id", "revoked_by", OPTIONAL_HSA_ID, lifecycle=True),
    Column("revoke_reason", "revoke_reason", lifecycle=True),
    Column("revoke_reason_code", "revoke_reason_code", _REVOKE_REASON, lifecycle=True),
    Column("send_requested_at", "send_requested_at", OPTIONAL_TIME, lifecycle=True),
    Column("send_failed_at", "send_failed_at", OPTIONAL_TIME, lifecycle=True),
    Column("send_failure_class", "send_failure_class", lifecycle=True),
    Column("send_failure_text", "send_failure_text", lifecycle=True),
    Column("relation_code", "relation_code", _RELATION),
    Column("relation_parent_id", "relation_parent"),
)

#: The flat names of a certificate, each once, in table order.
COLUMN_NAMES = flatten.names(CERTIFICATE_COLUMNS)
#: The flat names ``lifecycle_columns`` gives: what saving a change writes.
LIFECYCLE_COLUMN_NAMES = flatten.names(c for c in CERTIFICATE_COLUMNS if c.lifecycle)

# The table turned into functions once, at import (domain.flatten says how, and why so).
_WRITE = flatten.writer(CERTIFICATE_COLUMNS)
_WRITE_LIFECYCLE = flatten.writer(c for c in CERTIFICATE_COLUMNS if c.lifecycle)
_READERS = flatten.readers(Certificate, CERTIFICATE_COLUMNS, shared=("patient", "unit", "care_giver"))
_READ = _READERS[""]
_FLAT_TO_JSON, _JSON_TO_FLAT = flatten.json_converters(CERTIFICATE_COLUMNS)
_FLAT_TO_NESTED_JSON = flatten.nested_json_writer(CERTIFICATE_COLUMNS)
# A header is these attributes of a certificate (``is_signed`` is "signed_at is set").
_HEADER_PATHS = ("id", "status", "patient.person_id", "unit.hsa_id", "care_giver.hsa_id", "test_certificate",
                 "signed_at")
_READ_HEADER = tuple(_READERS[path] for path in _HEADER_PATHS)
#: The flat names ``certificate_header_from_columns`` reads: a narrow query selects only these.
HEADER_COLUMNS = flatten.columns_under(CERTIFICATE_COLUMNS, _HEADER_PATHS)


# --- The mapping -------------------------------------------------------------------------------


def certificate_to_columns(certificate: Certificate) -> dict[str, Any]:
    """The certificate's flat values by name (``COLUMN_NAMES``): a new row of the store.

    Raises:
        ValueError: the unit belongs to another care giver than the certificate's (the flat form
            keeps one care giver for both).
    """
    return _WRITE(certificate)


def lifecycle_columns(certificate: Certificate) -> dict[str, Any]:
    """The flat values that change after creation (``LIFECYCLE_COLUMN_NAMES``): what a save writes."""
    return _WRITE_LIFECYCLE(certificate)


def certificate_from_columns(values: FlatValues) -> Certificate:
    """The certificate whose flat values these are (other names, such as the store's keys, are ignored).

    Raises:
        KeyError, TypeError, ValueError: a value is missing or malformed (content is checked as
            ``content_from_json`` does).
    """
    certificate: Certificate = _READ(values)
    return certificate


def certificate_header_from_columns(values: FlatValues) -> CertificateHeader:
    """The header of the certificate whose flat values (``HEADER_COLUMNS`` at least) these are."""
    cid, status, patient, unit, care_giver, test_certificate, signed_at = (read(values) for read in _READ_HEADER)
    return CertificateHeader(
        id=cid,
        status=status,
        patient=patient,
        unit=unit,
        care_giver=care_giver,
        test_certificate=test_certificate,
        is_signed=signed_at is not None,
    )


def to_snapshot(certificate: Certificate) -> dict[str, Any]:
    """The whole certificate as JSON-safe data: its flat values, times in ISO 8601 and codes as values."""
    return {"snapshot_version": SNAPSHOT_VERSION, **_FLAT_TO_JSON(_WRITE(certificate))}


def certificate_to_json(certificate: Certificate) -> dict[str, Any]:
    """The certificate as JSON-safe data nested as its attributes are: the operations API's answer.

    Not a snapshot (there is no reader for it): a view for people and front ends, who think in the
    certificate's patient, unit and issuer rather than in the store's columns. Times are ISO 8601,
    codes and HSA-ids their values; ``patient.person_id`` is ``{"kind": <OID>, "digits": ...}``.
    """
    return _FLAT_TO_NESTED_JSON(_WRITE(certificate))


def from_snapshot(data: Mapping[str, Any]) -> Certificate:
    """The certificate ``to_snapshot`` described.

    Raises:
        KeyError, TypeError, ValueError: ``data`` is not a snapshot of this version (the store's
            migrations 0008 and 0009 rewrote those of versions 1 and 2).
    """
    version = data.get("snapshot_version")
    if version != SNAPSHOT_VERSION:
        data = _fill_in(version, data)
    return certificate_from_columns(_JSON_TO_FLAT(data))
