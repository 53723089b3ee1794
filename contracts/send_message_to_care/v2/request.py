"""Read a schema-valid ``SendMessageToCare`` element into an ``IncomingMessage``, and write one.

Writing is the recipient simulator's side (``intygsgateway mock-recipient`` acts as Försäkringskassan):
``write_request`` is the inverse of ``read_request``.

No rules and no I/O here: strings are taken as sent so that the domain checks can report them.
Two conversions need the wire format and so happen here: ``skickatTidpunkt`` is local Swedish time
without a zone (``types:TimeStampType``), made aware in Europe/Stockholm; ``sistaDatumForSvar`` is
a ``types:DateType``. The schema has already guaranteed both patterns (and ``instans`` is an int).
"""

from __future__ import annotations

from datetime import date, datetime

from lxml import etree

from contracts.intyg import add_message_reference, code, identifier, local_time, sub
from contracts.ns import CORE, SEND_MESSAGE_V2, TYPES, qname
from contracts.xmlparse import children_by_tag, required_in, text_in
from contracts.xmlparse import required_at as _required
from contracts.xmlparse import text_at as _text
from domain.arenden import AMNE_NAMES, KV_AMNE, KV_PART, Amne, IncomingMessage, Komplettering, MessageReference
from domain.values import SWEDISH_TIME

_S = SEND_MESSAGE_V2


def _own(name: str) -> str:
    return qname(_S, name)


# The tags ``read_request`` looks for, built once.
_MESSAGE_ID, _REFERENCE_ID, _SENT_AT, _CERTIFICATE, _PATIENT = (
    _own(name) for name in ("meddelande-id", "referens-id", "skickatTidpunkt", "intygs-id", "patientPerson-id")
)
_RECIPIENT, _AMNE, _HEADING, _TEXT, _REMINDER_OF, _ANSWER_TO, _SENT_BY, _CONTACT, _DEADLINE = (
    _own(name) for name in ("logiskAdressMottagare", "amne", "rubrik", "meddelande", "paminnelseMeddelande-id",
                            "svarPa", "skickatAv", "kontaktInfo", "sistaDatumForSvar")
)
_KOMPLETTERING, _QUESTION_ID, _INSTANCE, _KOMPLETTERING_TEXT, _PART = (
    _own(name) for name in ("komplettering", "frage-id", "instans", "text", "part")
)
_ROOT, _EXTENSION, _CODE = (qname(TYPES, name) for name in ("root", "extension", "code"))
_CORE_MESSAGE_ID, _CORE_REFERENCE_ID = qname(CORE, "meddelande-id"), qname(CORE, "referens-id")


def read_request(body: etree._Element, logical_address: str) -> IncomingMessage:
    """Turn the request element into domain values (its children looked up in one pass)."""
    at = children_by_tag(body)
    svar_pa = at.get(_ANSWER_TO)
    skickat_av = at.get(_SENT_BY)
    patient = at.get(_PATIENT)
    deadline = text_in(at, _DEADLINE)
    return IncomingMessage(
        message_id=required_in(at, _MESSAGE_ID),
        reference_id=text_in(at, _REFERENCE_ID),
        sent_at=datetime.fromisoformat(required_in(at, _SENT_AT).strip()).replace(tzinfo=SWEDISH_TIME),
        certificate_id=_required(at.get(_CERTIFICATE), _EXTENSION).strip(),
        person_id_root=_required(patient, _ROOT),
        person_id=_required(patient, _EXTENSION),
        recipient=required_in(at, _RECIPIENT),
        amne=_required(at.get(_AMNE), _CODE).strip(),
        heading=text_in(at, _HEADING),
        text=required_in(at, _TEXT),
        reminder_of=text_in(at, _REMINDER_OF),
        answer_to=None
        if svar_pa is None
        else MessageReference(_required(svar_pa, _CORE_MESSAGE_ID), _text(svar_pa, _CORE_REFERENCE_ID)),
        sender_part=_required(skickat_av, _PART, _CODE).strip(),
        contact_info=tuple(
            info.text or "" for info in (skickat_av if skickat_av is not None else []) if info.tag == _CONTACT
        ),
        kompletteringar=tuple(_komplettering(k) for k in body.iterchildren(_KOMPLETTERING)),
        deadline=date.fromisoformat(deadline.strip()) if deadline is not None else None,
        logical_address=logical_address,
    )


def _komplettering(element: etree._Element) -> Komplettering:
    instance = _text(element, _INSTANCE)
    return Komplettering(
        question_id=_required(element, _QUESTION_ID).strip(),
        instance=int(instance) if instance is not None else None,
        text=_required(element, _KOMPLETTERING_TEXT),
    )


REQUEST_TAG = _own("SendMessageToCare")
#: The binding's soapAction in our WSDL.
SOAP_ACTION = f"{SEND_MESSAGE_V2}:SendMessageToCare"


def write_request(message: IncomingMessage, certificate_root: str = "") -> etree._Element:
    """The ``SendMessageToCare`` element ``read_request`` reads back as ``message`` (the header's
    LogicalAddress aside): what a recipient sends care. ``certificate_root`` is ``intygs-id/root``
    (the issuing unit, when the sender knows it)."""
    body = etree.Element(REQUEST_TAG, nsmap={"smtc": _S, "core": CORE, "types": TYPES})
    sub(body, _S, "meddelande-id", message.message_id)
    if message.reference_id is not None:
        sub(body, _S, "referens-id", message.reference_id)
    sub(body, _S, "skickatTidpunkt", local_time(message.sent_at))
    identifier(body, "intygs-id", certificate_root, message.certificate_id, _S)
    identifier(body, "patientPerson-id", message.person_id_root, message.person_id, _S)
    sub(body, _S, "logiskAdressMottagare", message.recipient)
    known = Amne(message.amne) if message.amne in Amne.__members__ else None
    code(body, "amne", message.amne, KV_AMNE, AMNE_NAMES[known] if known else None, _S)
    if message.heading is not None:
        sub(body, _S, "rubrik", message.heading)
    sub(body, _S, "meddelande", message.text)
    if message.reminder_of is not None:
        sub(body, _S, "paminnelseMeddelande-id", message.reminder_of)
    if message.answer_to is not None:
        add_message_reference(sub(body, _S, "svarPa"), message.answer_to)
    skickat_av = sub(body, _S, "skickatAv")
    code(skickat_av, "part", message.sender_part, KV_PART, None, _S)
    for info in message.contact_info:
        sub(skickat_av, _S, "kontaktInfo", info)
    for komplettering in message.kompletteringar:
        holder = sub(body, _S, "komplettering")
        sub(holder, _S, "frage-id", komplettering.question_id)
        if komplettering.instance is not None:
            sub(holder, _S, "instans", str(komplettering.instance))
        sub(holder, _S, "text", komplettering.text)
    if message.deadline is not None:
        sub(body, _S, "sistaDatumForSvar", message.deadline.isoformat())
    return body
