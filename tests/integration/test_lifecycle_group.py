"""Certificate operations sharing a transaction, on SQLite and PostgreSQL: each as if alone.

The operations of one group run in one transaction, each in a savepoint: a refused one writes
nothing (its lazy lock included) while the others keep their writes, two on one certificate see
each other in arrival order, a conflict stays with its own operation. Groups are built exactly here
by capturing the operations the use cases hand to their committer and running them together;
the last test sends operations from many threads through the real committer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli.serve import load_demo_directory
from domain.certificate_types import load_default_registry
from domain.certificates import Certificate
from domain.lifecycle import LifecycleRefused, RefusalReason
from domain.pdl import SystemIdentity
from domain.values import CertificateStatus, EventCode, HsaId
from store import certificates, outbox, pdl
from store.directory import SqlDirectory
from store.errors import Conflict, DatabaseUnavailable
from store.session import UnitOfWork
from tests.builders import CONTENT, make_operable_draft
from tests.concurrency import at_once
from tests.memory import UnitOfWorkOf
from usecases import lifecycle
from usecases.group_commit import GroupCommit
from usecases.lifecycle import DependencyUnavailable, LifecycleDeps, Operation, OperationOutcome

S = CertificateStatus
START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
LAKARE, ADMIN = HsaId("SE2321000016-P001"), HsaId("SE2321000016-P002")


class Captured(Exception):
    """What the capturing committer answers: the operation was taken, not run."""


@pytest.fixture
def deps(db_url: str, session_factory: sessionmaker[Session]) -> Iterator[LifecycleDeps]:
    load_demo_directory(db_url)
    ids = iter(f"copy-{n}" for n in range(100))
    yield LifecycleDeps(
        transaction=UnitOfWork(session_factory),
        directory=SqlDirectory(session_factory),
        registry=load_default_registry(),
        system=SystemIdentity("SE0000000000-GW", "Intygsgateway"),
        clock=lambda: START + timedelta(hours=1),
        new_id=lambda: next(ids),
    )


def _store(deps: LifecycleDeps, certificate_id: str, created_at: datetime = START, **changes: object) -> Certificate:
    certificate = make_operable_draft(certificate_id, created_at, **changes)
    with deps.transaction() as session:
        certificates.add_certificate(session, certificate)
    return certificate


def _captured(deps: LifecycleDeps, *calls: Callable[[LifecycleDeps], object]) -> list[Operation]:
    """The operations ``calls`` hand to their committer, in order, checked but not run."""
    taken: list[Operation] = []

    def capture(operations: Sequence[Operation]) -> list[OperationOutcome]:
        taken.extend(operations)
        return [Captured() for _ in operations]

    capturing = replace(deps, group=GroupCommit(capture, on_timeout=Captured(), name="capture", max_size=1))
    for call in calls:
        with pytest.raises(Captured):
            call(capturing)
    return taken


def _state(deps: LifecycleDeps, certificate_id: str) -> tuple[S | None, int | None, list[EventCode], int]:
    with deps.transaction() as session:
        stored = certificates.get_certificate(session, certificate_id)
        events = [e.code for e in outbox.events_for_certificate(session, certificate_id)]
        records = len(pdl.records_for_certificate(session, certificate_id))
    return (stored.status if stored else None, stored.version if stored else None, events, records)


def test_a_refused_operation_writes_nothing_while_its_group_commits(deps: LifecycleDeps) -> None:
    """A stale draft's refused signing keeps it unlocked (its savepoint undid the lazy lock); the others stand."""
    _store(deps, "ready-me")
    _store(deps, "stale", START - timedelta(days=20))
    _store(deps, "sign-me")
    operations = _captured(
        deps,
        lambda d: lifecycle.mark_ready(d, "ready-me", ADMIN, "c1"),
        lambda d: lifecycle.sign(d, "stale", LAKARE, "c2"),
        lambda d: lifecycle.sign(d, "sign-me", LAKARE, "c3"),
    )
    outcomes = lifecycle.run_together(deps, operations)
    assert isinstance(outcomes[0], Certificate) and outcomes[0].status is S.READY
    assert isinstance(outcomes[1], LifecycleRefused) and outcomes[1].reason is RefusalReason.WRONG_STATUS
    assert isinstance(outcomes[2], Certificate) and outcomes[2].status is S.SIGNED
    assert _state(deps, "ready-me") == (S.READY, 2, [EventCode.KFSIGN], 1)
    assert _state(deps, "stale") == (S.DRAFT, 1, [], 0)
    assert _state(deps, "sign-me") == (S.SIGNED, 2, [EventCode.SIGNAT], 1)


