"""The recipient's answer to care's message: read by the client, written by the recipient simulator.

How Försäkringskassan answers a meddelande-id it already stored is not public. The incumbent's care
front end answers its own SendMessageToCare repeats with ``INFO`` ``ALREADY_RECEIVED``, which is what
the simulator answers here; the incumbent's archive refuses a repeat with ``ERROR``/
``VALIDATION_ERROR`` "MeddelandeId is not globally unique" (onward-flows.md §8.3), which only means
"a repeat" when the gateway may have sent the message before (``says_not_unique``).
"""

from __future__ import annotations

from lxml import etree

from contracts.answers import ProducerAnswer
from contracts.answers import read_answer as read_result_answer
from contracts.ns import SEND_MESSAGE_TO_RECIPIENT_V2, qname
from contracts.results import result_response
from domain.values import ErrorId, ResultCode

RESPONSE_TAG = qname(SEND_MESSAGE_TO_RECIPIENT_V2, "SendMessageToRecipientResponse")
ALREADY_RECEIVED = "This message has already been received."


def read_answer(content: bytes) -> ProducerAnswer:
    """Read an HTTP response body as this contract's answer, a fault, or neither. Never raises."""
    return read_result_answer(content, RESPONSE_TAG)


def says_already_received(text: str | None) -> bool:
    """Whether an INFO's text says the recipient has this message already."""
    return "already been received" in (text or "").casefold()


def says_not_unique(text: str | None) -> bool:
    """Whether an ERROR's text is the archive's "meddelande-id is not globally unique"."""
    return "not globally unique" in (text or "").casefold()


def write_answer(code: ResultCode, text: str | None = None, error_id: ErrorId | None = None) -> etree._Element:
    """The contract's answer as a recipient (the recipient simulator) writes it."""
    return result_response(RESPONSE_TAG, code, text, error_id)
