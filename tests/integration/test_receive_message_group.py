"""Received messages stored in groups, on SQLite and PostgreSQL: outcomes per message, each stored once.

Messages arrive on many threads at once through the process's group committer, as in the server.
A group that the database refuses (a lost race, here forced at its first commit) is stored again
one message at a time, with the same answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

import pytest
import structlog
from sqlalchemy.orm import Session, sessionmaker

from domain.arenden import Amne, Direction, MessageReference
from domain.values import EventCode
from gateway import correlation
from store import arenden, certificates, outbox
from store.errors import Conflict, DatabaseUnavailable
from store.session import UnitOfWork, transaction
from tests.builders import make_arende, make_incoming_message, make_signed_certificate
from tests.concurrency import at_once
from tests.memory import UnitOfWorkOf
from usecases import receive_message as receiving
from usecases.receive_message import MessageAccepted, MessageRefused

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CERTIFICATES = [replace(make_signed_certificate(), id=f"group-cert-{n}") for n in range(4)]


def _store_certificates(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        for certificate in CERTIFICATES:
            certificates.add_certificate(session, certificate)


def _deliver_at_once(
    deps: receiving.ReceiveMessageDeps, named: dict[str, receiving.ReceivedMessage]
) -> dict[str, object]:
    return at_once(
        {
            name: partial(receiving.receive_message, deps, delivery.message, delivery.correlation_id)
            for name, delivery in named.items()
        },
        timeout=60,
    )


@pytest.fixture
def group_size(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of the group being stored right now (in its first item), for transactions that fail on purpose."""
    size = [0]
    together = receiving.receive_together

    def sized(
        run: UnitOfWork, clock: receiving.Clock, deliveries: Sequence[receiving.ReceivedMessage]
    ) -> list[receiving.MessageVerdict]:
        size[0] = len(deliveries)
        return together(run, clock, deliveries)

    monkeypatch.setattr(receiving, "receive_together", sized)
    return size


def _deliveries() -> dict[str, receiving.ReceivedMessage]:
    named = {
        f"q-{n}": receiving.ReceivedMessage(
            make_incoming_message(CERTIFICATES[n % 4], message_id=f"fk-q-{n}"), f"corr-{n}"
        )
        for n in range(12)
    }
    named["again"] = receiving.ReceivedMessage(
        make_incoming_message(CERTIFICATES[0], message_id="fk-q-0"), "corr-again"
    )
    named["unknown"] = receiving.ReceivedMessage(
        make_incoming_message(CERTIFICATES[0], message_id="fk-x", certificate_id="no-such-certificate"), "corr-x"
    )
    return named


