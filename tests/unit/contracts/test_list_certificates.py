"""Tests for contracts.list_certificates_for_care_with_qa.v3: the request read, the list and the fault written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from lxml import etree

from contracts.call import WrittenAnswer
from contracts.list_certificates_for_care_with_qa.v3.request import read_request
from contracts.list_certificates_for_care_with_qa.v3.responder import ListCertificatesResponder
from contracts.list_certificates_for_care_with_qa.v3.response import Rendered, write_list
from domain.arenden import Amne
from domain.certificate_list import HistoryEvent, ListedCertificate
from domain.certificate_types import load_default_registry
from domain.question_counts import Counts, QuestionCounts
from domain.result_texts import DEPENDENCY_UNAVAILABLE, INTERNAL_ERROR, LIST_NO_UNIT_OR_CARE_GIVER
from domain.values import CertificateStatus, EventCode, HsaId
from tests import builders
from tests import envelopes as m
from tests.conformance import list_certificates_corpus
from tests.conformance.schemas import message_errors
from tests.list_certificates import NS, fault_of, list_body, read_items
from usecases.certificate_list import Recent

USER = HsaId("SE2321000016-P001")


def test_times_are_swedish_local_time_and_blank_ids_read_as_absent() -> None:
    """fromTidpunkt in winter is UTC+1; an enhets-id of spaces and a blank vardgivar-id are no ids."""
    body = list_body(units=("SE2321000016-1000", "  ", "se2321000016-abcd"), care_giver=" ",
                     from_time="2026-12-01T08:00:00", to_time="2026-07-01T08:00:00")
    request = read_request(body)
    assert request.units == (HsaId("SE2321000016-1000"), HsaId("SE2321000016-ABCD"))
    assert request.units[1].value == "se2321000016-abcd"  # spelled as sent
    assert request.care_giver is None
    assert request.from_time == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert request.to_time == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)  # summer: UTC+2


def _item() -> ListedCertificate:
    certificate = builders.make_signed_certificate()
    at = datetime(2026, 11, 22, 10, 15, 2, 5000, tzinfo=UTC)
    events = (
        HistoryEvent(certificate.id, EventCode.SIGNAT, datetime(2026, 11, 21, 9, 0, tzinfo=UTC), USER),
        HistoryEvent(certificate.id, EventCode.NYFRFM, at, None, Amne.KOMPLT, date(2026, 12, 15)),
    )
    return ListedCertificate(certificate, events, QuestionCounts(Counts(1, 1), Counts(2, 0, 1, 1)))


def _envelope(response: etree._Element | WrittenAnswer) -> bytes:
    if isinstance(response, WrittenAnswer):
        return m.soap_envelope(etree.fromstring(response.body))
    return m.soap_envelope(response)


def test_the_list_has_events_with_topic_deadline_and_handler_where_they_apply() -> None:
    """Each handelse: code, local time to the millisecond, amne and deadline on NYFRFM, hanteratAv (3.4) on SIGNAT."""
    response = write_list([_item()], load_default_registry().lookup, Rendered(10))
    [item] = read_items(etree.fromstring(_envelope(response)))
    assert item.events == [("SIGNAT", "2026-11-21T10:00:00.000"), ("NYFRFM", "2026-11-22T11:15:02.005")]
    assert item.handled_by == ["SE2321000016-P001", None]
    assert item.amne == [None, "KOMPLT"]
    assert item.sent == (1, 1, 0, 0) and item.received == (2, 0, 1, 1)
    assert item.ref == "journal-ref-42"
    deadline = etree.fromstring(response.body).find(
        "lcq:list/lcq:item/lcq:handelser/lcq:handelse[2]/core:sistaDatumForSvar", NS)
    assert deadline is not None and deadline.text == "2026-12-15"


def test_the_list_is_valid_against_our_schema_and_an_empty_list_is_an_empty_element() -> None:
    """The written answer passes xsd/ (the official schema: tests/conformance and the integration tests)."""
    schema = list_certificates_corpus.SCHEMA.ours().schema
    assert message_errors(schema, _envelope(write_list([_item()], load_default_registry().lookup, Rendered(10)))) == []
    empty = write_list([], load_default_registry().lookup, Rendered(10))
    assert message_errors(schema, _envelope(empty)) == []
    assert etree.fromstring(empty.body).find("lcq:list", NS) is not None
    assert read_items(etree.fromstring(_envelope(empty))) == []


def test_a_refusal_is_a_client_fault_and_a_dependency_a_server_fault() -> None:
    """The contract has no ResultType: a request to fix is soap:Client, try-again-later is soap:Server."""
    responder = ListCertificatesResponder(_NoDeps())  # type: ignore[arg-type]  # refuse() needs no dependencies
    envelope = etree.fromstring(_envelope(responder.refuse([LIST_NO_UNIT_OR_CARE_GIVER.problem()])))
    assert fault_of(envelope) == ("soap:Client", LIST_NO_UNIT_OR_CARE_GIVER.sv)
    server = etree.fromstring(_envelope(responder.refuse([DEPENDENCY_UNAVAILABLE.problem(dependency="db")])))
    assert fault_of(server) is not None and fault_of(server)[0] == "soap:Server"  # type: ignore[index]
    internal = etree.fromstring(_envelope(responder.refuse([INTERNAL_ERROR.problem(correlation_id="c1")])))
    assert fault_of(internal) is not None and fault_of(internal)[0] == "soap:Server"  # type: ignore[index]


class _NoDeps:
    class recent:  # stands in for RecentlyListed
        size = 0


def test_a_written_certificate_is_reused_until_its_stamp_or_type_changes() -> None:
    """The second list copies the first one's elements; a new version of the certificate is written anew."""
    rendered, lookup = Rendered(10), load_default_registry().lookup
    item = _item()
    first = write_list([item], lookup, rendered).body
    assert write_list([item], lookup, rendered).body == first
    assert len(rendered.intyg._values) == 1 and len(rendered.handelser._values) == 1
    revoked = replace(item.certificate, version=item.certificate.version + 1,
                      status=CertificateStatus.REVOKED, revoked_at=datetime(2026, 11, 23, tzinfo=UTC))
    again = etree.fromstring(write_list([replace(item, certificate=revoked)], lookup, rendered).body)
    assert [s.text for s in again.iterfind(".//core:status/core:status/types:code", NS)] == ["SENTTO", "CANCEL"]
    assert write_list([item], lookup, rendered).body == first  # the old stamp still has its own


