"""SendMessageToCare v2 in the contract's decision order: read, receive, answer."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from contracts.call import SoapCall
from contracts.ns import SEND_MESSAGE_V2, qname
from contracts.send_message_to_care.v2.request import read_request
from contracts.send_message_to_care.v2.response import RESPONSE_TAG, write_result
from domain.result_texts import Problem, result_for
from domain.values import ResultCode
from usecases.receive_message import (
    ALREADY_RECEIVED,
    MessageAccepted,
    MessageRefused,
    ReceiveMessageDeps,
    receive_message,
)


class SendMessageResponder:
    """Answers ``SendMessageToCare`` by running the receive-message use case."""

    operation = "SendMessageToCare"
    request_tag = qname(SEND_MESSAGE_V2, "SendMessageToCare")
    response_tag = RESPONSE_TAG

    def __init__(self, deps: ReceiveMessageDeps) -> None:
        self._deps = deps

    def respond(self, body: etree._Element, call: SoapCall) -> etree._Element:
        return self.answer(receive_message(self._deps, read_request(body, call.logical_address), call.correlation_id))

    def answer(self, outcome: MessageAccepted | MessageRefused) -> etree._Element:
        """OK for a new message, INFO for one received before, ERROR with every problem."""
        if isinstance(outcome, MessageRefused):
            return self.refuse(outcome.problems)
        if outcome.already_received:
            return write_result(ResultCode.INFO, ALREADY_RECEIVED)
        return write_result(ResultCode.OK)

    def refuse(self, problems: Sequence[Problem]) -> etree._Element:
        error_id, text = result_for(problems)
        return write_result(ResultCode.ERROR, text, error_id)
