"""Correlation ids are passed through when sane and generated otherwise."""

from __future__ import annotations

import pytest
import structlog

from gateway.correlation import bound, correlation_id
from usecases import call_line


def test_a_sane_correlation_id_is_kept() -> None:
    """The platform's id comes back unchanged."""
    assert correlation_id({"HTTP_X_SKLTP_CORRELATION_ID": "abc-123_x.y:z"}) == "abc-123_x.y:z"


def test_a_missing_or_hostile_id_is_replaced() -> None:
    """Absent, overlong or injected values get a fresh 32-hex id."""
    for environ in ({}, {"HTTP_X_SKLTP_CORRELATION_ID": "x" * 200},
                    {"HTTP_X_SKLTP_CORRELATION_ID": "a\r\nSet-Cookie: y"}):
        generated = correlation_id(environ)
        assert len(generated) == 32 and all(c in "0123456789abcdef" for c in generated)


def test_a_request_starts_from_an_empty_log_context_and_keeps_its_facts_to_itself() -> None:
    """What a use case adds for its call's line (``call_line.add``) reaches that request's lines only.

    The gateway's pool threads serve one request after another: a fact left behind would name the
    previous request's certificate on the next request's line. The caller's own context comes back.
    """
    log = structlog.get_logger("test")
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(outer="kept")
    try:
        with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            with bound({"HTTP_X_SKLTP_CORRELATION_ID": "first"}):
                call_line.add(certificate_id="intyg-1")
                log.info("line_of_the_first")
            with bound({"HTTP_X_SKLTP_CORRELATION_ID": "second"}):
                log.info("line_of_the_second")
            with pytest.raises(RuntimeError), bound({"HTTP_X_SKLTP_CORRELATION_ID": "third"}):
                call_line.add(certificate_id="intyg-3")
                raise RuntimeError("the request failed")
        assert logs == [
            {"event": "line_of_the_first", "log_level": "info", "correlation_id": "first", "certificate_id": "intyg-1"},
            {"event": "line_of_the_second", "log_level": "info", "correlation_id": "second"},
        ]
        assert structlog.contextvars.get_contextvars() == {"outer": "kept"}
    finally:
        structlog.contextvars.clear_contextvars()