def test_written_events_are_reused_for_the_same_events_only() -> None:
    """A certificate's ``handelser`` are reused for the same events; other events are written anew,
    those of a run with the same first and last event and as many events (one hash) included."""
    rendered, lookup = Rendered(10), load_default_registry().lookup
    item = _item()
    signat, nyfrfm = item.events
    between = [HistoryEvent(item.certificate.id, EventCode.NYFRFM, datetime(2026, 11, 21, 12, 0, tzinfo=UTC), None,
                            Amne.KOMPLT, date(2026, 12, day)) for day in (1, 2)]

    def events_written(events: tuple[HistoryEvent, ...]) -> list[tuple[str, str]]:
        body = write_list([replace(item, events=events)], lookup, rendered)
        [written] = read_items(etree.fromstring(_envelope(body)))
        return list(written.events)

    assert events_written((signat,)) == [("SIGNAT", "2026-11-21T10:00:00.000")]
    assert len(events_written((signat, nyfrfm))) == 2
    first, second = (events_written((signat, one, nyfrfm)) for one in between)
    assert first == second and len(first) == 3  # the codes and times alike; the deadlines differ
    assert len(rendered.handelser._values) == 4
    pieces = list(rendered.handelser._values.values())
    assert pieces[2] != pieces[3] and b"2026-12-01" in pieces[2] and b"2026-12-02" in pieces[3]
    assert events_written((signat, between[0], nyfrfm)) == first and len(rendered.handelser._values) == 4


def test_pieces_carry_no_namespace_declarations_of_their_own_and_ref_is_escaped() -> None:
    """The response's root declares the namespaces once; a ref with markup characters stays text."""
    item = _item()
    item = replace(item, certificate=replace(item.certificate, ref="a<b & c>"))
    body = write_list([item, item], load_default_registry().lookup, Rendered(10)).body
    assert body.count(b"xmlns:core=") == 1
    [first, _] = read_items(etree.fromstring(_envelope(WrittenAnswer(body))))
    assert first.ref == "a<b & c>"


def test_nothing_is_kept_with_size_zero() -> None:
    """list_cache_certificates = 0: every list is written anew."""
    rendered = Rendered(0)
    write_list([_item()], load_default_registry().lookup, rendered)
    assert not rendered.intyg._values and not rendered.handelser._values


def test_recent_keeps_the_most_recently_used_and_drops_the_least() -> None:
    """A bounded LRU: reading a value keeps it; the oldest unread one goes first."""
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1
    recent.put("c", 3)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (1, None, 3)
