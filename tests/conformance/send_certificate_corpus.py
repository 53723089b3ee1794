"""SendCertificateToRecipient 2.1: a registered certificate named, sent to a recipient by care or the patient."""

from __future__ import annotations

from tests import envelopes as m
from tests.conformance import core_corpus as core
from tests.conformance.corpus import Corpus
from tests.conformance.edits import at, foreign, move_after, remove, set_text
from tests.conformance.onward_corpus import add_answer_cases, request, root_schema
from tests.envelopes import Element

SCHEMA = root_schema("SendCertificateToRecipient", m.SCR_NS, "2.1")
CORPUS = Corpus("SendCertificateToRecipient 2.1")
valid = CORPUS.valid
invalid = CORPUS.invalid
e = core.e


def body(*, sent_by: Element | None = None) -> Element:
    return e(
        "scr:SendCertificateToRecipient",
        e("scr:skickatTidpunkt", "2026-11-21T10:15:30"),
        core.ident("scr:intygs-id", m.DEFAULT_UNIT_HSA_ID, "9f02dd2f-f57c-4a73-8190-2fe602cd6e27"),
        core.ident("scr:patientPerson-id", m.PERSONNUMMER_ROOT, m.DEFAULT_PERSON_ID),
        core.code("scr:mottagare", "FKASSA", core.KV_PART, "Försäkringskassan"),
        e("scr:skickatAv", sent_by if sent_by is not None else e("scr:hosPersonal", *core.hos_personal())),
    )


@valid
def sent_by_care() -> bytes:
    """skickatAv/hosPersonal: a care professional sent it."""
    return request(body(), "5565594230")


@valid
def sent_by_the_patient() -> bytes:
    """skickatAv/person-id: the patient sent it (the other branch of the choice)."""
    return request(body(sent_by=core.ident("scr:person-id", m.PERSONNUMMER_ROOT, m.DEFAULT_PERSON_ID)))


@valid
def extension_at_the_end() -> bytes:
    """The request ends with an ##other wildcard."""
    send = body()
    send.append(foreign())
    return request(send)


@invalid
def sent_by_both() -> bytes:
    """skickatAv is a choice: exactly one of hosPersonal and person-id."""
    send = body()
    at(send, "scr:skickatAv").append(core.ident("scr:person-id", m.PERSONNUMMER_ROOT, m.DEFAULT_PERSON_ID))
    return request(send)


@invalid
def recipient_with_wrong_code_system() -> bytes:
    """mottagare is a Part: KV_PART is fixed."""
    return request(set_text(body(), "scr:mottagare/types:codeSystem", core.KV_STATUS))


@invalid
def send_time_with_zone() -> bytes:
    """skickatTidpunkt is local time without a zone."""
    return request(set_text(body(), "scr:skickatTidpunkt", "2026-11-21T10:15:30+01:00"))


@invalid
def patient_before_certificate() -> bytes:
    """intygs-id comes before patientPerson-id."""
    return request(move_after(body(), "scr:intygs-id", "scr:patientPerson-id"))


@invalid
def recipient_missing() -> bytes:
    """mottagare is required."""
    return request(remove(body(), "scr:mottagare"))


add_answer_cases(CORPUS, "scr", "SendCertificateToRecipient")
