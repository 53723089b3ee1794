"""A patient's certificates with their event history and question counts (ListCertificatesForCareWithQA).

Journal systems reconcile their view of a patient's certificates with this list. The incumbent
builds it from its status-update table (onward-flows.md §6.2), so a certificate whose events were
purged is missing and the order is whatever the database returns. Here the list is built from the
certificates themselves and their own event history (``HistoryEvent``, kept for as long as the
certificate, whatever the outbox's retention does):

* **Selection**: every certificate of the patient at one of the given units, or, when no unit is
  given, at the care giver (the incumbent's precedence: units win), with at least one event in the
  time window. Drafts, locked drafts, revoked and sent certificates alike. A deleted draft has no
  certificate any more and is not listed.
* **Time window**: ``fromTidpunkt`` and ``tomTidpunkt`` both inclusive, either may be absent; the
  listed events are the ones inside it, oldest first.
* **Order**: newest certificate first (creation time, then the id for a stable order between
  certificates created in the same instant), so that a journal system paging through its view sees
  the recent ones first and two calls give the same order.
* **Counts**: ``skickadeFragor``/``mottagnaFragor`` over *all* of the certificate's questions,
  whatever the window, exactly as status updates count them (``domain.question_counts``).

What a request must hold beyond the schema: a person id that is a real personnummer or
samordningsnummer, a unit or a care giver, and a window that does not end before it starts. The
contract has no result type, so problems are answered with a SOAP fault carrying the texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.arenden import Amne, ConversationEntry
from domain.certificates import Certificate
from domain.events import PAYLOAD_AMNE, PAYLOAD_LAST_ANSWER_DATE, RECIPIENT_EVENTS, OutboxEvent
from domain.personnummer import InvalidPersonId, parse_person_id
from domain.question_counts import QuestionCounts, question_counts
from domain.result_texts import (
    LIST_NO_UNIT_OR_CARE_GIVER,
    LIST_PERSON_ID_INVALID,
    LIST_PERSON_ID_MISSING,
    LIST_WINDOW_REVERSED,
    Problem,
)
from domain.values import EventCode, HsaId, PersonId

#: Events that are not kept in a certificate's history: RADERA removes the certificate itself.
NOT_IN_HISTORY = frozenset({EventCode.RADERA})


@dataclass(frozen=True, slots=True)
class ListRequest:
    """A ListCertificatesForCareWithQA request as read off the wire, typed but unchecked.

    ``person_id_root``/``person_id`` are ``person-id`` as sent; ``units`` the ``enhets-id`` values
    that are not blank; ``from_time``/``to_time`` aware times (the wire's Swedish local time).
    """

    person_id_root: str
    person_id: str
    units: tuple[HsaId, ...] = ()
    care_giver: HsaId | None = None
    from_time: datetime | None = None
    to_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class CertificateSelection:
    """A checked request: whose certificates, where, and in which window."""

    patient: PersonId
    units: tuple[HsaId, ...]
    care_giver: HsaId | None
    from_time: datetime | None
    to_time: datetime | None

    @property
    def by_unit(self) -> bool:
        """Units were given: the care giver is then ignored (as the incumbent does)."""
        return bool(self.units)

    def in_window(self, at: datetime) -> bool:
        """Whether ``at`` lies in the window (both ends inclusive, an absent end is open)."""
        return (self.from_time is None or at >= self.from_time) and (self.to_time is None or at <= self.to_time)


def check_list_request(request: ListRequest) -> CertificateSelection | list[Problem]:
    """The selection ``request`` asks for, or every problem that stops it being answered."""
    problems: list[Problem] = []
    patient: PersonId | None = None
    if not request.person_id.strip():
        problems.append(LIST_PERSON_ID_MISSING.problem())
    else:
        try:
            patient = parse_person_id(request.person_id_root, request.person_id)
        except InvalidPersonId as error:
            problems.append(LIST_PERSON_ID_INVALID.problem(reason=error.reason.value))
    if not request.units and request.care_giver is None:
        problems.append(LIST_NO_UNIT_OR_CARE_GIVER.problem())
    if request.from_time is not None and request.to_time is not None and request.from_time > request.to_time:
        problems.append(LIST_WINDOW_REVERSED.problem())
    if problems or patient is None:
        return problems
    return CertificateSelection(patient, request.units, request.care_giver, request.from_time, request.to_time)


@dataclass(frozen=True, slots=True)
class CertificateStamp:
    """Which state of a certificate a list holds: its id, and the version and time of its last change.

    Every change of a stored certificate raises its ``version`` (``store.certificates``), so a
    certificate read before with the same stamp is the same certificate: the list reuses it.
    """

    id: str
    version: int
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event in a certificate's own history: what happened, when, and who handled it.

    The same events as the certificate's status updates (KV_HANDELSE), kept with the certificate
    rather than in the outbox. ``amne`` and ``deadline`` (``sistaDatumForSvar``) are those of a
    question from the recipient (NYFRFM); ``handled_by`` is the user who caused the event (None for
    what the recipient caused, and for what the gateway did by itself).
    """

    certificate_id: str
    code: EventCode
    at: datetime
    handled_by: HsaId | None = None
    amne: Amne | None = None
    deadline: date | None = None

    def __hash__(self) -> int:
        # The certificate and the time tell events apart well enough for a hash (equality still
        # compares every field); the generated hash of every field cost more than writing the event,
        # and a list's written events are looked up by them (``Rendered``).
        return hash((self.certificate_id, self.at))


def history_event(event: OutboxEvent) -> HistoryEvent | None:
    """The history entry of an outbox event, or None for an event that is not kept.

    Only status updates are history (an onward event follows from one, such as the registration
    after SIGNAT); RADERA is not kept because the certificate goes with it. An ``amne`` or
    ``sistaDatumForSvar`` the payload does not hold as a code or a date is left out rather than
    refused: the event itself was accepted when it was queued.
    """
    if event.is_onward or event.code in NOT_IN_HISTORY:
        return None
    handled_by = None if event.code in RECIPIENT_EVENTS else event.acting_user
    return HistoryEvent(
        certificate_id=event.certificate_id,
        code=event.code,
        at=event.occurred_at,
        handled_by=handled_by,
        amne=_amne(event.payload.get(PAYLOAD_AMNE)),
        deadline=_date(event.payload.get(PAYLOAD_LAST_ANSWER_DATE)),
    )


def _amne(value: Any) -> Amne | None:
    try:
        return Amne(value) if value is not None else None
    except ValueError:
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class ListedCertificate:
    """One ``item`` of the answer: the certificate, its events in the window and its question counts."""

    certificate: Certificate
    events: tuple[HistoryEvent, ...]
    counts: QuestionCounts


def assemble(
    selection: CertificateSelection,
    found: Iterable[Certificate],
    events: Mapping[str, Sequence[HistoryEvent]],
    conversations: Mapping[str, Sequence[ConversationEntry]],
) -> list[ListedCertificate]:
    """The answer's items: the certificates of ``found`` that match ``selection`` and have an event in
    its window, newest first, each with those events (oldest first) and its counts over all of
    ``conversations``.

    The store's query already selects this way; checking again here keeps the rule in one readable
    place and makes the answer independent of how the query was written.
    """
    items = []
    for certificate in found:
        if not _matches(selection, certificate):
            continue
        in_window = sorted(
            (event for event in events.get(certificate.id, ()) if selection.in_window(event.at)),
            key=lambda event: event.at,
        )
        if not in_window:
            continue
        counts = question_counts(conversations.get(certificate.id, ()))
        items.append(ListedCertificate(certificate, tuple(in_window), counts))
    items.sort(key=lambda item: item.certificate.id, reverse=True)
    items.sort(key=lambda item: item.certificate.created_at, reverse=True)
    return items


def _matches(selection: CertificateSelection, certificate: Certificate) -> bool:
    if certificate.patient.person_id.digits != selection.patient.digits:
        return False
    if selection.by_unit:
        return certificate.unit.hsa_id in selection.units
    return certificate.care_giver.hsa_id == selection.care_giver
