"""A test bed for onward flows: the lifecycle use cases on the demo directory, a journal simulator and a
recipient simulator on loopback, routes to both, and one dispatcher, all on one settable clock.

Shared by the onward delivery tests (``test_onward_delivery.py``); the end-to-end tests run the same
parts as processes instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date

from lxml import etree
from sqlalchemy.orm import Session, sessionmaker

from cli.serve import load_demo_directory
from contracts.ns import STATUS_UPDATE_V3
from domain.certificate_types import load_default_registry
from domain.certificates import Certificate
from domain.events import OutboundContract
from domain.onward import DEFAULT_ARCHIVE_ADDRESS, OnwardConfig, OnwardTarget
from domain.pdl import SystemIdentity
from domain.recipients import load_default_recipients
from domain.values import CertificateStatus, HsaId
from outbound import ROUTING_CONTRACTS, Delivery, HttpSender, Timeouts
from routing.catalogue import Catalogue, Route
from routing.provider import StaticProvider
from scheduler.dispatcher import DispatchConfig, Dispatcher
from simulator.journal import MockJournal
from simulator.recipient import CONTRACT_PATHS, MockRecipient
from simulator.server import running, serving
from store import certificates, outbox
from store.directory import SqlDirectory
from store.outbox import EventReport, StoredEvent, event_report
from store.session import UnitOfWork, transaction
from store.units import register_integrated_unit
from tests.builders import CARE_GIVER, make_operable_draft
from tests.conformance import (
    register_certificate_corpus,
    revoke_certificate_corpus,
    send_certificate_corpus,
    send_message_to_recipient_corpus,
    status_update_corpus,
)
from tests.conformance.schemas import OFFICIAL_ENV, message_errors
from tests.integration.outbox_env import PARENT, SCHEDULES, T0, UNIT, Clock
from usecases.lifecycle import LifecycleDeps

FK = "2021005521"
ARCHIVE = DEFAULT_ARCHIVE_ADDRESS
LAKARE = HsaId("SE2321000016-P001")
CORPORA = {
    "RegisterCertificate": register_certificate_corpus, "SendCertificateToRecipient": send_certificate_corpus,
    "RevokeCertificate": revoke_certificate_corpus, "SendMessageToRecipient": send_message_to_recipient_corpus,
}


def routes_to(journal_url: str, recipient_base: str) -> list[Route]:
    """A status-update route for the demo unit's parent, and every onward contract at FK and the archive."""
    start = date(2000, 1, 1)
    onward = [
        Route(ROUTING_CONTRACTS[contract], address, recipient_base + CONTRACT_PATHS[contract.value], valid_from=start)
        for contract in OutboundContract if contract is not OutboundContract.STATUS_UPDATE
        for address in (FK, ARCHIVE)
    ]
    return [Route(STATUS_UPDATE_V3, PARENT, journal_url, valid_from=start), *onward]


