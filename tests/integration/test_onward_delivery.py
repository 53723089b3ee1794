"""Onward flows through the real delivery engine: the lifecycle use cases, the dispatcher, a journal and a
recipient (or archive) simulator on loopback, on SQLite and PostgreSQL.

The issue's list: SKICKA only after acceptance; a duplicate registration answered INFO is delivered and
not retried; a TECHNICAL_ERROR recipient gets the certificate after it recovers and the journal then
gets SKICKA; a VALIDATION_ERROR is final, visible, and the certificate can be sent again; a revoke
before the registration went out cancels it; a revoke after it reaches the recipient; nothing leaves
for a test certificate; both deployment shapes; and every message either simulator received is valid
by our schemas and the official ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker

from contracts.envelope import request_envelope
from contracts.register_certificate.v3.request import build_register_certificate
from domain.arenden import Amne, DeliveryState
from domain.certificate_types import CertificateTypeRegistry, load_default_registry
from domain.events import OutboundContract, OutboxEvent
from domain.lifecycle import LifecycleRefused, RefusalReason
from domain.onward import OnwardTarget
from domain.values import CertificateStatus, EventCode, HsaId
from simulator.journal import Mode
from simulator.recipient import CONTRACT_PATHS
from store import arenden, outbox
from store.outbox import OutboxStatus
from store.session import transaction
from tests.builders import CARE_GIVER
from tests.integration.onward_env import ARCHIVE, FK, LAKARE, Loop, body_of, onward_loop, schema_problems
from tests.integration.outbox_env import UNIT
from usecases import lifecycle, questions

S = CertificateStatus
TYPES = load_default_registry()


@pytest.fixture
def loop(db_url: str, session_factory: sessionmaker[Session]) -> Iterator[Loop]:
    with onward_loop(db_url, session_factory) as bed:
        yield bed


@pytest.fixture
def archive_loop(db_url: str, session_factory: sessionmaker[Session]) -> Iterator[Loop]:
    with onward_loop(db_url, session_factory, OnwardTarget.ARCHIVE) as bed:
        yield bed


def _registered(loop: Loop) -> list[str]:
    return [r["certificateId"] for r in loop.recipient.received(contract="RegisterCertificate")]


def test_skicka_goes_to_the_journal_only_after_the_recipient_accepted(loop: Loop) -> None:
    """Send: SENDING, the registration queued, no SKICKA. The recipient accepts: SENT, then SKICKA."""
    loop.signed("c-1")
    sending = lifecycle.send(loop.deps, "c-1", LAKARE, "send-1")
    assert (sending.status, sending.sent_at) == (S.SENDING, None)
    assert [e.code for e in loop.events("c-1") if not e.is_onward] == [EventCode.SIGNAT]
    loop.dispatcher.claim()  # the registration is marked sending, its call not yet made
    assert loop.stored("c-1").status is S.SENDING
    assert [e.code for e in loop.events("c-1") if not e.is_onward] == [EventCode.SIGNAT]
    assert loop.recipient.received() == []
    loop.drain()
    sent = loop.stored("c-1")
    assert (sent.status, sent.sent_to) == (S.SENT, "FKASSA") and sent.sent_at is not None
    assert _registered(loop) == ["c-1"]
    assert loop.onward("c-1") == [("RegisterCertificate", "DELIVERED", FK)]
    assert loop.journal_codes("c-1") == ["SIGNAT", "SKICKA"]
    [skicka] = [e for e in loop.events("c-1") if e.code is EventCode.SKICKA and not e.is_onward]
    assert skicka.acting_user == LAKARE and skicka.occurred_at == sent.sent_at
    assert schema_problems(loop.recipient, loop.journal) == []


def test_a_duplicate_registration_answered_info_is_delivered_as_a_repeat(loop: Loop) -> None:
    """FK already holds it ("Certificate already exists"): delivered, logged as a repeat, tried once."""
    signed = loop.signed("c-1")
    registration = build_register_certificate(signed, TYPES.lookup("LISJP", signed.type_code_system))
    requests.post(loop.recipient_base + CONTRACT_PATHS["RegisterCertificate"], timeout=5,
                  data=request_envelope(FK, registration))
    lifecycle.send(loop.deps, "c-1", LAKARE, "send-1")
    loop.drain()
    [register] = [e for e in loop.events("c-1") if e.contract is OutboundContract.REGISTER]
    history = loop.report(register.id)
    assert (history.event["status"], history.event["last_outcome"]) == (OutboxStatus.DELIVERED, "repeat")
    assert [(a["outcome"], a["decision"], a["result_code"], a["text"]) for a in history.attempts] == [
        ("repeat", "delivered", "INFO", "Certificate already exists")]
    assert loop.stored("c-1").status is S.SENT
    loop.clock.advance(timedelta(hours=2))
    assert loop.drain() == 0 and len(_registered(loop)) == 2  # never tried again


def test_a_recipient_with_technical_errors_gets_it_after_it_recovers(loop: Loop) -> None:
    """TECHNICAL_ERROR: retried on the schedule, SENDING meanwhile; once FK answers OK the certificate is
    SENT and the journal gets SKICKA. A journal that is down meanwhile holds nothing back at FK."""
    loop.signed("c-1")
    loop.journal.set_mode(Mode.TECHNICAL_ERROR)
    loop.recipient.set_mode(Mode.TECHNICAL_ERROR, "RegisterCertificate", FK)
    lifecycle.send(loop.deps, "c-1", LAKARE, "send-1")
    loop.drain()
    [register] = [e for e in loop.events("c-1") if e.contract is OutboundContract.REGISTER]
    found = loop.report(register.id)
    assert (found.event["status"], found.event["last_outcome"]) == (OutboxStatus.PENDING, "technical-error")
    assert found.event["next_attempt_at"] == loop.clock() + timedelta(minutes=1)
    assert loop.stored("c-1").status is S.SENDING
    assert loop.recipient.certificates() == []  # a failing mode stores nothing
    loop.recipient.clear_mode("RegisterCertificate", FK)
    loop.journal.set_mode(Mode.OK)
    loop.clock.advance(timedelta(minutes=1))
    loop.drain()
    assert loop.stored("c-1").status is S.SENT
    assert [r.certificate_id for r in loop.recipient.certificates()] == ["c-1"]
    assert loop.journal_codes("c-1")[-2:] == ["SIGNAT", "SKICKA"]


def test_a_validation_error_is_final_visible_and_the_certificate_can_be_sent_again(loop: Loop) -> None:
    """FK refuses for good: the registration FAILED, the certificate back to SIGNED with the failure,
    no SKICKA; after the cause is fixed it is sent again and reaches FK."""
    loop.signed("c-1")
    loop.recipient.set_mode(Mode.VALIDATION_ERROR, "RegisterCertificate")
    lifecycle.send(loop.deps, "c-1", LAKARE, "send-1")
    loop.drain()
    back = loop.stored("c-1")
    assert (back.status, back.send_failure_class) == (S.SIGNED, "validation-error")
    assert back.send_failure_text and back.send_failed_at == loop.clock()
    assert loop.onward("c-1") == [("RegisterCertificate", "FAILED", FK)]
    assert "SKICKA" not in loop.journal_codes("c-1")
    loop.clock.advance(timedelta(days=1))
    assert loop.drain() == 0  # final: no retry
    loop.recipient.clear_mode("RegisterCertificate")
    again = lifecycle.send(loop.deps, "c-1", LAKARE, "send-2")
    assert (again.status, again.send_failure_class) == (S.SENDING, None)
    loop.drain()
    assert loop.stored("c-1").status is S.SENT
    assert loop.journal_codes("c-1")[-1] == "SKICKA"


def test_a_revocation_before_the_registration_went_out_cancels_it(loop: Loop) -> None:
    """Sent while FK's route is down; revoked before any call: cancelled, no revocation queued, FK
    receives nothing; the journal gets MAKULE."""
    loop.signed("c-1")
    lifecycle.send(loop.deps, "c-1", LAKARE, "send-1")
    revoked = lifecycle.revoke(loop.deps, "c-1", LAKARE, "FEL_PATIENT", None, "revoke-1")
    assert revoked.status is S.REVOKED
    assert loop.onward("c-1") == [("RegisterCertificate", "CANCELLED", FK)]
    [register] = [e for e in loop.events("c-1") if e.is_onward]
    assert [(a["outcome"], a["text"]) for a in loop.report(register.id).attempts] == [
        ("cancelled", "the certificate was revoked before this delivery started")]
    loop.drain()
    assert loop.recipient.received() == []
    assert loop.journal_codes("c-1") == ["SIGNAT", "MAKULE"]


def test_a_revocation_after_the_registration_reaches_the_recipient(loop: Loop) -> None:
    """Registered at FK, then revoked: RevokeCertificate to FK with the reason, after the registration."""
    loop.signed("c-1")
    lifecycle.send(loop.deps, "c-1", LAKARE, "send-1")
    loop.drain()
    lifecycle.revoke(loop.deps, "c-1", LAKARE, "ANNAT_ALLVARLIGT_FEL", "Fel sjukskrivningsperiod i fält 8", "r-1")
    loop.drain()
    assert loop.onward("c-1") == [("RegisterCertificate", "DELIVERED", FK), ("RevokeCertificate", "DELIVERED", FK)]
    [held] = loop.recipient.certificates()
    assert held.revoked
    [revocation] = loop.recipient.received(contract="RevokeCertificate")
    body = body_of(revocation["xml"])
    assert body.findtext("{urn:riv:clinicalprocess:healthcond:certificate:RevokeCertificateResponder:2}meddelande") \
        == "Fel sjukskrivningsperiod i fält 8"
    assert body.findtext("{urn:intygsgateway:certificate:extension:1}makulering/"
                         "{urn:intygsgateway:certificate:extension:1}orsak") == "ANNAT_ALLVARLIGT_FEL"
    assert loop.journal_codes("c-1") == ["SIGNAT", "SKICKA", "MAKULE"]
    assert schema_problems(loop.recipient, loop.journal) == []


def test_a_revocation_during_the_registration_follows_it_or_is_cancelled_with_it(loop: Loop) -> None:
    """Revoked while the registration's call is in flight: the revocation waits behind it. Accepted:
    the revocation follows (and the certificate never becomes SENT). Not stored (TECHNICAL_ERROR): the
    retry and the revocation are both cancelled: FK is never asked to revoke what it never had."""
    for certificate_id, mode in (("c-ok", Mode.OK), ("c-te", Mode.TECHNICAL_ERROR)):
        loop.signed(certificate_id)
        loop.drain()  # SIGNAT to the journal
        lifecycle.send(loop.deps, certificate_id, LAKARE, "send")
        loop.recipient.set_mode(mode, "RegisterCertificate")
        assert loop.dispatcher.claim() == 1  # marked sending: in flight
        lifecycle.revoke(loop.deps, certificate_id, LAKARE, "FEL_PATIENT", None, "revoke")
        assert [c for c, status, _ in loop.onward(certificate_id)] == ["RegisterCertificate", "RevokeCertificate"]
        loop.drain()
        loop.clock.advance(timedelta(minutes=2))
        loop.drain()
        assert loop.stored(certificate_id).status is S.REVOKED
    assert loop.onward("c-ok") == [("RegisterCertificate", "DELIVERED", FK), ("RevokeCertificate", "DELIVERED", FK)]
    assert loop.onward("c-te") == [("RegisterCertificate", "CANCELLED", FK), ("RevokeCertificate", "CANCELLED", FK)]
    assert [r.certificate_id for r in loop.recipient.certificates()] == ["c-ok"]
    assert [r["certificateId"] for r in loop.recipient.received(contract="RevokeCertificate")] == ["c-ok"]
    assert "SKICKA" not in loop.journal_codes("c-ok")


def test_nothing_leaves_the_gateway_for_a_test_certificate(loop: Loop, archive_loop: Loop) -> None:
    """Sending a test certificate is refused before anything is queued; signing one in archive mode
    registers nothing; an onward event of one queued anyway is cancelled without a call."""
    for certificate_id, bed in (("t-recipient", loop), ("t-archive", archive_loop)):
        bed.certificate(certificate_id, test_certificate=True)
        lifecycle.sign(bed.deps, certificate_id, LAKARE, "sign")
        with pytest.raises(LifecycleRefused) as refused:
            lifecycle.send(bed.deps, certificate_id, LAKARE, "send")
        assert refused.value.reason is RefusalReason.TEST_CERTIFICATE
        assert bed.onward(certificate_id) == []
    with transaction(loop.factory) as session:  # queued anyway (an older release, a hand-made row)
        outbox.enqueue(session, OutboxEvent(
            certificate_id="t-recipient", code=EventCode.SKICKA, occurred_at=loop.clock(), unit=HsaId(UNIT),
            care_giver=CARE_GIVER.hsa_id, request_correlation_id="x", acting_user=LAKARE,
            payload={"actor": {"hsaId": LAKARE.value, "name": "Ann"}}, contract=OutboundContract.REGISTER,
            recipient="FKASSA", logical_address=FK))
    loop.drain()
    archive_loop.drain()
    assert loop.onward("t-recipient") == [("RegisterCertificate", "CANCELLED", FK)]
    assert loop.recipient.received() == [] and archive_loop.recipient.received() == []
    assert loop.journal_codes("t-recipient") == ["SIGNAT"]  # care-side facts still reach the journal


def test_a_send_to_a_recipient_that_cannot_take_it_is_refused_before_anything_is_queued(loop: Loop) -> None:
    """Unknown, or not listed for the type: refused with its code; nothing queued, the certificate SIGNED."""
    loop.signed("c-1")
    refusals = (("SKV", RefusalReason.RECIPIENT_UNKNOWN), ("TRANSP", RefusalReason.RECIPIENT_NOT_FOR_TYPE))
    for recipient, reason in refusals:
        with pytest.raises(LifecycleRefused) as refused:
            lifecycle.send(loop.deps, "c-1", LAKARE, "send", recipient)
        assert refused.value.reason is reason
    assert loop.onward("c-1") == [] and loop.stored("c-1").status is S.SIGNED


def test_cares_question_reaches_the_recipient_and_shows_its_delivery(loop: Loop) -> None:
    """A question to FK after the send: SendMessageToRecipient after the registration; DELIVERED on the
    ärende. Asked again with the same meddelande-id (a resend), FK's INFO is a repeat."""
    loop.signed("c-1")
    lifecycle.send(loop.deps, "c-1", LAKARE, "send")
    loop.drain()
    asked = questions.ask_question(loop.deps, "c-1", LAKARE, Amne.KONTKT, "Kontakt", "Ring oss", "ask")
    assert asked.delivery is DeliveryState.PENDING
    loop.drain()
    with transaction(loop.factory) as session:
        stored = arenden.get_arende(session, asked.message_id)
    assert stored is not None and stored.delivery is DeliveryState.DELIVERED
    [message] = loop.recipient.received(contract="SendMessageToRecipient")
    assert (message["messageId"], message["recipient"], message["logicalAddress"]) == (asked.message_id, FK, FK)
    assert schema_problems(loop.recipient, loop.journal) == []


