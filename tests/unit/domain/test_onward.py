"""What each care-side fact sends onward, in each deployment shape, and what a revocation cancels or follows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from domain.arenden import Amne, MessageReference
from domain.delivery import OutcomeClass
from domain.events import JOURNAL, OutboundContract
from domain.onward import (
    Actor,
    OnwardConfig,
    OnwardRecord,
    OnwardTarget,
    OutgoingMessage,
    carries_send,
    on_message,
    on_send,
    on_signed,
    revocation_moot,
    revocation_targets,
    to_cancel,
)
from domain.recipients import Recipient, load_default_recipients
from domain.values import EventCode, HsaId
from tests.builders import make_signed_certificate

AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ACTOR = Actor(HsaId("SE2321000016-P001"), "Ann Läkare")
RECIPIENTS = load_default_recipients()


def _recipient(recipient_id: str) -> Recipient:
    found = RECIPIENTS.lookup(recipient_id)
    assert found is not None
    return found


FK = _recipient("FKASSA")
SIGNED = make_signed_certificate()
DIRECT = OnwardConfig(OnwardTarget.RECIPIENT, "5565594230", RECIPIENTS)
ARCHIVE = replace(DIRECT, target=OnwardTarget.ARCHIVE)
R, SEND, REV, MSG = (OutboundContract.REGISTER, OutboundContract.SEND, OutboundContract.REVOKE,
                     OutboundContract.MESSAGE)


def _shape(events: list) -> list[tuple[str, str, str | None, str | None, bool]]:  # type: ignore[type-arg]
    return [(e.contract.value, e.code.value, e.recipient, e.logical_address, carries_send(e)) for e in events]


def test_a_send_registers_at_the_recipient_or_goes_through_the_archive() -> None:
    """recipient: RegisterCertificate at FK's address; archive: SendCertificateToRecipient to the archive
    naming FKASSA. Either carries the send; the acting user is the sender."""
    assert _shape(on_send(SIGNED, FK, DIRECT, AT, "c", ACTOR)) == [
        ("RegisterCertificate", "SKICKA", "FKASSA", "2021005521", True)]
    [through] = on_send(SIGNED, FK, ARCHIVE, AT, "c", ACTOR)
    assert _shape([through]) == [("SendCertificateToRecipient", "SKICKA", "FKASSA", "5565594230", True)]
    assert through.payload == {"actor": {"hsaId": "SE2321000016-P001", "name": "Ann Läkare"},
                               "recipientName": "Försäkringskassan"}
    assert (through.acting_user, through.destination, through.lane_key) == (ACTOR.hsa_id, "5565594230", "5565594230")


def test_signing_registers_at_the_archive_only_in_archive_mode_and_never_a_test_certificate() -> None:
    assert on_signed(SIGNED, DIRECT, AT, "c", ACTOR) == []
    assert _shape(on_signed(SIGNED, ARCHIVE, AT, "c", ACTOR)) == [
        ("RegisterCertificate", "SIGNAT", None, "5565594230", False)]
    assert on_signed(replace(SIGNED, test_certificate=True), ARCHIVE, AT, "c", ACTOR) == []
    pu_test = replace(SIGNED, patient=replace(SIGNED.patient, test_indicator=True))
    assert on_signed(pu_test, ARCHIVE, AT, "c", ACTOR) == []


def test_a_message_names_the_recipient_also_through_the_archive() -> None:
    """logiskAdressMottagare is FK's address in both shapes; the call goes to FK or to the archive."""
    message = OutgoingMessage("m-1", AT, Amne.KONTKT, None, "Ring oss", ACTOR, FK.logical_address,
                              answer_to=MessageReference("q-1", "r-1"), deadline=date(2026, 12, 1))
    direct = on_message(SIGNED.header, message, FK, DIRECT, EventCode.HANFRFM, "c")
    through = on_message(SIGNED.header, message, FK, ARCHIVE, EventCode.HANFRFM, "c")
    assert (direct.logical_address, through.logical_address) == ("2021005521", "5565594230")
    assert OutgoingMessage.from_payload(through.payload["message"]) == message


def test_a_status_update_goes_to_the_journal() -> None:
    from tests.status_updates import event

    update = event(EventCode.SIGNAT)
    assert (update.destination, update.is_onward, update.lane_key) == (JOURNAL, False, update.unit.value)


def _record(event_id: int, contract: OutboundContract = R, destination: str = "FK", *, pending: bool = False,
            in_flight: bool = False, delivered: bool = False, outcomes: tuple[OutcomeClass, ...] = ()) -> OnwardRecord:
    return OnwardRecord(event_id, contract, destination, "FKASSA", pending, in_flight, delivered, frozenset(outcomes))


@pytest.mark.parametrize(("records", "cancelled", "targets"), [
    ([_record(1, pending=True)], {1}, []),  # never tried: cancelled, nothing to revoke
    ([_record(1, delivered=True)], set(), [("FK", "FKASSA")]),  # reached: revoke there
    ([_record(1, pending=True, outcomes=(OutcomeClass.TIMEOUT,))], {1}, [("FK", "FKASSA")]),  # may have
    ([_record(1, pending=True, outcomes=(OutcomeClass.TECHNICAL_ERROR,))], {1}, []),  # said "not done"
    ([_record(1, pending=True, in_flight=True)], set(), [("FK", "FKASSA")]),  # in flight: revoke queued behind
    ([_record(1, pending=True)], set(), [("FK", "FKASSA")]),  # a claim won the race against the cancel
    ([_record(1, delivered=True), _record(2, REV, delivered=True)], set(), []),  # revoked there already
    ([_record(1, outcomes=(OutcomeClass.VALIDATION_ERROR,))], set(), []),  # refused for good: never had it
])
def test_revocation_targets(records: list[OnwardRecord], cancelled: set[int], targets: list[tuple[str, str]]) -> None:
    """Where a revocation goes: wherever a registration reached, may have, or may still reach."""
    assert revocation_targets(records, cancelled) == targets


def test_what_a_revocation_cancels() -> None:
    """Pending registrations, sends and messages no worker holds; never one in flight, never a revocation."""
    records = [_record(1, pending=True), _record(2, SEND, pending=True, in_flight=True), _record(3, MSG, pending=True),
               _record(4, REV, pending=True), _record(5, delivered=True)]
    assert to_cancel(records) == [1, 3]


def test_a_revocation_behind_a_registration_that_did_not_arrive_is_moot() -> None:
    assert revocation_moot([_record(1, outcomes=(OutcomeClass.TECHNICAL_ERROR,)), _record(2, REV, pending=True)],
                           "FK")
    assert not revocation_moot([_record(1, delivered=True), _record(2, REV, pending=True)], "FK")
    assert not revocation_moot([_record(1, pending=True), _record(2, REV, pending=True)], "FK")
    assert not revocation_moot([_record(1, outcomes=(OutcomeClass.UNKNOWN,))], "FK")
