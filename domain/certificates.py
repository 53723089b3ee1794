"""A certificate from draft to sent or revoked: the value every lifecycle rule works on.

``Certificate`` is what ``store.certificates`` persists and what ``domain.lifecycle`` transforms. The
patient, unit, care giver and creator are snapshots taken when the draft was created (see
``store.certificates`` for why). ``content`` holds the certificate's answers (``svar``) in the shape of
the contracts' ``core:Intyg``: an answer has an id, an optional instance number and parts
(``delsvar``). A part's plain text is in ``value``; typed content (a code, a date period) is kept as
the serialised XML of the ``delsvar``'s children in ``xml`` so that it travels unchanged into the
status update.

``to_snapshot``/``from_snapshot`` turn a certificate into JSON-safe data and back. The RADERA event
carries the whole certificate that way, because the deleted draft's row is gone by the time the
status update is built. ``content_to_json``/``content_from_json`` are the same mapping for content
alone (the store keeps content in one JSON column).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.directory import Assignment, CareGiver, Person, Personnel, Unit
from domain.drafts import Extension
from domain.values import CertificateStatus, HsaId, PersonId, PersonIdKind

SNAPSHOT_VERSION = 1


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
    """A stored certificate in any state; ``version`` grows by one with every stored change."""

    id: str
    type_code: str
    type_code_system: str
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
    revoke_reason: str | None = None
    copied_from: str | None = None

    @property
    def unit_id(self) -> HsaId:
        return self.unit.hsa_id

    @property
    def is_signed(self) -> bool:
        """Signed at some point: true for SIGNED and SENT, and for REVOKED after signing."""
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


# --- JSON mapping ------------------------------------------------------------------------------


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


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _hsa(value: HsaId | None) -> str | None:
    return value.value if value is not None else None


def _parse_hsa(value: str | None) -> HsaId | None:
    return HsaId(value) if value else None


def _unit(unit: Unit) -> dict[str, Any]:
    return {
        "hsa_id": unit.hsa_id.value,
        "name": unit.name,
        "care_giver": unit.care_giver.value,
        "parent": _hsa(unit.parent),
        "arbetsplatskod": unit.arbetsplatskod,
        "postal_address": unit.postal_address,
        "postal_code": unit.postal_code,
        "city": unit.city,
        "phone": unit.phone,
        "email": unit.email,
    }


def _person(person: Person) -> dict[str, Any]:
    return {
        "person_id_kind": person.person_id.kind.value,
        "person_id": person.person_id.digits,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "middle_name": person.middle_name,
        "postal_address": person.postal_address,
        "postal_code": person.postal_code,
        "city": person.city,
        "deceased": person.deceased,
        "protected_identity": person.protected_identity,
        "test_indicator": person.test_indicator,
    }


def _personnel(personnel: Personnel) -> dict[str, Any]:
    return {
        "hsa_id": personnel.hsa_id.value,
        "name": personnel.name,
        "licensed_professions": list(personnel.licensed_professions),
        "position_codes": list(personnel.position_codes),
        "group_prescriber_codes": list(personnel.group_prescriber_codes),
        "prescriber_code": personnel.prescriber_code,
        "assignments": [{"unit": a.unit.value, "purpose": a.purpose} for a in personnel.assignments],
    }


def to_snapshot(certificate: Certificate) -> dict[str, Any]:
    """The whole certificate as JSON-safe data (strings, numbers, booleans, lists, dicts, None)."""
    c = certificate
    return {
        "snapshot_version": SNAPSHOT_VERSION,
        "id": c.id,
        "type_code": c.type_code,
        "type_code_system": c.type_code_system,
        "status": c.status.value,
        "patient": _person(c.patient),
        "unit": _unit(c.unit),
        "care_giver": {"hsa_id": c.care_giver.hsa_id.value, "name": c.care_giver.name},
        "created_by": _personnel(c.created_by),
        "created_at": _time(c.created_at),
        "test_certificate": c.test_certificate,
        "ref": c.ref,
        "prefill_xml": c.prefill_xml,
        "extensions": [{"path": e.path, "xml": e.xml} for e in c.extensions],
        "content": content_to_json(c.content),
        "version": c.version,
        "updated_at": _time(c.updated_at),
        "ready_at": _time(c.ready_at),
        "ready_by": _hsa(c.ready_by),
        "signed_at": _time(c.signed_at),
        "signed_by": _hsa(c.signed_by),
        "signed_by_name": c.signed_by_name,
        "sent_at": _time(c.sent_at),
        "sent_to": c.sent_to,
        "locked_at": _time(c.locked_at),
        "revoked_at": _time(c.revoked_at),
        "revoked_by": _hsa(c.revoked_by),
        "revoke_reason": c.revoke_reason,
        "copied_from": c.copied_from,
    }


def from_snapshot(data: dict[str, Any]) -> Certificate:
    """The certificate ``to_snapshot`` described.

    Raises:
        KeyError, TypeError, ValueError: ``data`` is not a snapshot of a supported version.
    """
    if data.get("snapshot_version") != SNAPSHOT_VERSION:
        raise ValueError(f"unsupported certificate snapshot version {data.get('snapshot_version')!r}")
    patient, unit, issuer = data["patient"], data["unit"], data["created_by"]
    created_at = _parse_time(data["created_at"])
    if created_at is None:
        raise ValueError("a certificate snapshot needs created_at")
    return Certificate(
        id=data["id"],
        type_code=data["type_code"],
        type_code_system=data["type_code_system"],
        status=CertificateStatus(data["status"]),
        patient=Person(
            person_id=PersonId(PersonIdKind(patient["person_id_kind"]), patient["person_id"]),
            given_name=patient["given_name"],
            family_name=patient["family_name"],
            middle_name=patient["middle_name"],
            postal_address=patient["postal_address"],
            postal_code=patient["postal_code"],
            city=patient["city"],
            deceased=patient["deceased"],
            protected_identity=patient["protected_identity"],
            test_indicator=patient["test_indicator"],
        ),
        unit=Unit(
            hsa_id=HsaId(unit["hsa_id"]),
            name=unit["name"],
            care_giver=HsaId(unit["care_giver"]),
            parent=_parse_hsa(unit["parent"]),
            arbetsplatskod=unit["arbetsplatskod"],
            postal_address=unit["postal_address"],
            postal_code=unit["postal_code"],
            city=unit["city"],
            phone=unit["phone"],
            email=unit["email"],
        ),
        care_giver=CareGiver(HsaId(data["care_giver"]["hsa_id"]), data["care_giver"]["name"]),
        created_by=Personnel(
            hsa_id=HsaId(issuer["hsa_id"]),
            name=issuer["name"],
            licensed_professions=tuple(issuer["licensed_professions"]),
            position_codes=tuple(issuer["position_codes"]),
            group_prescriber_codes=tuple(issuer["group_prescriber_codes"]),
            prescriber_code=issuer["prescriber_code"],
            assignments=tuple(
                Assignment(HsaId(a["unit"]), a["purpose"]) for a in issuer["assignments"]
            ),
        ),
        created_at=created_at,
        test_certificate=data["test_certificate"],
        ref=data["ref"],
        prefill_xml=data["prefill_xml"],
        extensions=tuple(Extension(e["path"], e["xml"]) for e in data["extensions"]),
        content=content_from_json(data["content"]),
        version=data["version"],
        updated_at=_parse_time(data["updated_at"]),
        ready_at=_parse_time(data["ready_at"]),
        ready_by=_parse_hsa(data["ready_by"]),
        signed_at=_parse_time(data["signed_at"]),
        signed_by=_parse_hsa(data["signed_by"]),
        signed_by_name=data["signed_by_name"],
        sent_at=_parse_time(data["sent_at"]),
        sent_to=data["sent_to"],
        locked_at=_parse_time(data["locked_at"]),
        revoked_at=_parse_time(data["revoked_at"]),
        revoked_by=_parse_hsa(data["revoked_by"]),
        revoke_reason=data["revoke_reason"],
        copied_from=data["copied_from"],
    )
