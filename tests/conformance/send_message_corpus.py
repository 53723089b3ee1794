"""SendMessageToCare 2.0 messages built with ``tests.send_message_to_care``: labelled requests and responses.

Valid cases reach every optional element and every ``##other`` wildcard of the request and the
response. Invalid cases break one rule each: a missing required element, wrong order (``svarPa``
after ``skickatAv``, ``sistaDatumForSvar`` before ``komplettering``), a child in the wrong
namespace, too many occurrences, a pattern (time stamp, date, frage-id, person id), a fixed code
system, an ``int``, an element of the contract's own namespace at a ``##other`` wildcard, and an
extension where there is none. A schema that loosened any of these rules would accept one of them.
"""

from __future__ import annotations

from typing import Any

from tests import envelopes as m
from tests import send_message_to_care as s
from tests.conformance.corpus import Corpus
from tests.conformance.edits import (
    append,
    duplicate,
    foreign,
    move_after,
    remove,
    rename,
    set_text,
)
from tests.conformance.schemas import RootSchema
from tests.envelopes import Element

SCHEMA = RootSchema(
    domain="clinicalprocess-healthcond-certificate",
    imports={
        s.SMTC_NS: "interactions/SendMessageToCareInteraction/SendMessageToCareResponder_2.0.xsd",
        m.ITR_NS: "core_components/itintegration_registry_1.0.xsd",
    },
)

CORPUS = Corpus("SendMessageToCare 2.0")
valid = CORPUS.valid
invalid = CORPUS.invalid


def request(body: Element | None = None, **overrides: Any) -> bytes:
    """Wrap a (possibly broken) body in a request envelope with the LogicalAddress header."""
    return s.send_message_envelope(
        body=body if body is not None else s.send_message_body(**overrides)
    )


def response(body: Element) -> bytes:
    """Wrap a response body; responses carry no header."""
    return m.soap_envelope(body)


def answer_body(**overrides: Any) -> Element:
    """An answer with a full svarPa (meddelande-id and referens-id)."""
    values: dict[str, Any] = {
        "amne": "KOMPLT",
        "answer_to": "fk-msg-0001",
        "answer_to_reference": "ref",
        "kompletteringar": (),
        "deadline": None,
    }
    return s.send_message_body(**{**values, **overrides})


# --- valid requests ---------------------------------------------------------------------------


@valid
def question_with_komplettering_and_deadline() -> bytes:
    """The builder's default: KOMPLT with a komplettering, contact info and sistaDatumForSvar."""
    return request()


@valid
def minimal_question() -> bytes:
    """Only the required elements: no referens-id, rubrik, kontaktInfo, komplettering or deadline."""
    return request(
        reference_id=None,
        heading=None,
        contact_info=(),
        kompletteringar=(),
        deadline=None,
        amne="OVRIGT",
    )


@valid
def reminder_with_paminnelse_id() -> bytes:
    """paminnelseMeddelande-id sits between meddelande and svarPa."""
    return s.reminder("fk-msg-0001", message_id="fk-msg-0002")


@valid
def answer_with_full_svar_pa() -> bytes:
    """svarPa has the core MeddelandeReferens type: meddelande-id and referens-id are in core."""
    return request(answer_body())


@valid
def every_optional_element_at_once() -> bytes:
    """referens-id, rubrik, paminnelseMeddelande-id, svarPa, kontaktInfo twice, komplettering with instans."""
    return request(
        amne_display_name="Komplettering",
        reminder_of="fk-msg-0000",
        answer_to="fk-msg-0001",
        answer_to_reference="r",
        contact_info=("a", "b"),
        kompletteringar=(("1", 1, "x"), ("27", 2, "y")),
    )


@valid
def extensions_at_every_wildcard() -> bytes:
    """Foreign elements at the end of the request, skickatAv, komplettering and svarPa."""
    body = append(
        answer_body(kompletteringar=(("1", None, "x"),), extensions=[foreign()]),
        "smtc:skickatAv",
        foreign(),
    )
    append(body, "smtc:komplettering", foreign())
    return request(append(body, "smtc:svarPa", foreign()))


@valid
def any_amne_and_part_code_passes_the_schema() -> bytes:
    """Amneskod and Part fix only the code system: unknown codes are the rules' business."""
    return request(amne="NOSUCH", sender="NOSUCH")


@valid
def empty_strings_in_plain_string_elements() -> bytes:
    """meddelande-id, logiskAdressMottagare and meddelande are plain xs:string: empty is schema-valid."""
    return request(message_id="", recipient="", text="")


@valid
def samordningsnummer_patient() -> bytes:
    """patientPerson-id may carry the samordningsnummer OID."""
    return request(person_id="191212721212", person_id_root=m.SAMORDNINGSNUMMER_ROOT)


@valid
def empty_logical_address_header() -> bytes:
    """LogicalAddress is a plain string: empty is valid."""
    return s.send_message_envelope(logical_address="")


# --- invalid requests -------------------------------------------------------------------------


@invalid
def missing_meddelande_id() -> bytes:
    """meddelande-id is required."""
    return request(remove(s.send_message_body(), "smtc:meddelande-id"))


@invalid
def missing_skickat_av() -> bytes:
    """skickatAv is required."""
    return request(remove(s.send_message_body(), "smtc:skickatAv"))


