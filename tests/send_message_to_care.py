"""Build SendMessageToCare v2 SOAP messages for tests, with keyword overrides.

The defaults describe a completion request (amne KOMPLT) from Försäkringskassan about certificate
``DEFAULT_CERTIFICATE_ID`` of patient 191212121212, addressed to unit SE2321000016-1000, with one
``komplettering`` and an answer deadline. A reminder sets ``amne="PAMINN"`` and
``reminder_of``; an answer sets ``answer_to`` (and usually ``deadline=None``, ``kompletteringar=()``).

Element helpers and namespaces come from ``tests.envelopes``, which states the wire format
independently of the production code. Wire reminders (contract 2.0): every child of
``SendMessageToCare`` is in the responder namespace except the children of ``svarPa``, which are in
core; ``svarPa`` comes before ``skickatAv``, ``komplettering`` and ``sistaDatumForSvar`` after it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from lxml import etree

from tests import envelopes as m
from tests.envelopes import Element

SMTC_NS = m.SMTC_NS
KV_AMNE = "ffa59d8f-8d7e-46ae-ac9e-31804e8e8499"
KV_PART = "769bb12b-bd9f-4203-a5cd-fd14f2eb3b80"

DEFAULT_CERTIFICATE_ID = "a3b5c6d7-0000-4000-8000-000000000001"
DEFAULT_MESSAGE_ID = "fk-msg-0001"
DEFAULT_RECIPIENT = m.DEFAULT_UNIT_HSA_ID

#: A completion request for question 1 of the certificate (frage-id, instans, text).
DEFAULT_KOMPLETTERINGAR: tuple[tuple[str, int | None, str], ...] = (
    ("1", None, "Beskriv arbetet närmare."),
)


def send_message_envelope(
    *,
    logical_address: str | None = DEFAULT_RECIPIENT,
    body: Element | None = None,
    **overrides: Any,
) -> bytes:
    """Return a complete SOAP 1.1 SendMessageToCare request; ``overrides`` go to :func:`send_message_body`."""
    if body is not None and overrides:
        raise TypeError("pass either body or body overrides, not both")
    headers = (
        [] if logical_address is None else [m.logical_address_header(logical_address)]
    )
    return m.soap_envelope(
        body if body is not None else send_message_body(**overrides), headers=headers
    )


def send_message_body(
    *,
    message_id: str = DEFAULT_MESSAGE_ID,
    reference_id: str | None = "fk-ref-1",
    sent_at: str = "2024-02-01T10:15:00",
    certificate_id: str = DEFAULT_CERTIFICATE_ID,
    certificate_root: str = m.DEFAULT_UNIT_HSA_ID,
    person_id: str = m.DEFAULT_PERSON_ID,
    person_id_root: str = m.PERSONNUMMER_ROOT,
    recipient: str = DEFAULT_RECIPIENT,
    amne: str = "KOMPLT",
    amne_display_name: str | None = None,
    heading: str | None = "Komplettering",
    text: str = "Vi behöver fler uppgifter.",
    reminder_of: str | None = None,
    answer_to: str | None = None,
    answer_to_reference: str | None = None,
    sender: str = "FKASSA",
    contact_info: Sequence[str] = ("Handläggare Svensson, 010-1234567",),
    kompletteringar: Sequence[tuple[str, int | None, str]] = DEFAULT_KOMPLETTERINGAR,
    deadline: str | None = "2024-03-01",
    extensions: Sequence[Element] = (),
) -> Element:
    """Return a ``SendMessageToCare`` element; optional elements are left out when their argument is None."""
    request = etree.Element(_smtc("SendMessageToCare"), nsmap=_nsmap())
    _sub(request, "meddelande-id", message_id)
    _optional(request, "referens-id", reference_id)
    _sub(request, "skickatTidpunkt", sent_at)
    _identifier(_sub(request, "intygs-id"), certificate_root, certificate_id)
    _identifier(_sub(request, "patientPerson-id"), person_id_root, person_id)
    _sub(request, "logiskAdressMottagare", recipient)
    amne_element = _sub(request, "amne")
    amne_element.append(m.element("types:code", amne))
    amne_element.append(m.element("types:codeSystem", KV_AMNE))
    if amne_display_name is not None:
        amne_element.append(m.element("types:displayName", amne_display_name))
    _optional(request, "rubrik", heading)
    _sub(request, "meddelande", text)
    _optional(request, "paminnelseMeddelande-id", reminder_of)
    if answer_to is not None:
        svar_pa = _sub(request, "svarPa")
        svar_pa.append(m.element("core:meddelande-id", answer_to))
        if answer_to_reference is not None:
            svar_pa.append(m.element("core:referens-id", answer_to_reference))
    skickat_av = _sub(request, "skickatAv")
    part = _sub(skickat_av, "part")
    part.append(m.element("types:code", sender))
    part.append(m.element("types:codeSystem", KV_PART))
    for info in contact_info:
        _sub(skickat_av, "kontaktInfo", info)
    for frage_id, instans, komplettering_text in kompletteringar:
        komplettering = _sub(request, "komplettering")
        _sub(komplettering, "frage-id", frage_id)
        if instans is not None:
            _sub(komplettering, "instans", str(instans))
        _sub(komplettering, "text", komplettering_text)
    _optional(request, "sistaDatumForSvar", deadline)
    for extension in extensions:
        request.append(copy.deepcopy(extension))
    return request


def question(**overrides: Any) -> bytes:
    """A question envelope (the defaults: KOMPLT with one komplettering and a deadline)."""
    return send_message_envelope(**overrides)


def reminder(reminder_of: str, **overrides: Any) -> bytes:
    """A PAMINN envelope reminding about ``reminder_of``; no komplettering."""
    values: dict[str, Any] = {
        "amne": "PAMINN",
        "heading": "Påminnelse",
        "kompletteringar": (),
    }
    return send_message_envelope(**{**values, "reminder_of": reminder_of, **overrides})


def answer(answer_to: str, amne: str = "KOMPLT", **overrides: Any) -> bytes:
    """An answer envelope to ``answer_to``: no komplettering and no deadline."""
    values: dict[str, Any] = {
        "amne": amne,
        "heading": "Svar",
        "kompletteringar": (),
        "deadline": None,
    }
    return send_message_envelope(**{**values, "answer_to": answer_to, **overrides})


def send_message_response_body(
    *,
    result_code: str = "OK",
    result_text: str | None = None,
    error_id: str | None = None,
    extensions: Sequence[Element] = (),
) -> Element:
    """Return a ``SendMessageToCareResponse``: ``result`` (core ResultType) and extensions."""
    response = etree.Element(_smtc("SendMessageToCareResponse"), nsmap=_nsmap())
    result = _sub(response, "result")
    result.append(m.element("core:resultCode", result_code))
    if result_text is not None:
        result.append(m.element("core:resultText", result_text))
    if error_id is not None:
        result.append(m.element("core:errorId", error_id))
    for extension in extensions:
        response.append(copy.deepcopy(extension))
    return response


def _identifier(parent: Element, root: str, extension: str) -> None:
    parent.append(m.element("types:root", root))
    parent.append(m.element("types:extension", extension))


def _optional(parent: Element, name: str, text: str | None) -> None:
    if text is not None:
        _sub(parent, name, text)


def _sub(parent: Element, name: str, text: str | None = None) -> Element:
    built = etree.SubElement(parent, _smtc(name))
    built.text = text
    return built


def _smtc(name: str) -> str:
    return f"{{{SMTC_NS}}}{name}"


def _nsmap() -> dict[str, str]:
    return {"smtc": SMTC_NS, "core": m.CORE_NS, "types": m.TYPES_NS}


def zeep_arguments(
    *,
    message_id: str = DEFAULT_MESSAGE_ID,
    certificate_id: str = DEFAULT_CERTIFICATE_ID,
    person_id: str = m.DEFAULT_PERSON_ID,
    amne: str = "KOMPLT",
    reminder_of: str | None = None,
    answer_to: str | None = None,
    kompletteringar: Sequence[tuple[str, int | None, str]] = DEFAULT_KOMPLETTERINGAR,
    deadline: str | None = "2024-03-01",
) -> dict[str, Any]:
    """The keyword arguments of a zeep ``SendMessageToCare`` call with the same meaning as the builder's.

    zeep leaves out None values, so optional elements follow the arguments as in :func:`send_message_body`.
    """
    return {
        "meddelande-id": message_id,
        "referens-id": "fk-ref-1",
        "skickatTidpunkt": "2024-02-01T10:15:00",
        "intygs-id": {"root": m.DEFAULT_UNIT_HSA_ID, "extension": certificate_id},
        "patientPerson-id": {"root": m.PERSONNUMMER_ROOT, "extension": person_id},
        "logiskAdressMottagare": DEFAULT_RECIPIENT,
        "amne": {"code": amne, "codeSystem": KV_AMNE},
        "rubrik": "Rubrik",
        "meddelande": "Meddelandets text.",
        "paminnelseMeddelande-id": reminder_of,
        "svarPa": None if answer_to is None else {"meddelande-id": answer_to},
        "skickatAv": {
            "part": {"code": "FKASSA", "codeSystem": KV_PART},
            "kontaktInfo": ["010-1234567"],
        },
        "komplettering": [
            {"frage-id": frage_id, "instans": instans, "text": text}
            for frage_id, instans, text in kompletteringar
        ],
        "sistaDatumForSvar": deadline,
    }
