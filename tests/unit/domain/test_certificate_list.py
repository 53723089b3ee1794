"""Tests for domain.certificate_list: the request's rules, the history entry of an event, and the list."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.arenden import Amne, ArendeStatus, ConversationEntry, Direction, MessageReference
from domain.certificate_list import (
    CertificateSelection,
    HistoryEvent,
    ListRequest,
    assemble,
    check_list_request,
    history_event,
)
from domain.events import OutboundContract, event_about
from domain.question_counts import Counts
from domain.values import PERSONNUMMER_ROOT, SAMORDNINGSNUMMER_ROOT, EventCode, HsaId, PersonId, PersonIdKind
from tests.builders import make_draft

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
USER = HsaId("SE2321000016-P001")
PATIENT = "197010632391"  # the builders' samordningsnummer patient
UNIT = HsaId("SE2321000016-1003")
CARE_GIVER = HsaId("SE2321000016-0001")


def _request(**changes: object) -> ListRequest:
    base = ListRequest(SAMORDNINGSNUMMER_ROOT, PATIENT, units=(UNIT,))
    return replace(base, **changes)  # type: ignore[arg-type]


def _selection(**changes: object) -> CertificateSelection:
    selection = check_list_request(_request(**changes))
    assert isinstance(selection, CertificateSelection), selection
    return selection


# --- the request ---------------------------------------------------------------------------------


def test_a_valid_request_becomes_a_selection_of_the_checked_patient() -> None:
    """The person id is checked and kept as a PersonId, with its kind read from the digits."""
    selection = _selection(person_id=f" {PATIENT} ")
    assert selection.patient == PersonId(PersonIdKind.SAMORDNINGSNUMMER, PATIENT)
    assert selection.units == (UNIT,) and selection.by_unit


@pytest.mark.parametrize(("changes", "text_ids"), [
    ({"person_id": "  "}, ["LCQ-PERSON-ID-MISSING"]),
    ({"person_id": "197010632392"}, ["LCQ-PERSON-ID-INVALID"]),  # check digit
    ({"person_id_root": PERSONNUMMER_ROOT}, ["LCQ-PERSON-ID-INVALID"]),  # a samordningsnummer under pnr root
    ({"units": (), "care_giver": None}, ["LCQ-NO-UNIT-OR-CARE-GIVER"]),
    ({"from_time": T0, "to_time": T0 - timedelta(seconds=1)}, ["LCQ-WINDOW-REVERSED"]),
    ({"person_id": "", "units": (), "from_time": T0 + timedelta(days=1), "to_time": T0},
     ["LCQ-PERSON-ID-MISSING", "LCQ-NO-UNIT-OR-CARE-GIVER", "LCQ-WINDOW-REVERSED"]),
])
def test_a_request_that_cannot_be_answered_gets_every_problem(changes: dict[str, object], text_ids: list[str]) -> None:
    """Every problem is reported at once, by its catalogue id."""
    problems = check_list_request(_request(**changes))
    assert isinstance(problems, list)
    assert [problem.text_id for problem in problems] == text_ids


def test_an_invalid_person_id_is_never_echoed() -> None:
    """The text says which check failed, never the number."""
    [problem] = check_list_request(_request(person_id="197010632392"))  # type: ignore[misc]
    assert "197010632392" not in problem.text and "checksum" in problem.text


def test_a_care_giver_alone_is_enough_and_a_one_instant_window_is_valid() -> None:
    """No unit but a care giver selects by care giver; from == tom is a window of one instant."""
    selection = _selection(units=(), care_giver=CARE_GIVER, from_time=T0, to_time=T0)
    assert not selection.by_unit
    assert selection.in_window(T0)
    assert not selection.in_window(T0 + timedelta(microseconds=1))


# --- history -------------------------------------------------------------------------------------


def test_a_question_from_the_recipient_keeps_its_amne_and_deadline_but_no_handler() -> None:
    """NYFRFM is the recipient's doing: no hanteratAv, even when a user id came with the event."""
    event = event_about(make_draft().header, EventCode.NYFRFM, T0, "corr", USER,
                        {"amne": "KOMPLT", "sistaDatumForSvar": "2026-12-15"})
    assert history_event(event) == HistoryEvent(make_draft().id, EventCode.NYFRFM, T0, None, Amne.KOMPLT,
                                                date(2026, 12, 15))


def test_a_users_event_keeps_the_user() -> None:
    """SIGNAT by a user is handled by that user; nothing about questions is invented."""
    entry = history_event(event_about(make_draft().header, EventCode.SIGNAT, T0, "corr", USER))
    assert entry is not None and entry.handled_by == USER and entry.amne is None and entry.deadline is None


def test_radera_and_onward_events_are_not_history() -> None:
    """RADERA goes with the certificate; an onward call follows from a status update already kept."""
    header = make_draft().header
    assert history_event(event_about(header, EventCode.RADERA, T0, "corr", USER)) is None
    onward = replace(event_about(header, EventCode.SIGNAT, T0, "corr", USER),
                     contract=OutboundContract.REGISTER, logical_address="FKASSA-ADDRESS")
    assert history_event(onward) is None


def test_an_unreadable_topic_is_left_out_not_refused() -> None:
    """The event was accepted when queued; a payload it cannot map leaves amne and deadline empty."""
    event = event_about(make_draft().header, EventCode.NYFRFM, T0, "corr", None,
                        {"amne": "XYZ", "sistaDatumForSvar": "15/12"})
    entry = history_event(event)
    assert entry is not None and entry.amne is None and entry.deadline is None


# --- the list ------------------------------------------------------------------------------------


