"""Status-update inputs for tests: an event per code on a certificate in the state that code needs.

Shared by the request builder's unit tests (through ``build_checked``, which validates each message),
the conformance test over every event code, and the sender and simulator tests.
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from contracts.certificate_status_update.v3.request import (
    build_status_update,
    status_update_envelope,
)
from domain.certificates import Answer, AnswerPart, Certificate
from domain.events import OutboxEvent
from domain.question_counts import Counts, QuestionCounts, to_payload
from domain.values import EventCode, HsaId
from tests import builders
from tests import envelopes as m
from tests.conformance.schemas import OFFICIAL_ENV, message_errors

#: 2026-11-21 10:15:30.123 in Stockholm (winter time, UTC+1).
OCCURRED_AT = datetime(2026, 11, 21, 9, 15, 30, 123000, tzinfo=UTC)
USER = HsaId("SE2321000016-P001")
COUNTS = QuestionCounts(sent_by_care=Counts(2, 1, 1, 0), received=Counts(3, 1, 0, 2))

#: A typed answer as the contract carries it: a code in the types namespace.
TYPED_CONTENT = (
    Answer("1", None, (AnswerPart("1.1", "Hosta sedan två veckor"),)),
    Answer(
        "32",
        1,
        (
            AnswerPart(
                "32.1",
                "",
                xml=f"<types:cv xmlns:types='{m.TYPES_NS}'><types:code>HELT_NEDSATT</types:code>"
                "<types:codeSystem>KV_SJUKSKRIVNINGSGRAD</types:codeSystem></types:cv>",
            ),
            AnswerPart(
                "32.2",
                "",
                xml=f"<types:datePeriod xmlns:types='{m.TYPES_NS}'><types:start>2026-11-20</types:start>"
                "<types:end>2026-12-04</types:end></types:datePeriod>",
            ),
        ),
    ),
)


def event(code: EventCode, certificate: Certificate | None = None, **changes: Any) -> OutboxEvent:
    """An event of ``code`` on ``certificate`` (a draft by default), caused by USER."""
    certificate = certificate or builders.make_draft()
    payload: dict[str, Any] = {"counts": to_payload(COUNTS)}
    if code is EventCode.NYFRFM:
        payload |= {"amne": "KOMPLT", "sistaDatumForSvar": "2026-12-05"}
    values: dict[str, Any] = {
        "certificate_id": certificate.id,
        "code": code,
        "occurred_at": OCCURRED_AT,
        "unit": certificate.unit_id,
        "care_giver": certificate.care_giver.hsa_id,
        "request_correlation_id": "corr-1",
        "acting_user": USER,
        "payload": payload,
    }
    return OutboxEvent(**(values | changes))


def certificate_for(code: EventCode) -> Certificate:
    """The certificate as it stands when ``code`` happens: a draft before signing, then signed,
    sent or revoked, with the typed content above."""
    if code in (EventCode.SKAPAT, EventCode.ANDRAT, EventCode.KFSIGN, EventCode.RADERA):
        return replace(builders.make_draft(), content=TYPED_CONTENT)
    if code is EventCode.MAKULE:
        return replace(builders.make_revoked_certificate(), content=TYPED_CONTENT)
    return replace(builders.make_signed_certificate(), content=TYPED_CONTENT)


@functools.cache
def _schemas() -> tuple[etree.XMLSchema, ...]:
    """xsd/ always; the official files too when ``RIVTA_OFFICIAL_SCHEMAS`` names them."""
    from tests.conformance import status_update_corpus

    ours = status_update_corpus.SCHEMA.ours().schema
    if not os.environ.get(OFFICIAL_ENV):
        return (ours,)
    return ours, status_update_corpus.SCHEMA.official().schema


def build_checked(
    certificate: Certificate, event: OutboxEvent, counts: QuestionCounts | None = None, **options: Any
) -> etree._Element:
    """``build_status_update``, then the message (in its envelope) checked against the schemas,
    so every message a test builds is one the official schema accepts."""
    body = build_status_update(certificate, event, counts, **options)
    message = status_update_envelope(certificate.unit_id.value, body)
    for schema in _schemas():
        assert message_errors(schema, message) == []
    return body
