"""Every onward message the gateway builds is valid by the official schemas (and by xsd/, always).

RegisterCertificate for a signed certificate with typed answers, a protected patient, a bare unit,
a copy with its relation, and a completion (svarPa); SendCertificateToRecipient; RevokeCertificate
for each reason with and without a description (the reason in ``gw:makulering`` at the wildcard);
SendMessageToRecipient for a question with a deadline and an answer (svarPa). Checked against the
official files with ``RIVTA_OFFICIAL_SCHEMAS``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from types import ModuleType

import pytest
from lxml import etree

from contracts.envelope import request_envelope
from contracts.register_certificate.v3.request import build_register_certificate
from contracts.revoke_certificate.v2.request import build_revoke_certificate
from contracts.send_certificate_to_recipient.v2.request import build_send_certificate
from contracts.send_message_to_recipient.v2.request import build_message_to_recipient
from domain.arenden import Amne, MessageReference
from domain.certificate_types import load_default_registry
from domain.onward import Actor, OutgoingMessage
from domain.values import HsaId, RelationCode, RevokeReason
from tests import builders
from tests import status_updates as su
from tests.conformance import (
    register_certificate_corpus,
    revoke_certificate_corpus,
    send_certificate_corpus,
    send_message_to_recipient_corpus,
)
from tests.conformance.schemas import message_errors

AT = datetime(2026, 11, 21, 9, 15, 30, tzinfo=UTC)
ACTOR = Actor(HsaId("SE2321000016-P001"), "Ann Läkare")
SIGNED = replace(builders.make_signed_certificate(), content=su.TYPED_CONTENT)
REVOKED = replace(builders.make_revoked_certificate(), content=su.TYPED_CONTENT)
TYPE = load_default_registry().lookup("LISJP", "b64ea353-e8f6-4832-b563-fc7d46f29548")


def _message(*, answer: bool) -> OutgoingMessage:
    return OutgoingMessage(
        message_id="care-message-1", sent_at=AT, amne=Amne.KONTKT, heading="Kontakt" if not answer else None,
        text="Ring oss gärna.", author=ACTOR, recipient_address="2021005521",
        answer_to=MessageReference("fk-question-1", "fk-ref") if answer else None,
        deadline=date(2026, 12, 1) if not answer else None,
    )


CASES: dict[str, tuple[ModuleType, Callable[[], etree._Element]]] = {
    "register-signed": (register_certificate_corpus, lambda: build_register_certificate(SIGNED, TYPE)),
    "register-protected-bare-unit": (register_certificate_corpus, lambda: build_register_certificate(
        replace(SIGNED, patient=replace(SIGNED.patient, protected_identity=True),
                unit=replace(SIGNED.unit, arbetsplatskod=None, email=None, phone=None)), TYPE)),
    "register-copy-unknown-type": (register_certificate_corpus, lambda: build_register_certificate(
        replace(SIGNED, relation_code=RelationCode.KOPIA, relation_parent="locked-draft-1"), None)),
    "register-completion": (register_certificate_corpus, lambda: build_register_certificate(
        replace(SIGNED, relation_code=RelationCode.KOMPLT, relation_parent="completed-1"), TYPE,
        MessageReference("fk-question-1", "fk-ref"))),
    "register-replacement": (register_certificate_corpus, lambda: build_register_certificate(
        replace(SIGNED, relation_code=RelationCode.ERSATT, relation_parent="replaced-1"), TYPE)),
    "register-renewal": (register_certificate_corpus, lambda: build_register_certificate(
        replace(SIGNED, relation_code=RelationCode.FRLANG, relation_parent="renewed-1"), TYPE)),
    "send-to-fk": (send_certificate_corpus, lambda: build_send_certificate(
        SIGNED, "FKASSA", "Försäkringskassan", ACTOR, AT)),
    "send-without-name": (send_certificate_corpus, lambda: build_send_certificate(SIGNED, "TRANSP", None, ACTOR, AT)),
    "revoke-wrong-patient": (revoke_certificate_corpus, lambda: build_revoke_certificate(REVOKED, ACTOR, AT)),
    "revoke-wrong-patient-no-text": (revoke_certificate_corpus, lambda: build_revoke_certificate(
        replace(REVOKED, revoke_reason=None), ACTOR, AT)),
    "revoke-serious-error": (revoke_certificate_corpus, lambda: build_revoke_certificate(
        replace(REVOKED, revoke_reason_code=RevokeReason.ANNAT_ALLVARLIGT_FEL,
                revoke_reason="Fel diagnoskod angiven i fält 3"), ACTOR, AT)),
    "revoke-before-reason-codes": (revoke_certificate_corpus, lambda: build_revoke_certificate(
        replace(REVOKED, revoke_reason_code=None, revoke_reason=None), ACTOR, AT)),
    "message-question": (send_message_to_recipient_corpus, lambda: build_message_to_recipient(
        SIGNED, _message(answer=False))),
    "message-answer": (send_message_to_recipient_corpus, lambda: build_message_to_recipient(
        SIGNED, _message(answer=True))),
}


def _envelope(name: str) -> tuple[ModuleType, bytes]:
    corpus, build = CASES[name]
    return corpus, request_envelope("2021005521", build())


@functools.cache
def _official(corpus: ModuleType) -> etree.XMLSchema:
    schema: etree.XMLSchema = corpus.SCHEMA.official().schema
    return schema


@pytest.mark.parametrize("name", CASES)
def test_built_message_is_valid_by_our_schema(name: str) -> None:
    """xsd/ accepts what we send (the recipient simulator validates against it too)."""
    corpus, message = _envelope(name)
    assert message_errors(corpus.SCHEMA.ours().schema, message) == []


@pytest.mark.conformance
@pytest.mark.parametrize("name", CASES)
def test_built_message_is_valid_by_the_official_schema(name: str) -> None:
    """The official schemas accept every onward message the builders write."""
    corpus, message = _envelope(name)
    assert message_errors(_official(corpus), message) == []
