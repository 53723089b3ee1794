"""Ärenden: the questions, reminders and answers exchanged about a certificate.

A message from a recipient arrives with SendMessageToCare as an ``IncomingMessage``: read off the
wire (``contracts.send_message_to_care.v2.request``), typed but unchecked, so that the rules in
``domain.message_checks`` can report every problem. Once accepted it is stored as an ``Arende``,
and so is every message care writes (a question to the recipient, an answer to one of its
questions). What a message *is* follows Webcert's reading of the contract:

* an **answer** carries ``svarPa`` (and its amne is not PAMINN); it marks its question answered;
* a **reminder** (påminnelse) has amne PAMINN and names the question it reminds about in
  ``paminnelseMeddelande-id``; it changes nothing about that question and cannot be answered;
* anything else is a **question**, open until answered or handled (hanterad).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from domain.values import EventCode, HsaId, PersonId

KV_AMNE = "ffa59d8f-8d7e-46ae-ac9e-31804e8e8499"
KV_PART = "769bb12b-bd9f-4203-a5cd-fd14f2eb3b80"


class Amne(StrEnum):
    """The subjects (ämne, KV_ÄMNE) a message may have; the schema does not enumerate them."""

    KOMPLT = "KOMPLT"  # kompletteringsbegäran: the recipient asks for more on given questions
    KONTKT = "KONTKT"  # contact
    AVSTMN = "AVSTMN"  # avstämningsmöte
    OVRIGT = "OVRIGT"  # other
    PAMINN = "PAMINN"  # reminder of an earlier question


#: How Webcert names each ämne in ``displayName``.
AMNE_NAMES: dict[Amne, str] = {
    Amne.KOMPLT: "Komplettering",
    Amne.KONTKT: "Kontakt",
    Amne.AVSTMN: "Avstämningsmöte",
    Amne.OVRIGT: "Övrigt",
    Amne.PAMINN: "Påminnelse",
}

#: Part codes (KV_PART) of the recipients the national hub knows; ``skickatAv`` must be one of them.
KNOWN_PARTS = frozenset({"FKASSA", "TRANSP", "HSVARD", "INVANA", "SKV", "SOS", "AF"})
#: The part code care writes as sender of its own messages.
CARE_PART = "HSVARD"


class DeliveryState(StrEnum):
    """How far a message care wrote got towards the recipient (SendMessageToRecipient).

    PENDING until the recipient (or the archive) accepted it, then DELIVERED; FAILED when it was
    refused for good or every retry was spent (the detail says why); CANCELLED when the certificate
    was revoked before it went out. Messages from the recipient have none.
    """

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Direction(StrEnum):
    """Who wrote a message: the certificate's recipient (FK) or care (the gateway's users)."""

    FROM_RECIPIENT = "FROM_RECIPIENT"
    FROM_CARE = "FROM_CARE"


class ArendeStatus(StrEnum):
    """Where a question is; answers and reminders keep the status they were stored with."""

    OPEN = "OPEN"  # waiting for an answer
    ANSWERED = "ANSWERED"  # an answer to it has been stored (an answer itself is stored ANSWERED)
    HANDLED = (
        "HANDLED"  # hanterad: closed by a user, or because the certificate was revoked
    )


@dataclass(frozen=True, slots=True)
class MessageReference:
    """``svarPa``: the question an answer answers (its meddelande-id and the sender's reference)."""

    message_id: str
    reference_id: str | None = None


class MessageKind:
    """What a message is, read from its amne and svarPa; shared by the incoming and the stored form."""

    __slots__ = ()
    amne: str
    answer_to: MessageReference | None

    @property
    def is_reminder(self) -> bool:
        return self.amne == Amne.PAMINN

    @property
    def is_answer(self) -> bool:
        return self.answer_to is not None and not self.is_reminder

    @property
    def is_question(self) -> bool:
        return not (self.is_answer or self.is_reminder)


@dataclass(frozen=True, slots=True)
class Komplettering:
    """One question of the certificate the recipient wants completed (``frage-id``, ``instans``)."""

    question_id: str
    instance: int | None
    text: str


@dataclass(frozen=True, slots=True)
class IncomingMessage(MessageKind):
    """A SendMessageToCare request, read but not yet checked.

    ``amne`` is the code as sent (it may not be an ``Amne``); ``sent_at`` is the sender's
    ``skickatTidpunkt`` made aware (the wire's local Swedish time). The patient is kept as sent:
    ``person_id_root`` and ``person_id`` are compared with the certificate's patient by the rules.
    """

    message_id: str
    reference_id: str | None
    sent_at: datetime
    certificate_id: str
    person_id_root: str
    person_id: str
    recipient: str
    amne: str
    heading: str | None
    text: str
    reminder_of: str | None
    answer_to: MessageReference | None
    sender_part: str
    contact_info: tuple[str, ...]
    kompletteringar: tuple[Komplettering, ...]
    deadline: date | None
    logical_address: str = ""


def fingerprint(message: IncomingMessage) -> str:
    """A digest of everything a message says, to tell a resent message from a reused meddelande-id.

    The LogicalAddress header is left out (written as empty): it is routing, and a resend through
    another route is still the same message.
    """
    plain = _plain(message)
    plain["logical_address"] = ""
    text = json.dumps(plain, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """``value`` as ``dataclasses.asdict`` would give it, without its deep copies (a hot path).

    The digests stored in ``content_hash`` were made from ``asdict``: this must give the same JSON.
    """
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    names = _field_names(type(value))
    if names is None:
        return value
    return {name: _plain(getattr(value, name)) for name in names}


#: ``_field_names``' answers, by type (a handful: the message's own dataclasses and its values' types).
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass, in order, or None for any other type (looked up once per type:
    ``fields`` builds its answer anew on every call, for each of a message's nested values)."""
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        names = tuple(field.name for field in fields(kind)) if is_dataclass(kind) else None
        _FIELD_NAMES[kind] = names
        return names


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationEntry(MessageKind):
    """A stored message as the checks and the question counts of a new message see it.

    Its identity, kind and state, without its content. Receiving a message reads every stored
    message of the certificate (the counts in its event need them all), so the store reads only
    these columns there: the cost per message stays small however long the conversation grows.
    ``content_hash`` is ``fingerprint`` of the incoming message (None for messages from care).
    """

    message_id: str
    certificate_id: str
    direction: Direction
    status: ArendeStatus
    amne: Amne
    reminder_of: str | None = None
    answer_to: MessageReference | None = None
    content_hash: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Arende(ConversationEntry):
    """A stored message about a certificate: a question, a reminder or an answer, in either direction.

    ``received_at`` is when the gateway stored it. ``answered_at`` is set on a question when its
    answer arrives; ``handled_at``/``handled_by`` when it is marked handled (``handled_by`` is None
    when the gateway closed it itself). ``author`` is the care user who wrote a message from care.
    """

    text: str
    sent_at: datetime
    received_at: datetime
    sender_part: str
    patient: PersonId
    recipient: str = ""
    reference_id: str | None = None
    heading: str | None = None
    contact_info: tuple[str, ...] = ()
    kompletteringar: tuple[Komplettering, ...] = ()
    deadline: date | None = None
    answered_at: datetime | None = None
    handled_at: datetime | None = None
    handled_by: HsaId | None = None
    author: HsaId | None = None
    delivery: DeliveryState | None = None  # care's messages: their way to the recipient
    delivery_detail: str | None = None  # why a delivery failed


def handled_code(question: Arende) -> EventCode:
    """The status-update code of a question marked handled, or opened again: HANFRFM for the
    recipient's question, HANFRFV for care's own (KV_HANDELSE, schema v3)."""
    return EventCode.HANFRFM if question.direction is Direction.FROM_RECIPIENT else EventCode.HANFRFV


def arende_to_json(arende: Arende) -> dict[str, Any]:
    """An ärende as JSON-safe data, as the operations API shows it and a care giver's export keeps it.

    The patient is the certificate's, so it is left out; times are ISO 8601, codes their values.
    """
    return {
        "messageId": arende.message_id,
        "direction": arende.direction.value,
        "status": arende.status.value,
        "amne": arende.amne.value,
        "heading": arende.heading,
        "text": arende.text,
        "sentAt": arende.sent_at.isoformat(),
        "receivedAt": arende.received_at.isoformat(),
        "senderPart": arende.sender_part,
        "recipient": arende.recipient,
        "contactInfo": list(arende.contact_info),
        "referenceId": arende.reference_id,
        "reminderOf": arende.reminder_of,
        "answerTo": arende.answer_to.message_id if arende.answer_to else None,
        "kompletteringar": [
            {"questionId": k.question_id, "instance": k.instance, "text": k.text}
            for k in arende.kompletteringar
        ],
        "deadline": arende.deadline.isoformat() if arende.deadline else None,
        "answeredAt": arende.answered_at.isoformat() if arende.answered_at else None,
        "handledAt": arende.handled_at.isoformat() if arende.handled_at else None,
        "handledBy": arende.handled_by.value if arende.handled_by else None,
        "author": arende.author.value if arende.author else None,
        "delivery": arende.delivery.value if arende.delivery else None,
        "deliveryDetail": arende.delivery_detail,
    }
