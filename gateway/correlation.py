"""The ``x-skltp-correlation-id`` header: taken from the request when sane, else generated, and returned.

The platform passes one id along a whole chain of calls; keeping it lets an operator follow a request
from the journal system through the platform to our logs and our outbound status updates. Both front
doors (the SOAP endpoints in ``gateway.app`` and the operations API) take it with ``bound``, so every
log line of a request carries the same id, and put it in their typed request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import structlog

HEADER = "x-skltp-correlation-id"
_ENVIRON_KEY = "HTTP_X_SKLTP_CORRELATION_ID"
_SANE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def correlation_id(environ: Mapping[str, Any]) -> str:
    """The caller's correlation id if it is a plain token of at most 128 characters, else a new one."""
    given = str(environ.get(_ENVIRON_KEY, "")).strip()
    return given if _SANE.fullmatch(given) else uuid.uuid4().hex


@contextmanager
def bound(environ: Mapping[str, Any]) -> Iterator[str]:
    """This request's correlation id, bound to every log line written inside the block.

    The block starts from an empty log context and gives the caller's back at its end: the facts a
    use case adds for the call's line (``usecases.call_line``) belong to this request alone, and a
    pool thread carries none of them into the next request it serves.
    """
    cid = correlation_id(environ)
    outer = structlog.contextvars.get_contextvars()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(correlation_id=cid)
    try:
        yield cid
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**outer)