def test_archive_mode_registers_on_signing_and_sends_through_the_archive(archive_loop: Loop) -> None:
    """archive: signing registers at the archive; sending is SendCertificateToRecipient naming FKASSA,
    in that order; SENT and SKICKA once the archive accepted the send; a question goes to the archive
    with logiskAdressMottagare = FK; a revocation goes to the archive."""
    loop = archive_loop
    loop.signed("c-1")
    assert loop.onward("c-1") == [("RegisterCertificate", "PENDING", ARCHIVE)]
    loop.recipient.set_mode(Mode.TECHNICAL_ERROR, "RegisterCertificate", ARCHIVE)
    lifecycle.send(loop.deps, "c-1", LAKARE, "send")
    loop.drain()  # the send waits behind the archive's registration (one destination, in order)
    assert loop.onward("c-1") == [("RegisterCertificate", "PENDING", ARCHIVE),
                                  ("SendCertificateToRecipient", "PENDING", ARCHIVE)]
    assert loop.recipient.received(contract="SendCertificateToRecipient") == []
    loop.recipient.clear_mode("RegisterCertificate", ARCHIVE)
    loop.clock.advance(timedelta(minutes=1))
    loop.drain()
    assert loop.onward("c-1") == [("RegisterCertificate", "DELIVERED", ARCHIVE),
                                  ("SendCertificateToRecipient", "DELIVERED", ARCHIVE)]
    assert (loop.stored("c-1").status, loop.recipient.certificates()[0].sent_to) == (S.SENT, ["FKASSA"])
    assert loop.journal_codes("c-1") == ["SIGNAT", "SKICKA"]
    questions.ask_question(loop.deps, "c-1", LAKARE, Amne.OVRIGT, None, "En fråga", "ask")
    loop.drain()
    lifecycle.revoke(loop.deps, "c-1", LAKARE, "FEL_PATIENT", None, "revoke")
    loop.drain()
    [message] = loop.recipient.received(contract="SendMessageToRecipient")
    assert (message["logicalAddress"], message["recipient"]) == (ARCHIVE, FK)
    [revocation] = loop.recipient.received(contract="RevokeCertificate")
    assert revocation["logicalAddress"] == ARCHIVE
    assert loop.recipient.certificates()[0].revoked
    assert schema_problems(loop.recipient, loop.journal) == []


def test_send_on_sign_sends_right_after_signing(db_url: str, session_factory: sessionmaker[Session]) -> None:
    """A type with send_on_sign is SENDING once signed, and SENT with SKICKA when FK accepts it."""
    with onward_loop(db_url, session_factory) as bed:
        registry = bed.deps.registry
        lisjp = next(t for t in registry if t.code == "LISJP")
        bed.deps = replace(bed.deps, registry=CertificateTypeRegistry(tuple(
            replace(t, send_on_sign=True) if t is lisjp else t for t in registry)))
        signed = bed.signed("c-1")
        assert (signed.status, signed.sent_to) == (S.SENDING, "FKASSA")
        bed.drain()
        assert bed.stored("c-1").status is S.SENT
        assert bed.journal_codes("c-1") == ["SIGNAT", "SKICKA"]
