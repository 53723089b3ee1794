"""RevokeCertificate 2.1: optional meddelande, time, the certificate and patient, who revoked."""

from __future__ import annotations

from tests import envelopes as m
from tests.conformance import core_corpus as core
from tests.conformance.corpus import Corpus
from tests.conformance.edits import foreign, move_after, remove, set_text
from tests.conformance.onward_corpus import add_answer_cases, request, root_schema
from tests.envelopes import Element

SCHEMA = root_schema("RevokeCertificate", m.RC_NS, "2.1")
CORPUS = Corpus("RevokeCertificate 2.1")
valid = CORPUS.valid
invalid = CORPUS.invalid
e = core.e


def body(*, text: str | None = "Intyget är utfärdat på fel patient.") -> Element:
    children = [e("rc:meddelande", text)] if text is not None else []
    return e(
        "rc:RevokeCertificate",
        *children,
        e("rc:skickatTidpunkt", "2026-11-21T10:15:30"),
        core.ident("rc:intygs-id", m.DEFAULT_UNIT_HSA_ID, "9f02dd2f-f57c-4a73-8190-2fe602cd6e27"),
        core.ident("rc:patientPerson-id", m.PERSONNUMMER_ROOT, m.DEFAULT_PERSON_ID),
        e("rc:skickatAv", *core.hos_personal()),
    )


@valid
def revocation_with_message() -> bytes:
    """The free-text meddelande the recipient's administrators read."""
    return request(body())


@valid
def revocation_without_message() -> bytes:
    """meddelande is optional."""
    return request(body(text=None))


@valid
def reason_at_the_wildcard() -> bytes:
    """A reason in another namespace at the end (the gateway's gw:makulering goes here)."""
    revoke = body()
    revoke.append(foreign())
    return request(revoke)


@invalid
def reason_element_in_responder_namespace() -> bytes:
    """The contract has no reason element of its own: an unknown rc element is refused."""
    revoke = body()
    revoke.append(e("rc:orsak", "FEL_PATIENT"))
    return request(revoke)


@invalid
def message_after_time() -> bytes:
    """meddelande comes first."""
    return request(move_after(body(), "rc:meddelande", "rc:skickatTidpunkt"))


@invalid
def revoker_missing() -> bytes:
    """skickatAv is required."""
    return request(remove(body(), "rc:skickatAv"))


@invalid
def patient_with_short_number() -> bytes:
    """patientPerson-id's extension is twelve digits."""
    return request(set_text(body(), "rc:patientPerson-id/types:extension", "1912121212"))


add_answer_cases(CORPUS, "rc", "RevokeCertificate")
