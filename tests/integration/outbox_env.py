"""A resend-engine test bed: certificates with queued events, routes to a journal simulator, a dispatcher.

Shared by the dispatcher tests, the worker-process tests and ``bench/resend.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from contracts.ns import STATUS_UPDATE_V3
from domain.certificate_types import load_default_registry
from domain.certificates import Answer
from domain.directory import Unit
from domain.events import OutboxEvent
from domain.resend_policy import Schedules
from domain.resend_schedule import DEFAULT_ADDRESS, DEFAULT_TECHNICAL, parse_schedule
from domain.values import EventCode, HsaId
from outbound import Delivery, HttpSender, Sender, Timeouts
from routing.catalogue import Catalogue, Route
from routing.content import CatalogueContent
from routing.provider import CatalogueProvider, StaticProvider
from scheduler.dispatcher import DispatchConfig, Dispatcher
from store.certificates import add_certificate
from store.outbox import enqueue
from store.routing import publish
from store.session import UnitOfWork, transaction
from store.units import register_integrated_unit
from tests.builders import CARE_GIVER, make_draft

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
UNIT = "SE2321000016-1003"  # the builders' draft unit; its parent is PARENT
PARENT = "SE2321000016-1000"
SCHEDULES = Schedules(parse_schedule(DEFAULT_TECHNICAL), parse_schedule(DEFAULT_ADDRESS))


class Clock:
    """A settable clock for the dispatcher (thread-safe: the dispatcher may read it from threads)."""

    def __init__(self, now: datetime = T0) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


def unit_name(number: int) -> str:
    return f"SE2321000016-U{number:04d}"


def add_certificates(factory: sessionmaker[Session], ids: Iterable[str], unit: str = UNIT,
                     codes: tuple[EventCode, ...] = (EventCode.SKAPAT,), at: datetime = T0,
                     integrated: bool = True, content: tuple[Answer, ...] | None = None) -> list[int]:
    """Store a draft per id at ``unit`` (with ``content`` if given), make the unit integrated, and
    queue ``codes`` for each."""
    event_ids = []
    base = make_draft() if content is None else replace(make_draft(), content=content)
    with transaction(factory) as session:
        if integrated:
            register_integrated_unit(session, HsaId(unit), CARE_GIVER.hsa_id, at)
        for certificate_id in ids:
            certificate = replace(base, id=certificate_id, unit=replace(base.unit, hsa_id=HsaId(unit)))
            add_certificate(session, certificate)
            for offset, code in enumerate(codes):
                event_ids.append(enqueue(session, status_event(certificate_id, code, at + timedelta(seconds=offset),
                                                               certificate.unit)))
    return event_ids


def status_event(certificate_id: str, code: EventCode, at: datetime, unit: Unit,
                 payload: dict[str, object] | None = None) -> OutboxEvent:
    return OutboxEvent(certificate_id=certificate_id, code=code, occurred_at=at, unit=unit.hsa_id,
                       care_giver=CARE_GIVER.hsa_id, request_correlation_id=f"{certificate_id}-{code}",
                       acting_user=HsaId("SE2321000016-P001"), payload=payload or {})


def catalogue_for(url: str, address: str = PARENT, **timeouts: float) -> StaticProvider:
    """A catalogue with one status-update route (``address`` -> ``url``); UNIT climbs to PARENT."""
    route = Route(STATUS_UPDATE_V3, address, url, **timeouts)  # type: ignore[arg-type]
    return StaticProvider(Catalogue(routes=[route], parents={UNIT: PARENT, PARENT: "SE2321000016-0001"}))


def publish_route(factory: sessionmaker[Session], url: str, address: str = "*") -> None:
    """Publish a status-update route in the database catalogue (for worker processes)."""
    content = CatalogueContent(routes=(Route(STATUS_UPDATE_V3, address, url, valid_from=date(2000, 1, 1)),))
    with transaction(factory) as session:
        publish(session, content, by="test", action="import", now=datetime.now(UTC), keep=5, changes={})


def make_dispatcher(factory: sessionmaker[Session], catalogue: CatalogueProvider, clock: Clock,
                    read_s: float = 5.0, sender: Sender | None = None, **config: object) -> tuple[Dispatcher, Sender]:
    """A dispatcher on the database, the catalogue and ``sender`` (by default an ``HttpSender``)."""
    timeouts = Timeouts(connect_s=1.0, read_s=read_s)
    sender = sender or HttpSender(None, clock)
    dispatch = DispatchConfig(schedules=SCHEDULES, timeouts=timeouts, **config)  # type: ignore[arg-type]
    delivery = Delivery(sender, catalogue, load_default_registry(), timeouts, clock)
    return Dispatcher(UnitOfWork(factory), delivery, dispatch, clock), sender
