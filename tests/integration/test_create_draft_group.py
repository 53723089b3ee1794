"""New drafts stored in groups, on SQLite and PostgreSQL: each draft answered and stored as on its own.

Drafts arrive on many threads at once through the process's group committer, as in the server (and
through the served gateway over HTTP). A group that holds a certificate id already stored is stored
again one draft at a time, so only that draft fails; a database that does not answer gives every
draft TECHNICAL_ERROR after one more try. The integrated unit a group registers once is the row that
one upsert per draft would have left behind, compared on the database itself.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy.orm import Session, sessionmaker

from contracts.ns import CORE, CREATE_DRAFT_V3, TYPES
from domain.directory import CareGiver
from domain.values import EventCode, HsaId
from store import certificates, outbox, pdl, units
from store.errors import Conflict, DatabaseUnavailable
from store.session import UnitOfWork, transaction
from tests.builders import CARE_GIVER, make_new_draft
from tests.concurrency import at_once
from tests.envelopes import create_draft_envelope
from tests.integration.gateway_server import demo_gateway_deps, running
from tests.memory import UnitOfWorkOf
from usecases import create_draft as drafting
from usecases.create_draft import UNAVAILABLE, DraftCreated, NewDraft

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OTHER_REGION = CareGiver(HsaId("SE2321000016-0002"), "Region Annan")


@pytest.fixture
def group_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every group stored in one transaction, in order."""
    sizes: list[int] = []
    together = drafting.store_together

    def sized(run: UnitOfWork, drafts: Sequence[NewDraft]) -> None:
        sizes.append(len(drafts))
        together(run, drafts)

    monkeypatch.setattr(drafting, "store_together", sized)
    return sizes


def _drafts() -> dict[str, NewDraft]:
    """Sixteen drafts on four units (two spellings of one), one of them test data."""
    named = {
        f"d-{n}": make_new_draft(
            f"group-draft-{n:02d}",
            unit=["SE2321000016-1003", "SE2321000016-1004", "se2321000016-1003", "SE2321000016-1005"][n % 4],
            at=T0 + timedelta(milliseconds=n),
            test_certificate=n == 5,
        )
        for n in range(16)
    }
    return named


def test_concurrent_drafts_through_the_group_committer(
    session_factory: sessionmaker[Session], group_sizes: list[int]
) -> None:
    """Sixteen threads at once: sixteen answers, every row once, the units registered as draft by draft."""
    run = UnitOfWork(session_factory)
    committer = drafting.group_commit(run)
    named = _drafts()
    outcomes = at_once({name: partial(committer.submit, draft) for name, draft in named.items()}, timeout=60)
    assert outcomes == {name: draft.answer for name, draft in named.items()}
    assert sum(group_sizes) == 16
    with transaction(session_factory) as session:
        stored = certificates.certificates_by_id(session, [d.certificate.id for d in named.values()])
        assert stored == {d.certificate.id: d.certificate for d in named.values()}
        for draft in named.values():
            (event,) = outbox.events_for_certificate(session, draft.certificate.id)
            assert (event.code, event.request_correlation_id, event.occurred_at) == (
                EventCode.SKAPAT, draft.event.request_correlation_id, draft.certificate.created_at
            )
            records = pdl.records_for_certificate(session, draft.certificate.id)
            assert records == ([] if draft.record is None else [draft.record])
        seen = units.get_integrated_unit(session, HsaId("SE2321000016-1003"))
        assert seen is not None
        assert (seen.first_seen, seen.last_seen) == (T0, T0 + timedelta(milliseconds=14))
        assert seen.unit.key == "se2321000016-1003"


def test_a_group_with_a_taken_id_is_stored_one_draft_at_a_time(session_factory: sessionmaker[Session]) -> None:
    """The draft whose id is taken fails with Conflict (as on its own); the others of its group are stored."""
    run = UnitOfWork(session_factory)
    taken = make_new_draft("taken-id")
    drafting.store_together(run, [taken])
    group = [make_new_draft("fresh-1"), replace(taken, answer=DraftCreated("taken-id", "again", False)),
             make_new_draft("fresh-2")]  # fmt: skip
    outcomes = drafting.store_group(run, group)
    assert outcomes[0] == group[0].answer and outcomes[2] == group[2].answer
    assert isinstance(outcomes[1], Conflict)
    with transaction(session_factory) as session:
        assert set(certificates.certificates_by_id(session, ["fresh-1", "fresh-2", "taken-id"])) == {
            "fresh-1", "fresh-2", "taken-id"
        }
        assert len(outbox.events_for_certificate(session, "taken-id")) == 1  # the first one's only