@invalid
def missing_meddelande() -> bytes:
    """meddelande is required."""
    return request(remove(s.send_message_body(), "smtc:meddelande"))


@invalid
def missing_logisk_adress_mottagare() -> bytes:
    """logiskAdressMottagare is required."""
    return request(remove(s.send_message_body(), "smtc:logiskAdressMottagare"))


@invalid
def svar_pa_after_skickat_av() -> bytes:
    """svarPa comes before skickatAv."""
    return request(move_after(answer_body(), "smtc:svarPa", "smtc:skickatAv"))


@invalid
def deadline_before_komplettering() -> bytes:
    """sistaDatumForSvar comes after komplettering."""
    return request(
        move_after(
            s.send_message_body(), "smtc:komplettering", "smtc:sistaDatumForSvar"
        )
    )


@invalid
def svar_pa_children_in_responder_namespace() -> bytes:
    """svarPa's children are in core, not in the responder namespace."""
    return request(
        rename(answer_body(), "smtc:svarPa/core:meddelande-id", "smtc:meddelande-id")
    )


@invalid
def timestamp_with_milliseconds() -> bytes:
    """skickatTidpunkt has no fraction."""
    return request(sent_at="2024-02-01T10:15:00.000")


@invalid
def timestamp_with_zone() -> bytes:
    """skickatTidpunkt has no zone."""
    return request(sent_at="2024-02-01T10:15:00Z")


@invalid
def deadline_not_a_date() -> bytes:
    """sistaDatumForSvar is YYYY-MM-DD."""
    return request(deadline="2024-3-1")


@invalid
def frage_id_not_a_number() -> bytes:
    """frage-id is the core FrageIdType: digits only."""
    return request(kompletteringar=(("1.1", None, "x"),))


@invalid
def instans_not_an_int() -> bytes:
    """komplettering/instans is an xs:int."""
    return request(
        set_text(
            s.send_message_body(kompletteringar=(("1", 1, "x"),)),
            "smtc:komplettering/smtc:instans",
            "ett",
        )
    )


@invalid
def person_id_with_dash() -> bytes:
    """patientPerson-id/extension is twelve digits."""
    return request(person_id="19121212-1212")


@invalid
def wrong_amne_code_system() -> bytes:
    """amne's codeSystem is fixed to KV_ÄMNE."""
    return request(
        set_text(s.send_message_body(), "smtc:amne/types:codeSystem", "1.2.3")
    )


@invalid
def wrong_part_code_system() -> bytes:
    """skickatAv/part's codeSystem is fixed to KV_PART."""
    return request(
        set_text(
            s.send_message_body(), "smtc:skickatAv/smtc:part/types:codeSystem", "1.2.3"
        )
    )


@invalid
def intygs_id_without_extension() -> bytes:
    """IntygId requires extension."""
    return request(remove(s.send_message_body(), "smtc:intygs-id/types:extension"))


@invalid
def two_amne() -> bytes:
    """amne occurs once."""
    return request(duplicate(s.send_message_body(), "smtc:amne"))


@invalid
def two_svar_pa() -> bytes:
    """svarPa occurs at most once."""
    return request(duplicate(answer_body(), "smtc:svarPa"))


@invalid
def responder_element_at_request_wildcard() -> bytes:
    """The trailing wildcard is ##other: an undeclared responder-namespace element is refused."""
    return request(append(s.send_message_body(), ".", m.element("smtc:extra", "x")))


@invalid
def extension_inside_amne() -> bytes:
    """Amneskod has no wildcard."""
    return request(append(s.send_message_body(), "smtc:amne", foreign()))


@invalid
def komplettering_without_text() -> bytes:
    """komplettering/text is required."""
    return request(remove(s.send_message_body(), "smtc:komplettering/smtc:text"))


@invalid
def unknown_body_element() -> bytes:
    """The body must be SendMessageToCare (or its response), nothing else of the namespace."""
    return request(m.element("smtc:SendMessageToCareRequest", "x"))


# --- responses --------------------------------------------------------------------------------


@valid
def response_ok() -> bytes:
    """Success: OK only."""
    return response(s.send_message_response_body())


@valid
def response_info_with_extensions() -> bytes:
    """INFO with a text, and foreign elements after result and inside it."""
    body = s.send_message_response_body(
        result_code="INFO", result_text="Redan mottaget", extensions=[foreign()]
    )
    return response(append(body, "smtc:result", foreign()))


@valid
def response_error() -> bytes:
    """ERROR with resultText and errorId in that order."""
    return response(
        s.send_message_response_body(
            result_code="ERROR", result_text="Fel", error_id="VALIDATION_ERROR"
        )
    )


@invalid
def response_without_result() -> bytes:
    """result is required."""
    return response(remove(s.send_message_response_body(), "smtc:result"))


@invalid
def response_error_id_before_text() -> bytes:
    """resultText comes before errorId."""
    body = s.send_message_response_body(
        result_code="ERROR", result_text="x", error_id="APPLICATION_ERROR"
    )
    return response(
        move_after(body, "smtc:result/core:resultText", "smtc:result/core:errorId")
    )


@invalid
def response_unknown_result_code() -> bytes:
    """resultCode is OK, INFO or ERROR."""
    return response(s.send_message_response_body(result_code="DONE"))
