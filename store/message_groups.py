"""Received messages stored together: a group of SendMessageToCare messages' writes, in one statement on
PostgreSQL.

SendMessageToCare stores the messages one process has ready at once in one transaction (the group
commit of ``usecases.receive_message``): it locks and reads what the messages are checked against,
decides, and then writes the new messages, the questions the answers answer, and the status updates
with their history entries. On PostgreSQL those writes are one statement, as a group of new drafts is
(``store.draft_groups``, which says why); on SQLite they are the statements of ``arenden`` and
``outbox``. The rows and the rule for answered questions are the same either way (``arenden.arende_row``,
``arenden.answered_sql``, ``outbox.queue.rows_by_table``).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import TextClause, text

from domain.arenden import Arende
from domain.events import OutboxEvent
from store import arenden, driver
from store.arenden import ANSWERED_AT, ArendeRow
from store.base import TableShape, insert_clauses, json_tables, with_all
from store.outbox import queue
from store.session import Tx


def add_messages(
    session: Tx, new: Sequence[Arende], answered: Collection[str], at: datetime, events: Sequence[OutboxEvent]
) -> None:
    """Store ``new`` messages, mark the questions ``answered`` answered at ``at``, and enqueue ``events``
    (with their history), in the caller's transaction.

    Raises:
        Conflict: a meddelande-id is already stored, or an ``answer_to`` already has an answer;
            nothing was stored.
    """
    if (session.get_bind().dialect.name != "postgresql" or any(map(queue.supersedes, events))
            or any(message.message_id in answered for message in new)):
        # The clauses of one statement do not see each other's rows: a question answered in the
        # same group as it arrives is marked after its insert; an event that supersedes earlier
        # edits needs its own row id first. No received message's event does.
        arenden.add_arenden(session, new)
        arenden.mark_answered(session, answered, at)
        queue.enqueue_all(session, events)
        return
    shape, parameters = json_tables({
        str(ArendeRow.__tablename__): [arenden.arende_row(message) for message in new],
        **queue.rows_by_table(events),
    })
    if answered:
        parameters |= arenden.answered_parameters(answered, at)
    statement = _statement(shape, bool(answered))
    if statement is None:
        return
    driver.execute(session, statement, parameters)


@functools.cache
def _statement(shape: TableShape, answers: bool) -> TextClause | None:
    """One ``WITH`` clause per table that has rows (``shape``), and the answered questions' update."""
    clauses = insert_clauses(shape)
    if answers:
        clauses.append(arenden.answered_sql("postgresql"))
    if not clauses:
        return None
    statement = text(with_all(clauses))
    return statement.bindparams(ANSWERED_AT) if answers else statement