def test_operations_on_one_certificate_see_each_other_in_arrival_order(deps: LifecycleDeps) -> None:
    """Edit, mark ready, then mark ready again: two changes in order, and the third refused as on its own."""
    _store(deps, "one")
    operations = _captured(
        deps,
        lambda d: lifecycle.update_content(d, "one", ADMIN, CONTENT, "c1"),
        lambda d: lifecycle.mark_ready(d, "one", ADMIN, "c2"),
        lambda d: lifecycle.mark_ready(d, "one", ADMIN, "c3"),
    )
    outcomes = lifecycle.run_together(deps, operations)
    assert [o.version for o in outcomes[:2] if isinstance(o, Certificate)] == [2, 3]
    assert isinstance(outcomes[2], LifecycleRefused) and outcomes[2].reason is RefusalReason.WRONG_STATUS
    assert _state(deps, "one") == (S.READY, 3, [EventCode.ANDRAT, EventCode.KFSIGN], 2)


def test_a_conflict_stays_with_its_own_operation(deps: LifecycleDeps) -> None:
    """A copy whose new id is taken ends in Conflict (its savepoint undid it); the other copy is stored."""
    _store(deps, "locked-1", status=S.LOCKED)
    _store(deps, "locked-2", status=S.LOCKED)
    _store(deps, "copy-taken")
    ids = iter(["copy-taken", "copy-fresh"])
    taking = replace(deps, new_id=lambda: next(ids))
    operations = _captured(
        taking,
        lambda d: lifecycle.copy_locked(d, "locked-1", ADMIN, "c1"),
        lambda d: lifecycle.copy_locked(d, "locked-2", ADMIN, "c2"),
    )
    outcomes = lifecycle.run_together(deps, operations)
    assert isinstance(outcomes[0], Conflict)
    assert isinstance(outcomes[1], Certificate) and outcomes[1].id == "copy-fresh"
    assert _state(deps, "copy-fresh") == (S.DRAFT, 1, [EventCode.SKAPAT], 1)
    assert _state(deps, "copy-taken") == (S.DRAFT, 1, [], 0)  # the stored one, untouched
    assert _state(deps, "locked-1") == (S.LOCKED, 1, [], 0)


def test_through_the_api_a_conflict_is_refused_as_conflict(deps: LifecycleDeps) -> None:
    """The request whose copy lost to a taken id gets LifecycleRefused(CONFLICT), as without groups."""
    _store(deps, "locked", status=S.LOCKED)
    _store(deps, "copy-0")  # the id the copy will be given
    grouped = replace(deps, group=lifecycle.group_commit(deps))
    with pytest.raises(LifecycleRefused) as caught:
        lifecycle.copy_locked(grouped, "locked", ADMIN, "c")
    assert caught.value.reason is RefusalReason.CONFLICT


def test_a_database_that_does_not_answer_is_dependency_unavailable_for_each(deps: LifecycleDeps) -> None:
    """The group's transaction cannot open: the operation is answered as a database outage, nothing written."""
    _store(deps, "a")
    _store(deps, "b")

    @contextmanager
    def down() -> Iterator[Session]:
        raise DatabaseUnavailable("database unavailable (OperationalError)")
        yield  # pragma: no cover - never reached

    grouped = replace(deps, group=lifecycle.group_commit(replace(deps, transaction=UnitOfWorkOf(down))))
    with pytest.raises(DependencyUnavailable):
        lifecycle.mark_ready(grouped, "a", ADMIN, "c")
    assert _state(deps, "a") == (S.DRAFT, 1, [], 0)


def test_many_users_at_once_through_the_committer(deps: LifecycleDeps, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve operations from twelve threads: each answered as alone, every write there once."""
    sizes: list[int] = []
    together = lifecycle.run_together

    def sized(run: LifecycleDeps, operations: Sequence[Operation]) -> list[OperationOutcome]:
        sizes.append(len(operations))
        return together(run, operations)

    monkeypatch.setattr(lifecycle, "run_together", sized)
    for n in range(12):
        _store(deps, f"c-{n}")
    grouped = replace(deps, group=lifecycle.group_commit(deps))
    calls: dict[str, Callable[[], object]] = {
        f"c-{n}": partial(lifecycle.mark_ready, grouped, f"c-{n}", ADMIN, f"corr-{n}") for n in range(10)
    }
    calls["c-10"] = partial(lifecycle.sign, grouped, "c-10", ADMIN, "corr-10")  # an administrator may not sign
    calls["c-11"] = partial(lifecycle.sign, grouped, "c-11", LAKARE, "corr-11")

    def outcome(call: Callable[[], object]) -> object:
        try:
            return call()
        except LifecycleRefused as refused:
            return refused.reason

    outcomes = at_once({name: partial(outcome, call) for name, call in calls.items()}, timeout=60)
    assert all(isinstance(outcomes[f"c-{n}"], Certificate) for n in range(10))
    assert outcomes["c-10"] is RefusalReason.ROLE_NOT_ALLOWED
    assert isinstance(outcomes["c-11"], Certificate)
    assert sum(sizes) == 12  # the role is checked in the signing's step, inside the group
    for n in range(10):
        assert _state(deps, f"c-{n}") == (S.READY, 2, [EventCode.KFSIGN], 1)
    assert _state(deps, "c-10") == (S.DRAFT, 1, [], 0)
    assert _state(deps, "c-11") == (S.SIGNED, 2, [EventCode.SIGNAT], 1)
