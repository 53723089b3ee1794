"""Write ``SendMessageToCareResponse`` elements (contracts.md §5.2): only a ``result``.

OK when the message was stored, INFO with a text when it had been received before, ERROR with
``errorId`` and ``resultText`` when it was refused.
"""

from __future__ import annotations

from lxml import etree

from contracts.ns import SEND_MESSAGE_V2, qname
from contracts.results import add_result
from domain.values import ErrorId, ResultCode

RESPONSE_TAG = qname(SEND_MESSAGE_V2, "SendMessageToCareResponse")


def write_result(
    code: ResultCode, text: str | None = None, error_id: ErrorId | None = None
) -> etree._Element:
    """The response carrying one result."""
    response = etree.Element(RESPONSE_TAG, nsmap={"smtc": SEND_MESSAGE_V2})
    add_result(response, qname(SEND_MESSAGE_V2, "result"), code, text, error_id)
    return response
