"""SendMessageToRecipient 2.1: care's question or answer, sent as a HosPersonal, without kompletteringar."""

from __future__ import annotations

from tests import envelopes as m
from tests.conformance import core_corpus as core
from tests.conformance.corpus import Corpus
from tests.conformance.edits import at, foreign, remove, rename, set_text
from tests.conformance.onward_corpus import FK_ADDRESS, add_answer_cases, request, root_schema
from tests.envelopes import Element

SCHEMA = root_schema("SendMessageToRecipient", m.SMTR_NS, "2.1")
CORPUS = Corpus("SendMessageToRecipient 2.1")
valid = CORPUS.valid
invalid = CORPUS.invalid
e = core.e


def body(*, answer: bool = False) -> Element:
    children = [
        e("smtr:meddelande-id", "care-message-1"),
        e("smtr:referens-id", "journal-ref-1"),
        e("smtr:skickatTidpunkt", "2026-11-21T10:15:30"),
        core.ident("smtr:intygs-id", m.DEFAULT_UNIT_HSA_ID, "9f02dd2f-f57c-4a73-8190-2fe602cd6e27"),
        core.ident("smtr:patientPerson-id", m.PERSONNUMMER_ROOT, m.DEFAULT_PERSON_ID),
        e("smtr:logiskAdressMottagare", FK_ADDRESS),
        core.code("smtr:amne", "KONTKT", core.KV_AMNE, "Kontakt"),
        e("smtr:rubrik", "Kontakt önskas"),
        e("smtr:meddelande", "Ring oss gärna."),
    ]
    if answer:
        children.append(e("smtr:svarPa", e("core:meddelande-id", "fk-question-1")))
    children.append(e("smtr:skickatAv", *core.hos_personal()))
    if not answer:
        children.append(e("smtr:sistaDatumForSvar", "2026-12-01"))
    return e("smtr:SendMessageToRecipient", *children)


@valid
def question_with_deadline() -> bytes:
    """A question from care, with a heading and an answer deadline."""
    return request(body(), "5565594230")


@valid
def answer_to_the_recipients_question() -> bytes:
    """An answer: svarPa with the question's meddelande-id (core namespace)."""
    return request(body(answer=True))


@valid
def extension_at_the_end() -> bytes:
    """The request ends with an ##other wildcard."""
    message = body()
    message.append(foreign())
    return request(message)


@invalid
def completion_items() -> bytes:
    """komplettering exists only in SendMessageToCare."""
    message = body()
    message.append(e("smtr:komplettering", e("smtr:frage-id", "1"), e("smtr:text", "x")))
    return request(message)


@invalid
def sender_as_part_code() -> bytes:
    """skickatAv is a HosPersonal here, not SendMessageToCare's part code."""
    message = body(answer=True)
    sender = at(message, "smtr:skickatAv")
    for child in list(sender):
        sender.remove(child)
    sender.append(core.code("smtr:part", "HSVARD", core.KV_PART))
    return request(message)


@invalid
def reference_children_in_responder_namespace() -> bytes:
    """svarPa has the core MeddelandeReferens type: its meddelande-id is a core element."""
    return request(rename(body(answer=True), "smtr:svarPa/core:meddelande-id", "smtr:meddelande-id"))


@invalid
def recipient_address_missing() -> bytes:
    """logiskAdressMottagare is required."""
    return request(remove(body(), "smtr:logiskAdressMottagare"))


@invalid
def topic_with_wrong_code_system() -> bytes:
    """amne is an Amneskod: KV_ÄMNE is fixed."""
    return request(set_text(body(), "smtr:amne/types:codeSystem", core.KV_PART))


add_answer_cases(CORPUS, "smtr", "SendMessageToRecipient")
