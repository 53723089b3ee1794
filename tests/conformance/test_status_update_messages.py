"""Every status update the gateway builds is valid by the official CertificateStatusUpdateForCare 3.2.

One message per event code, each on a certificate in the state that event happens in (draft,
signed, sent, revoked), plus the incumbent's special fillings (protected patient, no workplace
code, no e-mail, no ref, system event), and a new draft with each relation to its parent. Checked
against the official files (with ``RIVTA_OFFICIAL_SCHEMAS``) and against xsd/ (always).
"""

from __future__ import annotations

import functools
from dataclasses import replace

import pytest
from lxml import etree

from contracts.certificate_status_update.v3.request import (
    build_status_update,
    status_update_envelope,
)
from domain.certificates import Certificate
from domain.events import OutboxEvent
from domain.values import EventCode, RelationCode
from tests import builders
from tests import status_updates as su
from tests.conformance import status_update_corpus
from tests.conformance.schemas import message_errors


def _special_cases() -> dict[str, tuple[Certificate, OutboxEvent]]:
    draft = builders.make_draft()
    bare_unit = replace(draft.unit, arbetsplatskod=None, email=None, phone=None, postal_address=None)
    unprotected = replace(draft, patient=replace(draft.patient, protected_identity=False), ref=None)
    return {
        "bare-unit": (replace(draft, unit=bare_unit), su.event(EventCode.SKAPAT)),
        "unprotected-no-ref-system-event": (unprotected, su.event(EventCode.SKAPAT, acting_user=None)),
        "question-without-deadline": (
            su.certificate_for(EventCode.NYFRFM),
            su.event(EventCode.NYFRFM, payload={"amne": "AVSTMN"}),
        ),
        **{f"relation-{relation.value}": (replace(draft, relation_code=relation, relation_parent="parent-1"),
                                          su.event(EventCode.SKAPAT)) for relation in RelationCode},
        "completion-handled": (replace(su.certificate_for(EventCode.HANFRFM), relation_code=RelationCode.KOMPLT,
                                       relation_parent="parent-1"), su.event(EventCode.HANFRFM)),
    }


CASES = {code.value: (su.certificate_for(code), su.event(code)) for code in EventCode} | _special_cases()


def _message(certificate: Certificate, event: OutboxEvent) -> bytes:
    body = build_status_update(certificate, event)
    return status_update_envelope(certificate.unit_id.value, body)


@functools.cache
def _official() -> etree.XMLSchema:
    return status_update_corpus.SCHEMA.official().schema


@pytest.mark.parametrize("name", CASES)
def test_built_message_is_valid_by_our_schema(name: str) -> None:
    """xsd/ accepts what we send (the journal simulator validates against it too)."""
    assert message_errors(status_update_corpus.SCHEMA.ours().schema, _message(*CASES[name])) == []


@pytest.mark.conformance
@pytest.mark.parametrize("name", CASES)
def test_built_message_is_valid_by_the_official_schema(name: str) -> None:
    """The official 3.2 schema accepts every message the builder writes."""
    assert message_errors(_official(), _message(*CASES[name])) == []
