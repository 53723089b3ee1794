"""The business rules of SendMessageToCare v2, as pure functions over what was fetched.

They combine the national hub's consistency checks and Webcert's certificate checks
(contracts.md §6): the use case reads the certificate and its ärenden first, then asks
``check_message``, which returns every problem it finds, so that the sender sees all there is to
fix in one answer. The texts come from ``domain.result_texts`` (``SMTC-*``).

What the rules say, in the order they are reported:

* the message itself: a meddelande-id, a supported ``amne``, ``komplettering`` only with KOMPLT,
  ``paminnelseMeddelande-id`` exactly on PAMINN, no ``sistaDatumForSvar`` on an answer, a sender
  (``skickatAv/part``) that is a known certificate recipient;
* the certificate: held here, signed, the same patient, not a test certificate (VALIDATION_ERROR,
  as the hub answers these); not revoked (APPLICATION_ERROR, as Webcert answers it);
* what the message refers to, among the certificate's ärenden: a reminder names a question, an
  answer names a question (not a reminder, which cannot be answered) with the same ``amne`` and
  without an answer yet. These are only checked when the certificate was found, because without
  it every reference would fail too and the answer would drown the one problem that matters.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain import result_texts as texts
from domain.arenden import (
    KNOWN_PARTS,
    Amne,
    ConversationEntry,
    IncomingMessage,
    fingerprint,
)
from domain.certificates import CertificateHeader
from domain.result_texts import Problem, echo
from domain.values import CertificateStatus

MESSAGE_ID_PATH = "meddelande-id"
AMNE_PATH = "amne/code"
KOMPLETTERING_PATH = "komplettering"
REMINDER_OF_PATH = "paminnelseMeddelande-id"
ANSWER_TO_PATH = "svarPa/meddelande-id"
DEADLINE_PATH = "sistaDatumForSvar"
SENDER_PATH = "skickatAv/part/code"
CERTIFICATE_ID_PATH = "intygs-id/extension"
PATIENT_PATH = "patientPerson-id/extension"

_AMNE_CODES = frozenset(amne.value for amne in Amne)


def is_resend(message: IncomingMessage, stored: ConversationEntry) -> bool:
    """True when ``stored`` (found under the message's meddelande-id) is this very message again.

    A sender that did not see our answer resends; that must change nothing and answer INFO. The
    same id with other content is a sender's mistake, refused with SMTC-MESSAGE-ID-REUSED.
    """
    return stored.content_hash is not None and stored.content_hash == fingerprint(
        message
    )


def check_message(
    message: IncomingMessage, certificate: CertificateHeader | None, arenden: Sequence[ConversationEntry]
) -> list[Problem]:
    """Every reason to refuse ``message`` about ``certificate`` (None: not held here) and its ``arenden``."""
    problems = _check_shape(message)
    if certificate is None:
        problems.append(
            texts.MESSAGE_CERTIFICATE_UNKNOWN.problem(
                CERTIFICATE_ID_PATH, certificate_id=echo(message.certificate_id)
            )
        )
        return problems
    problems += _check_certificate(message, certificate)
    problems += _check_references(
        message, {arende.message_id: arende for arende in arenden}
    )
    return problems


def _check_shape(message: IncomingMessage) -> list[Problem]:
    problems: list[Problem] = []
    code = echo(message.amne)
    if not message.message_id.strip():
        problems.append(texts.MESSAGE_ID_MISSING.problem(MESSAGE_ID_PATH))
    if message.amne not in _AMNE_CODES:
        problems.append(texts.AMNE_UNKNOWN.problem(AMNE_PATH, code=code))
    if message.kompletteringar and message.amne != Amne.KOMPLT:
        problems.append(
            texts.KOMPLETTERING_NOT_KOMPLT.problem(KOMPLETTERING_PATH, code=code)
        )
    if message.is_reminder and not (message.reminder_of or "").strip():
        problems.append(texts.REMINDER_ID_MISSING.problem(REMINDER_OF_PATH))
    if not message.is_reminder and message.reminder_of is not None:
        problems.append(
            texts.REMINDER_ID_NOT_PAMINN.problem(REMINDER_OF_PATH, code=code)
        )
    if message.is_answer and message.deadline is not None:
        problems.append(texts.ANSWER_WITH_DEADLINE.problem(DEADLINE_PATH))
    if message.sender_part not in KNOWN_PARTS:
        problems.append(
            texts.SENDER_UNKNOWN.problem(SENDER_PATH, code=echo(message.sender_part))
        )
    return problems


def _check_certificate(
    message: IncomingMessage, certificate: CertificateHeader
) -> list[Problem]:
    problems: list[Problem] = []
    fields = {"certificate_id": echo(certificate.id)}
    if not certificate.is_signed:
        problems.append(
            texts.MESSAGE_CERTIFICATE_NOT_SIGNED.problem(CERTIFICATE_ID_PATH, **fields)
        )
    patient = certificate.patient
    if (
        message.person_id.strip() != patient.digits
        or message.person_id_root.strip() != patient.kind.value
    ):
        problems.append(texts.MESSAGE_PATIENT_MISMATCH.problem(PATIENT_PATH, **fields))
    if certificate.test_certificate:
        problems.append(
            texts.MESSAGE_TEST_CERTIFICATE.problem(CERTIFICATE_ID_PATH, **fields)
        )
    if certificate.status == CertificateStatus.REVOKED:
        problems.append(
            texts.MESSAGE_CERTIFICATE_REVOKED.problem(CERTIFICATE_ID_PATH, **fields)
        )
    return problems


def _check_references(
    message: IncomingMessage, by_id: dict[str, ConversationEntry]
) -> list[Problem]:
    problems: list[Problem] = []
    if message.is_reminder and (message.reminder_of or "").strip():
        target = by_id.get(message.reminder_of or "")
        if target is None or not target.is_question:
            problems.append(
                texts.REMINDER_OF_UNKNOWN.problem(
                    REMINDER_OF_PATH, message_id=echo(message.reminder_of or "")
                )
            )
    if message.is_answer and message.answer_to is not None:
        question_id = message.answer_to.message_id
        fields = {"message_id": echo(question_id)}
        question = by_id.get(question_id)
        if question is not None and question.is_reminder:
            problems.append(texts.ANSWER_TO_REMINDER.problem(ANSWER_TO_PATH, **fields))
        elif question is None or not question.is_question:
            problems.append(texts.ANSWER_TO_UNKNOWN.problem(ANSWER_TO_PATH, **fields))
        else:
            if message.amne != question.amne:
                problems.append(
                    texts.ANSWER_AMNE_MISMATCH.problem(
                        AMNE_PATH,
                        code=echo(message.amne),
                        question_code=question.amne.value,
                        **fields,
                    )
                )
            if any(
                a.is_answer and a.answer_to and a.answer_to.message_id == question_id
                for a in by_id.values()
            ):
                problems.append(texts.ANSWER_EXISTS.problem(ANSWER_TO_PATH, **fields))
    return problems
