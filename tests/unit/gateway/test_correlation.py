"""Correlation ids are passed through when sane and generated otherwise."""

from __future__ import annotations

from gateway.correlation import correlation_id


def test_a_sane_correlation_id_is_kept() -> None:
    """The platform's id comes back unchanged."""
    assert correlation_id({"HTTP_X_SKLTP_CORRELATION_ID": "abc-123_x.y:z"}) == "abc-123_x.y:z"


def test_a_missing_or_hostile_id_is_replaced() -> None:
    """Absent, overlong or injected values get a fresh 32-hex id."""
    for environ in ({}, {"HTTP_X_SKLTP_CORRELATION_ID": "x" * 200},
                    {"HTTP_X_SKLTP_CORRELATION_ID": "a\r\nSet-Cookie: y"}):
        generated = correlation_id(environ)
        assert len(generated) == 32 and all(c in "0123456789abcdef" for c in generated)
