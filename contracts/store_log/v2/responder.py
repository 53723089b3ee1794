"""StoreLog v2: read the entries, store them (all or nothing), answer with the domain's own ResultType.

This contract's ``log:ResultType`` differs from the certificate contracts' one: ``resultCode`` and
an optional ``resultText``, in the auditing log namespace, and no ``errorId`` (contracts.md §8.2).
Answers:

* ``OK``: every entry was stored;
* ``INFO``: the call succeeded, but some entries were already stored with the same content (a resend)
  and were not stored again; the text names their logIds;
* ``VALIDATION_ERROR``: a problem with the request (schema, hostile XML, a failing entry: the text
  lists every one); nothing stored;
* ``ERROR``: anything else, including a database that does not answer (the contract has no
  "try again" code: the text says to try again later); nothing stored;
* ``ACCESSDENIED``: the consumer may not log here. The front door's consumer access control calls
  ``access_denied(text)`` for contracts whose ResultType can say so, before the responder runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from lxml import etree

from contracts.call import SoapCall
from contracts.ns import AUDITING_LOG, STORE_LOG_V2, qname
from contracts.store_log.v2.request import read_entries
from domain.result_texts import Problem, result_for
from domain.store_log import LogEntry, repeated_info
from domain.values import ErrorId
from usecases.store_log import LogRefused, LogStored, Sender, StoreLogDeps, store_log

RESPONSE_TAG = qname(STORE_LOG_V2, "StoreLogResponse")


class LogResultCode(StrEnum):
    """The ``log:ResultCodeType`` values this service answers with."""

    OK = "OK"
    INFO = "INFO"
    ERROR = "ERROR"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    ACCESSDENIED = "ACCESSDENIED"


def write_result(code: LogResultCode, text: str | None = None) -> etree._Element:
    """A ``StoreLogResponse`` with ``result`` (children in the auditing log namespace)."""
    response = etree.Element(RESPONSE_TAG, nsmap={"slr": STORE_LOG_V2, "log": AUDITING_LOG})
    result = etree.SubElement(response, qname(STORE_LOG_V2, "result"))
    etree.SubElement(result, qname(AUDITING_LOG, "resultCode")).text = code.value
    if text is not None:
        etree.SubElement(result, qname(AUDITING_LOG, "resultText")).text = text
    return response


class StoreLogResponder:
    """Answers ``StoreLog`` by running the store-log use case."""

    operation = "StoreLog"
    request_tag = qname(STORE_LOG_V2, "StoreLog")
    response_tag = RESPONSE_TAG

    def __init__(self, deps: StoreLogDeps) -> None:
        self._deps = deps

    def respond(self, body: etree._Element, call: SoapCall) -> etree._Element:
        entries = read_entries(body)
        sender = Sender(call.consumer.value, call.consumer_auth) if call.consumer is not None else None
        return self.answer(store_log(self._deps, entries, call.correlation_id, sender), entries)

    def answer(self, outcome: LogStored | LogRefused, entries: Sequence[LogEntry]) -> etree._Element:
        """OK, INFO naming the entries stored before, or the refusal's answer."""
        if isinstance(outcome, LogRefused):
            return self.refuse(outcome.problems)
        if outcome.repeated:
            return write_result(LogResultCode.INFO, repeated_info(outcome.repeated, len(entries)))
        return write_result(LogResultCode.OK)

    def refuse(self, problems: Sequence[Problem]) -> etree._Element:
        """VALIDATION_ERROR when the request itself is wrong, ERROR otherwise; every text listed."""
        error_id, text = result_for(problems)
        code = LogResultCode.VALIDATION_ERROR if error_id is ErrorId.VALIDATION_ERROR else LogResultCode.ERROR
        return write_result(code, text)

    def access_denied(self, text: str) -> etree._Element:
        """The ACCESSDENIED answer, for the front door's consumer access control."""
        return write_result(LogResultCode.ACCESSDENIED, text)