def _certificate(certificate_id: str, created_minutes: int, **changes: object):  # type: ignore[no-untyped-def]
    return replace(make_draft(certificate_id), created_at=T0 + timedelta(minutes=created_minutes),
                   **changes)  # type: ignore[arg-type]


def _event(certificate_id: str, minutes: int, code: EventCode = EventCode.SKAPAT) -> HistoryEvent:
    return HistoryEvent(certificate_id, code, T0 + timedelta(minutes=minutes), USER)


def _question(message_id: str, certificate_id: str, direction: Direction, status: ArendeStatus = ArendeStatus.OPEN,
              **changes: object) -> ConversationEntry:
    entry = ConversationEntry(message_id=message_id, certificate_id=certificate_id, direction=direction,
                              status=status, amne=Amne.KOMPLT)
    return replace(entry, **changes)  # type: ignore[arg-type]


def test_newest_certificate_first_with_a_stable_order_for_ties() -> None:
    """Creation time descending; certificates created in the same instant by id descending."""
    found = [_certificate("a", 0), _certificate("c", 5), _certificate("b", 5), _certificate("d", 1)]
    events = {c.id: [_event(c.id, 10)] for c in found}
    items = assemble(_selection(), reversed(found), events, {})
    assert [item.certificate.id for item in items] == ["c", "b", "d", "a"]


def test_only_events_in_the_window_are_listed_oldest_first_and_ends_are_inclusive() -> None:
    """A certificate without an event in the window is left out; events outside it are not shown."""
    inside = _certificate("inside", 0)
    outside = _certificate("outside", 0)
    events = {
        "inside": [_event("inside", 30, EventCode.SIGNAT), _event("inside", 10, EventCode.KFSIGN),
                   _event("inside", 0), _event("inside", 31, EventCode.SKICKA)],
        "outside": [_event("outside", 0), _event("outside", 31, EventCode.SIGNAT)],
    }
    selection = _selection(from_time=T0 + timedelta(minutes=10), to_time=T0 + timedelta(minutes=30))
    [item] = assemble(selection, [inside, outside], events, {})
    assert item.certificate.id == "inside"
    assert [event.code for event in item.events] == [EventCode.KFSIGN, EventCode.SIGNAT]


def test_units_win_over_the_care_giver_and_compare_without_case() -> None:
    """With units given, the care giver is ignored (as the incumbent does); HSA-ids ignore case."""
    here = _certificate("here", 0)
    elsewhere = _certificate("elsewhere", 0, unit=replace(make_draft().unit, hsa_id=HsaId("SE2321000016-9999")))
    events = {"here": [_event("here", 0)], "elsewhere": [_event("elsewhere", 0)]}
    selection = _selection(units=(HsaId("se2321000016-1003"),), care_giver=CARE_GIVER)
    assert [i.certificate.id for i in assemble(selection, [here, elsewhere], events, {})] == ["here"]
    by_care_giver = _selection(units=(), care_giver=HsaId("se2321000016-0001"))
    assert {i.certificate.id for i in assemble(by_care_giver, [here, elsewhere], events, {})} == {"here", "elsewhere"}


def test_another_patients_certificate_is_never_listed() -> None:
    """Whatever the store hands over, a certificate of another patient stays out."""
    other = _certificate("other", 0, patient=replace(make_draft().patient,
                                                      person_id=PersonId(PersonIdKind.PERSONNUMMER, "191212121212")))
    assert assemble(_selection(), [other], {"other": [_event("other", 0)]}, {}) == []


def test_counts_cover_every_question_whatever_the_window_as_status_updates_count_them() -> None:
    """Questions only (answers and reminders skipped); handled beats answered beats open."""
    certificate = _certificate("c1", 0)
    conversation = [
        _question("q1", "c1", Direction.FROM_RECIPIENT),  # open
        _question("q2", "c1", Direction.FROM_RECIPIENT, ArendeStatus.HANDLED),  # handled
        _question("q3", "c1", Direction.FROM_RECIPIENT),  # answered below
        _question("a3", "c1", Direction.FROM_CARE, ArendeStatus.ANSWERED, answer_to=MessageReference("q3")),
        _question("p1", "c1", Direction.FROM_RECIPIENT, amne=Amne.PAMINN, reminder_of="q1"),  # a reminder
        _question("v1", "c1", Direction.FROM_CARE, amne=Amne.KONTKT),  # care's open question
    ]
    selection = _selection(from_time=T0 + timedelta(minutes=5))
    [item] = assemble(selection, [certificate], {"c1": [_event("c1", 6, EventCode.NYFRFM)]}, {"c1": conversation})
    assert item.counts.received == Counts(total=3, unanswered=1, answered=1, handled=1)
    assert item.counts.sent_by_care == Counts(total=1, unanswered=1)


def test_events_are_equal_only_when_every_field_is_and_serve_as_keys() -> None:
    """The hash looks at the certificate and the time only; equality still compares everything, so two
    events of one instant (a question and its handling, say) stay two keys."""
    signed = _event("c1", 5, EventCode.SIGNAT)
    assert signed == _event("c1", 5, EventCode.SIGNAT) and hash(signed) == hash(_event("c1", 5, EventCode.SIGNAT))
    same_instant = [signed, _event("c1", 5, EventCode.SKICKA), replace(signed, handled_by=None),
                    replace(signed, amne=Amne.KOMPLT), replace(signed, deadline=date(2026, 12, 1))]
    assert len(set(same_instant)) == len(same_instant)
    written = {tuple(same_instant): "a", (signed,): "b"}
    assert written[(_event("c1", 5, EventCode.SIGNAT),)] == "b"