@dataclass
class Loop:
    """Everything of one onward test: the use cases, the simulators, the dispatcher and the clock."""

    deps: LifecycleDeps
    factory: sessionmaker[Session]
    journal: MockJournal
    recipient: MockRecipient
    recipient_base: str
    dispatcher: Dispatcher
    clock: Clock

    def certificate(self, certificate_id: str, **changes: object) -> Certificate:
        """A LISJP draft stored at the demo unit (integrated: its journal gets status updates)."""
        draft = make_operable_draft(certificate_id, self.clock(), **changes)
        with transaction(self.factory) as session:
            register_integrated_unit(session, HsaId(UNIT), CARE_GIVER.hsa_id, self.clock())
            certificates.add_certificate(session, draft)
        return draft

    def drain(self, rounds: int = 12) -> int:
        """Run dispatcher cycles until two in a row claim nothing (a cycle also makes the calls claimed
        before it: their outcomes may queue more, such as SKICKA); how many were claimed."""
        total, idle = 0, 0
        for _ in range(rounds):
            claimed = self.dispatcher.run_batch()
            total += claimed
            idle = idle + 1 if claimed == 0 else 0
            if idle == 2:
                return total
        raise AssertionError(f"still claiming after {rounds} rounds")

    def stored(self, certificate_id: str) -> Certificate:
        with transaction(self.factory) as session:
            found = certificates.get_certificate(session, certificate_id)
        assert found is not None
        return found

    def events(self, certificate_id: str) -> list[StoredEvent]:
        with transaction(self.factory) as session:
            return outbox.events_for_certificate(session, certificate_id)

    def report(self, event_id: int) -> EventReport:
        with transaction(self.factory) as session:
            found = event_report(session, event_id)
        assert found is not None
        return found

    def onward(self, certificate_id: str) -> list[tuple[str, str, str | None]]:
        """(contract, status, logical address) of each onward event, in order."""
        return [(e.contract.value, e.status.value, e.logical_address) for e in self.events(certificate_id)
                if e.is_onward]

    def journal_codes(self, certificate_id: str) -> list[str | None]:
        """The event codes the journal received for the certificate, in order."""
        return [r.event_code for r in self.journal.received() if r.certificate_id == certificate_id]

    def signed(self, certificate_id: str) -> Certificate:
        """A stored draft, signed by the physician (its SIGNAT queued)."""
        from usecases import lifecycle

        self.certificate(certificate_id)
        signed = lifecycle.sign(self.deps, certificate_id, LAKARE, f"sign-{certificate_id}")
        assert signed.status in (CertificateStatus.SIGNED, CertificateStatus.SENDING)
        return signed


@contextmanager
def onward_loop(db_url: str, factory: sessionmaker[Session], target: OnwardTarget = OnwardTarget.RECIPIENT,
                **config: object) -> Iterator[Loop]:
    """The test bed on ``db_url`` in deployment shape ``target``; simulators stopped on exit."""
    load_demo_directory(db_url)
    clock = Clock(T0)
    journal, recipient = MockJournal(), MockRecipient()
    with ExitStack() as stack:
        journal_url = stack.enter_context(running(journal))
        recipient_base = stack.enter_context(serving(recipient))
        catalogue = StaticProvider(Catalogue(routes=routes_to(journal_url, recipient_base),
                                             parents={UNIT: PARENT, PARENT: "SE2321000016-0001"}))
        timeouts = Timeouts(connect_s=1.0, read_s=5.0)
        sender = HttpSender(None, clock)
        stack.callback(sender.close)
        uow = UnitOfWork(factory)
        dispatcher = Dispatcher(uow, Delivery(sender, catalogue, load_default_registry(), timeouts, clock),
                                DispatchConfig(schedules=SCHEDULES, timeouts=timeouts, **config), clock)  # type: ignore[arg-type]
        deps = LifecycleDeps(
            transaction=uow, directory=SqlDirectory(factory), registry=load_default_registry(),
            system=SystemIdentity("SE0000000000-GW", "Intygsgateway"), clock=clock,
            onward=OnwardConfig(target, ARCHIVE, load_default_recipients()),
        )
        yield Loop(deps, factory, journal, recipient, recipient_base, dispatcher, clock)


def schema_problems(recipient: MockRecipient, journal: MockJournal) -> list[str]:
    """Every request either simulator received that our schemas, or the official ones (with
    ``RIVTA_OFFICIAL_SCHEMAS``), refuse: ``contract: problem`` each. Empty when every message was valid."""
    problems = []
    official = bool(os.environ.get(OFFICIAL_ENV))
    for record in recipient.received():
        corpus = CORPORA[record["contract"]]
        schemas = [corpus.SCHEMA.ours().schema] + ([corpus.SCHEMA.official().schema] if official else [])
        for schema in schemas:
            problems += [f"{record['contract']}: {p}" for p in message_errors(schema, record["xml"].encode())]
    for update in journal.received():
        assert update.raw_xml is not None
        schemas = [status_update_corpus.SCHEMA.ours().schema] + (
            [status_update_corpus.SCHEMA.official().schema] if official else [])
        for schema in schemas:
            problems += [f"status update: {p}" for p in message_errors(schema, update.raw_xml.encode())]
    return problems


def body_of(xml: str) -> etree._Element:
    """The body element of a recorded request."""
    envelope = etree.fromstring(xml.encode())
    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None
    return body[0]

