"""Tests for contracts.answers.read_answer: short answers read once are remembered, never confused."""

from __future__ import annotations

from contracts.answers import MEMO_MAX_BYTES, ContractAnswer, FaultAnswer, NotAnAnswer, read_answer, write_fault
from contracts.certificate_status_update.v3 import response as status_update
from contracts.register_certificate.v3 import response as register
from domain.values import ErrorId, ResultCode


def _fresh(data: bytes) -> bytes:
    """The same bytes in a new object, as each HTTP answer arrives."""
    return bytes(bytearray(data))


def test_a_short_answer_read_again_is_the_same_value_without_a_new_parse() -> None:
    """A journal's OK, answered thousands of times in a drain, is read once: the second read of equal
    bytes (a new object) gives the very same value."""
    ok = status_update.envelope_bytes(status_update.write_answer(ResultCode.OK))
    assert len(ok) <= MEMO_MAX_BYTES
    first = read_answer(_fresh(ok), status_update.RESPONSE_TAG)
    assert first == ContractAnswer(ResultCode.OK, None, None)
    assert read_answer(_fresh(ok), status_update.RESPONSE_TAG) is first


def test_remembered_answers_are_told_apart_by_their_bytes_and_by_the_contract_asked_for() -> None:
    """The same bytes read as another contract's answer are not that contract's answer, and answers
    read in turn keep their own values, whatever was read before them."""
    ok = status_update.envelope_bytes(status_update.write_answer(ResultCode.OK))
    busy = status_update.envelope_bytes(status_update.write_answer(
        ResultCode.ERROR, "Journalen är tillfälligt otillgänglig", ErrorId.TECHNICAL_ERROR))
    fault = status_update.envelope_bytes(write_fault("Server", "java.lang.NullPointerException"))
    for _ in range(3):
        assert read_answer(_fresh(ok), status_update.RESPONSE_TAG) == ContractAnswer(ResultCode.OK, None, None)
        assert read_answer(_fresh(busy), status_update.RESPONSE_TAG) == ContractAnswer(
            ResultCode.ERROR, ErrorId.TECHNICAL_ERROR, "Journalen är tillfälligt otillgänglig")
        assert read_answer(_fresh(fault), status_update.RESPONSE_TAG) == FaultAnswer(
            "{http://schemas.xmlsoap.org/soap/envelope/}Server", "java.lang.NullPointerException")
        assert isinstance(read_answer(_fresh(ok), register.RESPONSE_TAG), NotAnAnswer)


def test_a_long_answer_is_read_each_time_and_read_right() -> None:
    """An answer longer than the remembered size (an error page with a stack trace) is parsed anew
    each time: nothing large is kept."""
    text = "x" * (MEMO_MAX_BYTES + 100)
    long_error = status_update.envelope_bytes(
        status_update.write_answer(ResultCode.ERROR, text, ErrorId.APPLICATION_ERROR))
    first = read_answer(_fresh(long_error), status_update.RESPONSE_TAG)
    assert first == ContractAnswer(ResultCode.ERROR, ErrorId.APPLICATION_ERROR, text)
    assert read_answer(_fresh(long_error), status_update.RESPONSE_TAG) is not first
