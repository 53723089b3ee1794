"""Read a schema-valid ``SendMessageToCare`` element into an ``IncomingMessage``.

No rules and no I/O here: strings are taken as sent so that the domain checks can report them.
Two conversions need the wire format and so happen here: ``skickatTidpunkt`` is local Swedish time
without a zone (``types:TimeStampType``), made aware in Europe/Stockholm; ``sistaDatumForSvar`` is
a ``types:DateType``. The schema has already guaranteed both patterns (and ``instans`` is an int).
"""

from __future__ import annotations

from datetime import date, datetime

from lxml import etree

from contracts.ns import CORE, SEND_MESSAGE_V2, TYPES, qname
from contracts.xmlparse import required_at as _required
from contracts.xmlparse import text_at as _text
from domain.arenden import IncomingMessage, Komplettering, MessageReference
from domain.values import SWEDISH_TIME

_S = SEND_MESSAGE_V2


def _own(name: str) -> str:
    return qname(_S, name)


def read_request(body: etree._Element, logical_address: str) -> IncomingMessage:
    """Turn the request element into domain values."""
    svar_pa = body.find(_own("svarPa"))
    skickat_av = body.find(_own("skickatAv"))
    deadline = _text(body, _own("sistaDatumForSvar"))
    return IncomingMessage(
        message_id=_required(body, _own("meddelande-id")),
        reference_id=_text(body, _own("referens-id")),
        sent_at=datetime.fromisoformat(
            _required(body, _own("skickatTidpunkt")).strip()
        ).replace(tzinfo=SWEDISH_TIME),
        certificate_id=_required(
            body, _own("intygs-id"), qname(TYPES, "extension")
        ).strip(),
        person_id_root=_required(body, _own("patientPerson-id"), qname(TYPES, "root")),
        person_id=_required(body, _own("patientPerson-id"), qname(TYPES, "extension")),
        recipient=_required(body, _own("logiskAdressMottagare")),
        amne=_required(body, _own("amne"), qname(TYPES, "code")).strip(),
        heading=_text(body, _own("rubrik")),
        text=_required(body, _own("meddelande")),
        reminder_of=_text(body, _own("paminnelseMeddelande-id")),
        answer_to=None
        if svar_pa is None
        else MessageReference(
            _required(svar_pa, qname(CORE, "meddelande-id")),
            _text(svar_pa, qname(CORE, "referens-id")),
        ),
        sender_part=_required(skickat_av, _own("part"), qname(TYPES, "code")).strip(),
        contact_info=tuple(
            info.text or ""
            for info in (skickat_av if skickat_av is not None else [])
            if info.tag == _own("kontaktInfo")
        ),
        kompletteringar=tuple(
            _komplettering(k) for k in body.iterchildren(_own("komplettering"))
        ),
        deadline=date.fromisoformat(deadline.strip()) if deadline is not None else None,
        logical_address=logical_address,
    )


def _komplettering(element: etree._Element) -> Komplettering:
    instance = _text(element, _own("instans"))
    return Komplettering(
        question_id=_required(element, _own("frage-id")).strip(),
        instance=int(instance) if instance is not None else None,
        text=_required(element, _own("text")),
    )
