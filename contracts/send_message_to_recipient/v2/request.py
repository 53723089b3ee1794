"""Write the SendMessageToRecipient 2.1 request as the incumbent builds it (onward-flows.md §5.1-5.2),
and read one back.

``meddelande-id`` is the id the gateway gave the message when care wrote it (so a resend carries the
same id, and the recipient can tell a repeat); ``logiskAdressMottagare`` is the recipient's logical
address, also when the call goes to the archive; ``amne`` is the topic with KV_ÄMNE and Webcert's
name for it; ``skickatAv`` is the author at the certificate's unit. An answer carries ``svarPa`` (the
question's meddelande-id and its referens-id); a question may carry ``sistaDatumForSvar``. There is
no ``komplettering`` in this contract (only the recipient asks for completions).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from lxml import etree

from contracts.intyg import (
    add_amne,
    add_hos_personal,
    add_message_reference,
    identifier,
    local_time,
    person_id,
    sub,
)
from contracts.ns import CORE, SEND_MESSAGE_TO_RECIPIENT_V2, TYPES, qname
from contracts.xmlparse import required_at, text_at
from domain.certificates import Certificate
from domain.onward import OutgoingMessage

REQUEST_TAG = qname(SEND_MESSAGE_TO_RECIPIENT_V2, "SendMessageToRecipient")
SOAP_ACTION = f"{SEND_MESSAGE_TO_RECIPIENT_V2}:SendMessageToRecipient"
_NSMAP = {"smtr": SEND_MESSAGE_TO_RECIPIENT_V2, "core": CORE, "types": TYPES}
_M = SEND_MESSAGE_TO_RECIPIENT_V2


def build_message_to_recipient(certificate: Certificate, message: OutgoingMessage) -> etree._Element:
    """The ``SendMessageToRecipient`` body for ``message`` about ``certificate``."""
    request = etree.Element(REQUEST_TAG, nsmap=_NSMAP)
    sub(request, _M, "meddelande-id", message.message_id)
    sub(request, _M, "skickatTidpunkt", local_time(message.sent_at))
    identifier(request, "intygs-id", certificate.unit_id.value, certificate.id, _M)
    person_id(request, _M, "patientPerson-id", certificate.patient.person_id)
    sub(request, _M, "logiskAdressMottagare", message.recipient_address)
    add_amne(request, _M, "amne", message.amne)
    if message.heading:
        sub(request, _M, "rubrik", message.heading)
    sub(request, _M, "meddelande", message.text)
    if message.answer_to is not None:
        add_message_reference(sub(request, _M, "svarPa"), message.answer_to)
    add_hos_personal(sub(request, _M, "skickatAv"), message.author.hsa_id, message.author.name, certificate.unit,
                     certificate.care_giver)
    if message.deadline is not None and message.answer_to is None:
        sub(request, _M, "sistaDatumForSvar", message.deadline.isoformat())
    return request


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """What a recipient reads of care's message: its id, the certificate and patient, what it is."""

    message_id: str
    certificate_id: str
    patient_root: str
    patient_id: str
    recipient_address: str
    amne: str
    answer_to: str | None
    reminder_of: str | None
    deadline: str | None


def read_message(body: etree._Element) -> ReceivedMessage:
    """Read a schema-valid ``SendMessageToRecipient`` element."""
    m, t = partial(qname, _M), partial(qname, TYPES)
    return ReceivedMessage(
        message_id=required_at(body, m("meddelande-id")).strip(),
        certificate_id=required_at(body, m("intygs-id"), t("extension")).strip(),
        patient_root=required_at(body, m("patientPerson-id"), t("root")).strip(),
        patient_id=required_at(body, m("patientPerson-id"), t("extension")).strip(),
        recipient_address=required_at(body, m("logiskAdressMottagare")).strip(),
        amne=required_at(body, m("amne"), t("code")).strip(),
        answer_to=text_at(body, m("svarPa"), qname(CORE, "meddelande-id")),
        reminder_of=text_at(body, m("paminnelseMeddelande-id")),
        deadline=text_at(body, m("sistaDatumForSvar")),
    )
