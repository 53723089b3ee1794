"""StoreLog as one unit of work: check every entry, then store all new entries, or nothing.

Order: the checks that need no database (``domain.store_log.check_entries``) first, answering
VALIDATION_ERROR with every failing entry. Then, in one transaction, the entries' ``logId`` are
looked up: an entry stored before with identical content is a resend and is skipped (the answer is
INFO and names it), one stored with different content refuses the whole call. Everything new is
inserted in call order; the process's sealer links it into the hash chain once committed
(``store.pdl``). A concurrent call storing the same new ``logId`` loses on the unique index; that
call is run once more, when it sees the other's entry as stored.

In the server, concurrent calls of one process are stored together (``group_commit``): one
transaction, one multi-row INSERT and one commit for several calls, each still all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog

from domain.pdl import PdlRecord
from domain.result_texts import DEPENDENCY_UNAVAILABLE, STORELOG_LOG_ID_REUSED, Problem
from domain.store_log import LogEntry, StoreLogLimits, check_entries, entry_problem
from store import UnitOfWork, pdl
from store.errors import Conflict, DatabaseUnavailable
from usecases import call_line
from usecases.group_commit import GroupCommit

log = structlog.get_logger("usecases.store_log")



@dataclass(frozen=True, slots=True)
class StoreLogDeps:
    """What storing log entries needs: the unit of work, the clock, the limits, and the group committer.

    Without ``group`` each call is stored in its own transaction (tests, tools); the server passes
    this process's ``group_commit`` so that concurrent calls share transactions.
    """

    transaction: UnitOfWork
    clock: Callable[[], datetime]
    limits: StoreLogLimits = field(default_factory=StoreLogLimits)
    group: GroupCommit[Call, LogStored | LogRefused] | None = None


@dataclass(frozen=True, slots=True)
class LogStored:
    """The call succeeded: ``stored`` entries are new; ``repeated`` logIds were already stored as sent."""

    stored: int
    repeated: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LogRefused:
    """Nothing from the call was stored; ``problems`` say why."""

    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Sender:
    """The authenticated system that sent a StoreLog call, and how it was identified (``mtls``, ``proxy``)."""

    consumer_id: str
    authenticated_by: str | None


def store_log(
    deps: StoreLogDeps, entries: Sequence[LogEntry], correlation_id: str, sender: Sender | None = None
) -> LogStored | LogRefused:
    """Check and store one StoreLog call, all or nothing; each record keeps its ``sender`` (None: not identified)."""
    problems = check_entries(entries, deps.clock(), deps.limits)
    if problems:
        call_line.add(entries=len(entries), problems=len(problems))
        return LogRefused(tuple(problems))
    call = Call(tuple(entries), tuple(_sent_by(entry.records(), sender) for entry in entries))
    outcome = deps.group.submit(call) if deps.group is not None else store_each(deps.transaction, [call])[0]
    if isinstance(outcome, LogStored):
        call_line.add(entries=len(entries), stored=outcome.stored, repeated=len(outcome.repeated))
    else:
        call_line.add(entries=len(entries), problems=len(outcome.problems))
    return outcome


def _sent_by(records: tuple[PdlRecord, ...], sender: Sender | None) -> tuple[PdlRecord, ...]:
    if sender is None:
        return records
    return tuple(replace(r, consumer_id=sender.consumer_id, consumer_auth=sender.authenticated_by) for r in records)


@dataclass(frozen=True, slots=True)
class Call:
    """One checked StoreLog call: its entries and their records (one tuple per entry)."""

    entries: tuple[LogEntry, ...]
    records: tuple[tuple[PdlRecord, ...], ...]


UNAVAILABLE = LogRefused((DEPENDENCY_UNAVAILABLE.problem(dependency="intygsgatewayns databas"),))


def decide(
    calls: Sequence[Call], stored: dict[str, list[PdlRecord]]
) -> tuple[list[LogStored | LogRefused], list[PdlRecord]]:
    """Each call's outcome given the records already stored, and the new records to append, in order.

    A logId stored with the same records is a resend; with others, it refuses its call. Calls are
    decided in order and an accepted call's entries count as stored for the calls after it, so two
    calls carrying the same new entry store it once.
    """
    known = dict(stored)
    outcomes: list[LogStored | LogRefused] = []
    new: list[PdlRecord] = []
    for call in calls:
        fresh: list[tuple[PdlRecord, ...]] = []
        repeated: list[str] = []
        problems: list[Problem] = []
        for entry, rows in zip(call.entries, call.records, strict=True):
            existing = known.get(rows[0].log_id)
            if existing is None:
                fresh.append(rows)
            elif existing == list(rows):
                repeated.append(rows[0].log_id)
            else:
                problems.append(entry_problem(STORELOG_LOG_ID_REUSED, entry))
        if problems:
            outcomes.append(LogRefused(tuple(problems)))
            continue
        for rows in fresh:
            known[rows[0].log_id] = list(rows)
            new.extend(rows)
        outcomes.append(LogStored(len(call.entries) - len(repeated), tuple(repeated)))
    return outcomes, new


def store_group(transaction: UnitOfWork, calls: Sequence[Call], look_up: bool = True) -> list[LogStored | LogRefused]:
    """Decide and store ``calls`` in one transaction; each accepted call's records are appended whole.

    With ``look_up=False`` the stored logIds are not read first: the unique index on ``log_id``
    refuses the transaction (``Conflict``) if one exists, and the caller then stores with the
    look-up. Resends are rare, so this saves a query, and its round trip, in the common case; the
    records are then the transaction's one statement (``pdl.store_records``).
    """
    if not look_up:
        outcomes, new = decide(calls, {})
        pdl.store_records(transaction, new)
        return outcomes
    with transaction() as session:
        ids = [rows[0].log_id for call in calls for rows in call.records]
        stored = pdl.records_by_log_id(session, ids)
        outcomes, new = decide(calls, stored)
        pdl.append_all(session, new)
    return outcomes


def store_each(transaction: UnitOfWork, calls: Sequence[Call]) -> list[LogStored | LogRefused]:
    """Store each call in its own transaction; a lost race on a logId is retried once, an outage answered."""
    outcomes: list[LogStored | LogRefused] = []
    for call in calls:
        try:
            try:
                outcomes += store_group(transaction, [call])
            except Conflict:
                # Another process stored one of these logIds meanwhile: decide again, seeing it.
                outcomes += store_group(transaction, [call])
        except DatabaseUnavailable:
            log.warning("database_unavailable")
            outcomes.append(UNAVAILABLE)
    return outcomes


def group_commit(
    transaction: UnitOfWork, max_records: int = 5000, wait_seconds: float = 30.0
) -> GroupCommit[Call, LogStored | LogRefused]:
    """This process's committer for StoreLog calls (``usecases.group_commit``).

    Appending takes no lock (records are sealed into the chain after commit), but a transaction per
    call still costs a commit, with its round trips, for every call. A group of calls is stored with
    one multi-row INSERT and one commit (docs/pdl-log.md has the figures), without first reading
    which logIds exist; if the unique index objects (a resend, or a logId raced in from another
    process) or the database dropped, its calls are stored one by one instead, each with the look-up.
    A group holds at most ``max_records`` records.
    """

    def commit(calls: Sequence[Call]) -> list[LogStored | LogRefused]:
        try:
            return store_group(transaction, calls, look_up=False)
        except (Conflict, DatabaseUnavailable):
            return store_each(transaction, calls)

    return GroupCommit(
        commit,
        on_timeout=UNAVAILABLE,
        name="pdl-group-commit",
        max_size=max_records,
        size=lambda call: sum(len(rows) for rows in call.records),
        wait_seconds=wait_seconds,
    )