def _check_stored(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        for n, certificate in enumerate(CERTIFICATES):
            conversation = arenden.arenden_for_certificate(session, certificate.id)
            assert sorted(a.message_id for a in conversation) == sorted(f"fk-q-{k}" for k in range(n, 12, 4))
            assert all(len(a.kompletteringar) == 2 for a in conversation)
            events = outbox.events_for_certificate(session, certificate.id)
            assert [e.code for e in events] == [EventCode.NYFRFM] * 3
            # Each event counts the questions stored up to and including its own, in id order.
            assert [e.payload["counts"]["mottagnaFragor"]["totalt"] for e in events] == [1, 2, 3]


def _check_outcomes(outcomes: dict[str, object]) -> None:
    assert all(outcomes[f"q-{n}"] in (MessageAccepted(), MessageAccepted(already_received=True)) for n in range(12))
    # "again" and "q-0" are the same message: whichever came second is the resend.
    assert sorted(str(outcomes[name]) for name in ("q-0", "again")) == sorted(
        [str(MessageAccepted()), str(MessageAccepted(already_received=True))]
    )
    assert sum(outcome == MessageAccepted() for outcome in outcomes.values()) == 12
    unknown = outcomes["unknown"]
    assert isinstance(unknown, MessageRefused)
    assert [p.text_id for p in unknown.problems] == ["SMTC-CERTIFICATE-UNKNOWN"]


def test_concurrent_messages_through_the_group_committer(session_factory: sessionmaker[Session]) -> None:
    _store_certificates(session_factory)
    run = UnitOfWork(session_factory)
    deps = receiving.ReceiveMessageDeps(run, lambda: NOW, receiving.group_commit(run, lambda: NOW))
    outcomes = _deliver_at_once(deps, _deliveries())
    _check_outcomes(outcomes)
    _check_stored(session_factory)


def test_a_refused_group_is_stored_one_message_at_a_time(
    session_factory: sessionmaker[Session], group_size: list[int]
) -> None:
    """The first group's commit fails as a lost race would; its messages are then stored singly."""
    _store_certificates(session_factory)
    refused: list[int] = []

    @contextmanager
    def losing_first_group() -> Iterator[Session]:
        with transaction(session_factory) as session:
            yield session
            if not refused and group_size[0] > 1:
                refused.append(group_size[0])
                raise Conflict("a racing delivery stored one of these first")

    losing = UnitOfWorkOf(losing_first_group)
    deps = receiving.ReceiveMessageDeps(losing, lambda: NOW, receiving.group_commit(losing, lambda: NOW))
    outcomes = _deliver_at_once(deps, _deliveries())
    assert refused, "no group of two or more formed; the test did not exercise the split"
    _check_outcomes(outcomes)
    _check_stored(session_factory)


def test_a_group_whose_database_is_gone_answers_technical_error_and_stores_nothing(
    session_factory: sessionmaker[Session], group_size: list[int]
) -> None:
    """Groups fail on a dropped connection, twice: each of their messages answers TECHNICAL_ERROR."""
    _store_certificates(session_factory)

    @contextmanager
    def dropping_groups() -> Iterator[Session]:
        if group_size[0] > 1:
            raise DatabaseUnavailable("database connection lost (test)")
        with transaction(session_factory) as session:
            yield session

    dropping = UnitOfWorkOf(dropping_groups)
    deps = receiving.ReceiveMessageDeps(dropping, lambda: NOW, receiving.group_commit(dropping, lambda: NOW))
    named = {
        f"q-{n}": receiving.ReceivedMessage(make_incoming_message(CERTIFICATES[n % 4], message_id=f"fk-q-{n}"), f"c{n}")
        for n in range(12)
    }
    outcomes = _deliver_at_once(deps, named)
    unavailable = {name for name, outcome in outcomes.items() if outcome == receiving.UNAVAILABLE}
    assert unavailable, "no group of two or more formed; the test did not exercise the failure"
    assert all(outcomes[name] == MessageAccepted() for name in set(named) - unavailable)
    with transaction(session_factory) as session:
        stored = {a.message_id for c in CERTIFICATES for a in arenden.arenden_for_certificate(session, c.id)}
    assert stored == {named[name].message.message_id for name in set(named) - unavailable}


def test_an_answer_and_its_question_mark_in_one_group(session_factory: sessionmaker[Session]) -> None:
    """Care's question answered by FK in the same group as another question: the question is ANSWERED."""
    _store_certificates(session_factory)
    certificate = CERTIFICATES[0]
    with transaction(session_factory) as session:
        arenden.add_arende(
            session,
            make_arende(
                certificate, message_id="care-q-1", direction=Direction.FROM_CARE, amne=Amne.KONTKT, kompletteringar=()
            ),
        )
    answer = make_incoming_message(
        certificate, message_id="fk-a-1", amne="KONTKT", answer_to=MessageReference("care-q-1", "r"),
        kompletteringar=(), deadline=None,
    )
    question = make_incoming_message(certificate, message_id="fk-q-1")
    outcomes = receiving.receive_together(
        UnitOfWork(session_factory), lambda: NOW,
        [receiving.ReceivedMessage(question, "c1"), receiving.ReceivedMessage(answer, "c2")],
    )
    assert [verdict.outcome for verdict in outcomes] == [MessageAccepted(), MessageAccepted()]
    with transaction(session_factory) as session:
        stored = {a.message_id: a for a in arenden.arenden_for_certificate(session, certificate.id)}
        events = outbox.events_for_certificate(session, certificate.id)
    assert (stored["care-q-1"].status.value, stored["care-q-1"].answered_at) == ("ANSWERED", NOW)
    assert [e.code for e in events] == [EventCode.NYFRFM, EventCode.NYSVFM]
    assert [e.request_correlation_id for e in events] == ["c1", "c2"]


def test_each_request_reports_its_own_message_on_its_own_line(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group's leader decides every message of the group, but each verdict reaches its own request's line.

    Each delivery runs as the gateway runs a request (``correlation.bound``, then the call's line), so
    the line carrying a meddelande-id must carry the correlation id of the request that brought it.
    """
    _store_certificates(session_factory)
    run = UnitOfWork(session_factory)
    deps = receiving.ReceiveMessageDeps(run, lambda: NOW, receiving.group_commit(run, lambda: NOW))
    sizes: list[int] = []
    together = receiving.receive_together

    def sized(
        run: UnitOfWork, clock: receiving.Clock, deliveries: Sequence[receiving.ReceivedMessage]
    ) -> list[receiving.MessageVerdict]:
        sizes.append(len(deliveries))
        return together(run, clock, deliveries)

    monkeypatch.setattr(receiving, "receive_together", sized)
    log = structlog.get_logger("test")

    def request(delivery: receiving.ReceivedMessage) -> receiving.MessageOutcome:
        with correlation.bound({"HTTP_X_SKLTP_CORRELATION_ID": delivery.correlation_id}):
            outcome = receiving.receive_message(deps, delivery.message, delivery.correlation_id)
            log.info("soap_request")
        return outcome

    deliveries = _deliveries()
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        _check_outcomes(at_once({name: partial(request, delivery) for name, delivery in deliveries.items()}, 60))
    assert max(sizes) > 1  # a leader stored other requests' messages
    lines = {line["correlation_id"]: line for line in logs if line["event"] == "soap_request"}
    assert len(lines) == len(deliveries)
    for delivery in deliveries.values():
        assert lines[delivery.correlation_id]["message_id"] == delivery.message.message_id
    assert lines["corr-x"]["rules"] == ["SMTC-CERTIFICATE-UNKNOWN"]
    assert sum(line.get("already_received", False) for line in lines.values()) == 1
    assert sum(line.get("kind") == "question" for line in lines.values()) == 12
    assert all(line.get("event") == "soap_request" for line in logs)  # no line of the use case's own