def test_a_taken_id_raises_conflict_in_its_own_request(session_factory: sessionmaker[Session]) -> None:
    """Through ``create_draft``'s path the Conflict is raised in the request's thread, as without grouping."""
    run = UnitOfWork(session_factory)
    committer = drafting.group_commit(run)
    draft = make_new_draft("taken-twice")
    assert committer.submit(draft) == draft.answer
    assert isinstance(committer.submit(draft), Conflict)


def test_a_database_that_does_not_answer_gives_every_draft_technical_error() -> None:
    """Two tries for the group, then TECHNICAL_ERROR for each draft; a lone draft is tried once."""
    attempts: list[int] = []

    @contextmanager
    def down() -> Iterator[Session]:
        attempts.append(1)
        raise DatabaseUnavailable("database unavailable (OperationalError)")
        yield  # pragma: no cover - never reached

    run = UnitOfWorkOf(down)
    assert drafting.store_group(run, [make_new_draft("a"), make_new_draft("b")]) == [UNAVAILABLE, UNAVAILABLE]
    assert len(attempts) == 2
    assert drafting.store_group(run, [make_new_draft("c")]) == [UNAVAILABLE]
    assert len(attempts) == 3


def test_a_folded_registration_leaves_the_row_of_one_upsert_per_draft(session_factory: sessionmaker[Session]) -> None:
    """Random sequences, with and without an existing row: the database's own upsert, folded and draft by draft."""
    generator = random.Random(1616)
    givers = [CARE_GIVER, OTHER_REGION]
    for case in range(30):
        times = [T0 + timedelta(seconds=generator.randint(0, 3)) for _ in range(generator.randint(2, 5))]
        chosen = [generator.choice(givers) for _ in times]
        existing = case % 2 == 0
        rows = {}
        for way in ("each", "folded"):
            unit = HsaId(f"SE2321000016-{way}{case}")
            drafts = [make_new_draft(f"{way}-{case}-{n}", unit.value, at, giver)
                      for n, (at, giver) in enumerate(zip(times, chosen, strict=True))]  # fmt: skip
            with transaction(session_factory) as session:
                if existing:
                    units.register_integrated_unit(session, unit, HsaId("SE2321000016-0009"),
                                                   T0 + timedelta(seconds=2), first_seen=T0 + timedelta(seconds=1))
                if way == "each":
                    for draft in drafts:
                        c = draft.certificate
                        units.register_integrated_unit(session, c.unit.hsa_id, c.care_giver.hsa_id, c.created_at)
                else:
                    (seen,) = drafting.draft_rows(drafts).units
                    units.register_integrated_unit(session, seen.unit, seen.care_giver, seen.last_seen,
                                                   first_seen=seen.first_seen)
            with transaction(session_factory) as session:
                row = units.get_integrated_unit(session, unit)
            assert row is not None
            rows[way] = (row.care_giver, row.first_seen, row.last_seen)
        assert rows["folded"] == rows["each"], (existing, times, chosen)


def test_concurrent_requests_over_http_each_get_their_own_draft(db_url: str) -> None:
    """Twelve journal-system requests at once through the served gateway: twelve drafts, each stored once."""
    _, deps = demo_gateway_deps(db_url)
    with running(deps, db_url) as gateway:
        answers = at_once({n: partial(gateway.post, create_draft_envelope()) for n in range(12)}, timeout=60)
        ids = set()
        for status, envelope, _ in answers.values():
            assert status == 200
            assert envelope.findtext(f".//{{{CORE}}}resultCode") == "OK"
            ids.add(envelope.findtext(f".//{{{CREATE_DRAFT_V3}}}intygs-id/{{{TYPES}}}extension"))
        assert len(ids) == 12
        counts = gateway.row_counts()
        assert counts["certificate"] == 12 and counts["outbox_event"] == 12
