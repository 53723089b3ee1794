"""StoreLog's group commit on SQLite and PostgreSQL: concurrent calls share transactions, outcomes stay per call."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from functools import partial

import pytest
import structlog
from lxml import etree
from sqlalchemy.orm import Session, sessionmaker

from contracts.store_log.v2.request import read_entries
from gateway import correlation
from store.session import UnitOfWork
from tests import store_log_envelopes as s
from tests.concurrency import at_once
from tests.memory import UnitOfWorkOf
from usecases.pdl_log import verify_log
from usecases.store_log import (
    Call,
    LogRefused,
    LogStored,
    StoreLogDeps,
    group_commit,
    store_log,
)


def _deps(factory: sessionmaker[Session]) -> StoreLogDeps:
    run = UnitOfWork(factory)
    return StoreLogDeps(run, lambda: datetime(2026, 11, 21, 12, 0, tzinfo=UTC), group=group_commit(run))


def test_concurrent_calls_each_get_their_own_outcome(session_factory: sessionmaker[Session]) -> None:
    """Sixteen threads at once: new calls OK, an identical resend INFO, a reused logId refused; one chain."""
    deps = _deps(session_factory)
    calls = {f"call-{n}": s.store_log_body(*(s.entry(f"c{n}-{i}") for i in range(5))) for n in range(14)}
    calls["resend-a"] = s.store_log_body(s.entry("shared-entry"))
    calls["resend-b"] = s.store_log_body(s.entry("shared-entry"))
    outcomes = at_once({name: partial(store_log, deps, read_entries(body), name) for name, body in calls.items()})
    assert all(outcomes[f"call-{n}"] == LogStored(5) for n in range(14))
    assert sorted(str(outcomes[name]) for name in ("resend-a", "resend-b")) == sorted(
        [str(LogStored(1)), str(LogStored(0, ("shared-entry",)))]
    )
    reused = store_log(deps, read_entries(s.store_log_body(s.entry("shared-entry", activity_type="Skriva"))), "x")
    assert isinstance(reused, LogRefused)
    result = verify_log(UnitOfWork(session_factory)).chain
    assert result.broken is None and result.checked == 14 * 5 + 1


def test_a_failing_group_fails_each_waiting_call_and_the_committer_lives_on() -> None:
    """An unexpected error in the committer reaches the caller, and the committer lives on for the next call."""
    attempts: list[int] = []

    class Broken(RuntimeError):
        pass

    def transaction() -> AbstractContextManager[Session]:
        attempts.append(1)
        raise Broken("the database driver failed")

    group = group_commit(UnitOfWorkOf(transaction), wait_seconds=5)
    entries = read_entries(s.store_log_body(s.entry("broken")))  # with records: a call without needs no transaction
    call = Call(tuple(entries), tuple(entry.records() for entry in entries))
    with pytest.raises(Broken):
        group.submit(call)
    with pytest.raises(Broken):
        group.submit(call)
    assert len(attempts) == 2


def test_each_call_reports_what_it_stored_on_its_own_line(session_factory: sessionmaker[Session]) -> None:
    """The entries a call brought, stored and repeated (or the problems that refused it) go on that call's line.

    Each call runs as the gateway runs a request (``correlation.bound``, then the call's line): the
    facts reach the call that had them, whichever thread led its group, and the use case writes no
    line of its own.
    """
    deps = _deps(session_factory)
    log = structlog.get_logger("test")

    def request(name: str, body: etree._Element) -> LogStored | LogRefused:
        with correlation.bound({"HTTP_X_SKLTP_CORRELATION_ID": name}):
            outcome = store_log(deps, read_entries(body), name)
            log.info("soap_request")
        return outcome

    calls = {f"call-{n}": s.store_log_body(*(s.entry(f"c{n}-{i}") for i in range(n + 1))) for n in range(6)}
    calls["late"] = s.store_log_body(s.entry("late", start_date="2099-01-01T00:00:00"))
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        at_once({name: partial(request, name, body) for name, body in calls.items()})
        request("again", calls["call-2"])
    assert all(line["event"] == "soap_request" for line in logs)
    facts = {line["correlation_id"]: {k: line.get(k) for k in ("entries", "stored", "repeated", "problems")}
             for line in logs}
    assert facts == {
        **{f"call-{n}": {"entries": n + 1, "stored": n + 1, "repeated": 0, "problems": None} for n in range(6)},
        "late": {"entries": 1, "stored": None, "repeated": None, "problems": 1},
        "again": {"entries": 3, "stored": 0, "repeated": 3, "problems": None},
    }
