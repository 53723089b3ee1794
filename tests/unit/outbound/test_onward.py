"""Each onward hop reads its receiver's answers: repeats delivered, an archive's revoked INFO final."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from contracts.answers import ContractAnswer
from domain.delivery import Decision, OutcomeClass, decide
from domain.events import ClaimedEvent, EventContext, OutboundContract, OutboxEvent
from domain.resend_policy import ScheduleKind, Series
from domain.values import CertificateStatus, ErrorId, EventCode, HsaId, ResultCode
from outbound.onward import CLASSIFY, build_onward, cancellation
from outbound.status_update import Unbuildable
from tests.builders import make_revoked_certificate, make_signed_certificate

AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
C = OutboundContract


def _claimed(contract: OutboundContract, attempts: int = 0, payload: dict[str, object] | None = None) -> ClaimedEvent:
    event = OutboxEvent("c-1", EventCode.SKICKA, AT, HsaId("SE2321000016-1003"), HsaId("SE2321000016-0001"), "r",
                        HsaId("SE2321000016-P001"), payload or {"actor": {"hsaId": "SE2321000016-P001", "name": "A"}},
                        contract=contract, recipient="FKASSA", logical_address="2021005521")
    return ClaimedEvent(1, event, attempts, Series(ScheduleKind.TECHNICAL, 0, AT), "corr", "token", 1)


@pytest.mark.parametrize(("contract", "code", "error", "text", "attempts", "outcome"), [
    (C.REGISTER, ResultCode.OK, None, None, 0, OutcomeClass.OK),
    (C.REGISTER, ResultCode.INFO, None, "Certificate already exists", 0, OutcomeClass.REPEAT),
    (C.REGISTER, ResultCode.INFO, None, "Något annat", 0, OutcomeClass.INFO),
    (C.REGISTER, ResultCode.ERROR, ErrorId.VALIDATION_ERROR, "Certificate already exists", 0,
     OutcomeClass.VALIDATION_ERROR),  # the same id for another patient: refused for good
    (C.REGISTER, ResultCode.ERROR, ErrorId.TECHNICAL_ERROR, "PU nere", 0, OutcomeClass.TECHNICAL_ERROR),
    (C.SEND, ResultCode.INFO, None, "Certificate 'c-1' already sent to 'FKASSA'.", 0, OutcomeClass.REPEAT),
    (C.SEND, ResultCode.INFO, None, "Certificate 'c-1' has been revoked.", 0, OutcomeClass.REVOKED),
    (C.SEND, ResultCode.ERROR, ErrorId.APPLICATION_ERROR, "Unknown certificate ID: c-1", 0,
     OutcomeClass.APPLICATION_ERROR),
    (C.REVOKE, ResultCode.INFO, None, "Certificate c-1 is already revoked.", 0, OutcomeClass.REPEAT),
    (C.REVOKE, ResultCode.ERROR, ErrorId.REVOKED, None, 0, OutcomeClass.REVOKED),
    (C.MESSAGE, ResultCode.INFO, None, "This message has already been received.", 0, OutcomeClass.REPEAT),
    (C.MESSAGE, ResultCode.ERROR, ErrorId.VALIDATION_ERROR, "MeddelandeId is not globally unique", 1,
     OutcomeClass.REPEAT),  # we may have sent it before: the archive has it
    (C.MESSAGE, ResultCode.ERROR, ErrorId.VALIDATION_ERROR, "MeddelandeId is not globally unique", 0,
     OutcomeClass.VALIDATION_ERROR),  # a first attempt: someone else's id, refused for good
])
def test_each_hop_classifies_its_answers(contract: OutboundContract, code: ResultCode, error: ErrorId | None,
                                         text: str | None, attempts: int, outcome: OutcomeClass) -> None:
    assert CLASSIFY[contract](ContractAnswer(code, error, text), _claimed(contract, attempts)) is outcome


def test_a_repeat_is_delivered_and_never_retried() -> None:
    assert decide(OutcomeClass.REPEAT) is Decision.DELIVERED


def test_what_is_never_sent() -> None:
    """A test certificate's onward events, and a revoked certificate's registrations and messages; its
    revocation is sent."""
    signed = make_signed_certificate()
    test = replace(signed, test_certificate=True)
    revoked = replace(make_revoked_certificate("c-1"), test_certificate=False,
                      patient=replace(signed.patient, test_indicator=False))
    assert cancellation(EventContext(_claimed(C.REGISTER), True, signed)) is None
    assert cancellation(EventContext(_claimed(C.REGISTER), True, test)) == "a test certificate never leaves the gateway"
    for contract in (C.REGISTER, C.SEND, C.MESSAGE):
        assert cancellation(EventContext(_claimed(contract), True, revoked)) is not None
    assert cancellation(EventContext(_claimed(C.REVOKE), True, revoked)) is None
    assert revoked.status is CertificateStatus.REVOKED


def test_an_unreadable_payload_or_a_gone_certificate_is_unbuildable() -> None:
    with pytest.raises(Unbuildable, match="no longer exists"):
        build_onward(EventContext(_claimed(C.REGISTER), True, None), None)  # type: ignore[arg-type]
    with pytest.raises(Unbuildable, match="payload"):
        build_onward(EventContext(_claimed(C.REVOKE, payload={"actor": "x"}), True, make_revoked_certificate()),
                     None)  # type: ignore[arg-type]
    with pytest.raises(Unbuildable, match="revocation of a certificate that is SENT"):
        build_onward(EventContext(_claimed(C.REVOKE), True, make_signed_certificate()), None)  # type: ignore[arg-type]
