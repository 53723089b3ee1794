"""structlog configuration: one JSON object per line, personnummer masked as a last guard.

Nothing in the code logs patient identifiers on purpose; the redaction processor is the safety net
for a value that slips through (an exception text, a foreign library's message). Spyne's own logger
is silenced because it logs whole failed documents, patient data included.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

# A personnummer or samordningsnummer in every written form: 12 digits (century first) or 10, with or
# without "-" or "+" before the last four, whose date part is a month and a day (a samordningsnummer's
# day is 61-91). Over-masks some other numbers of that shape; that is the right way to fail.
PERSONNUMMER_SHAPE = re.compile(
    r"(?<!\d)(?:(?:18|19|20)\d{2}|\d{2})(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])[-+]?\d{4}(?!\d)"
)
MASK = "<personnummer>"
#: The levels and formats ``configure_logging`` takes; the settings accept exactly these.
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("json", "console")


def redact(value: Any) -> Any:
    """``value`` with anything shaped like a personnummer replaced by a mask, recursively."""
    if isinstance(value, str):
        return PERSONNUMMER_SHAPE.sub(MASK, value)
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(item) for item in value)
    return value


def redact_personnummer(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """structlog processor wrapping ``redact``."""
    return {key: redact(value) for key, value in event_dict.items()}


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Configure structlog and the standard library once, at program start.

    ``level`` is one of ``LOG_LEVELS`` and ``fmt`` one of ``LOG_FORMATS``; the settings refuse
    anything else at start-up, so a wrong value here is a programming error.
    """
    if level not in LOG_LEVELS or fmt not in LOG_FORMATS:
        raise ValueError(f"log level {level!r} or format {fmt!r} not one of {LOG_LEVELS} / {LOG_FORMATS}")
    numeric = logging.getLevelNamesMapping()[level.upper()]
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_personnummer,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=max(numeric, logging.WARNING), stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("spyne").setLevel(logging.CRITICAL + 1)
