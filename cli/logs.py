"""structlog configuration: one JSON object per line, personnummer masked as a last guard.

Nothing in the code logs patient identifiers on purpose; the redaction processor is the safety net
for a value that slips through (an exception text, a foreign library's message). It runs last, after
every other processor that adds or renames fields, just before the renderer. Spyne's own logger is
silenced because it logs whole failed documents, patient data included.

Three formats (``log_format``): ``json`` (our own field names), ``console`` (for a terminal) and
``ecs``, the Elastic Common Schema the national platform's logs use, so that one query follows a
call through the platform and the gateway: ``@timestamp``, ``log.level``, ``message``,
``event.action``, ``trace.id`` (the correlation id), ``service.name``, the ECS fields for HTTP and
durations where a value has one (``ECS_FIELDS``), and everything else under ``labels.*``. The one
line written per inbound SOAP call (``soap_request``) has ``event.action`` ``resp-out``, the one per
outbound call (``outbound_call``) ``resp-in``: each is written when the answer has gone out or come
in, as the platform's line of the same name, and carries the call's duration. The JSON is written
by Elastic's own formatter (``ecs_logging``: field order, dotted names nested, ``ecs.version``,
``error.stack_trace``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import ecs_logging
import orjson
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
LOG_FORMATS = ("json", "console", "ecs")
#: ``service.name`` of every ECS line.
SERVICE_NAME = "intygsgateway"
#: The platform's ``event.action`` of the lines written once per call (docstring).
CALL_ACTIONS = {"soap_request": "resp-out", "outbound_call": "resp-in"}
#: Our field names that have an ECS field of their own; every other field goes under ``labels``.
ECS_FIELDS = {
    "correlation_id": "trace.id",
    "http_status": "http.response.status_code",
    "method": "http.request.method",
    "path": "url.path",
    "url": "url.full",
    "remote_addr": "client.ip",
    "consumer": "client.user.id",
    "logger": "log.logger",
}
#: Fields the formatter itself turns into ECS (``exception`` becomes ``error.stack_trace``).
_PASSED_ON = {"@timestamp", "log.level", "message", "exception"}


# Every written form above has six digits in a row (the date part), the first two of any Unicode
# digit as ``\d`` takes them: a text without six never matches. Looking for six costs a fifth of the
# whole pattern's search, and almost no logged text has them.
_SIX_DIGITS = re.compile(r"\d{6}")
#: The smallest whole number with the ten digits of a personnummer's shortest written form.
_TEN_DIGITS = 10**9


def _plain(value: Any) -> bool:
    """Whether ``redact`` leaves ``value`` as it is, told without looking further: None, a truth value,
    a number too short to be a personnummer, or a text without six digits in a row."""
    if isinstance(value, str):
        return _SIX_DIGITS.search(value) is None
    return value is None or isinstance(value, bool | float) or (isinstance(value, int) and value < _TEN_DIGITS)


def redact(value: Any) -> Any:
    """``value`` with anything shaped like a personnummer replaced by a mask, recursively.

    Numbers and None stay what they are, but for a whole number written as a personnummer (ten or
    twelve digits), which becomes the mask; any other value (a dataclass, a time, a set) becomes its
    ``repr``, masked: that is the text every format writes for it, and a dataclass holding a
    personnummer would otherwise reach the line whole.
    """
    if _plain(value):
        return value
    if isinstance(value, str):
        return PERSONNUMMER_SHAPE.sub(MASK, value)
    if isinstance(value, int):
        return MASK if PERSONNUMMER_SHAPE.fullmatch(str(value)) else value
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(item) for item in value)
    return redact(repr(value))


def redact_personnummer(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """structlog processor wrapping ``redact``; a line with nothing to mask is passed on as it is."""
    if all(map(_plain, event_dict.values())):
        return event_dict
    return {key: redact(value) for key, value in event_dict.items()}


def _unknown_value(value: Any) -> str:
    """A value JSON has no form for, as ``redact`` writes it (the mask has already made every value
    of a line text, a number or None; this keeps a line written without it just as safe)."""
    return str(redact(value))


#: Times and dataclasses go to ``_unknown_value`` as every other value JSON has no form for.
_LINE_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def json_line(_logger: Any, _method: str, event_dict: Mapping[str, Any]) -> str:
    """The ``json`` format's renderer: one compact JSON object, written by orjson (about a tenth of
    the standard library's cost on a log line). Times, dataclasses and every other value JSON has no
    form for are written as ``_unknown_value``. A line orjson cannot write (a key that is not text, an
    integer beyond 64 bits), or one with text beyond ASCII, is written by the standard library in the
    same compact form, escaped to ASCII: a line reads the same whatever the encoding of the output."""
    try:
        line = orjson.dumps(event_dict, default=_unknown_value, option=_LINE_OPTIONS)
    except orjson.JSONEncodeError:
        return _ascii_line(event_dict)
    return line.decode() if line.isascii() else _ascii_line(event_dict)


def _ascii_line(event_dict: Mapping[str, Any]) -> str:
    return json.dumps(event_dict, default=_unknown_value, separators=(",", ":"))


def _label(value: Any) -> Any:
    """A value as an ECS label (a keyword): text, or a list of text; booleans and numbers as written."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value)


def ecs_fields(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """structlog processor: our field names as ECS's (module docstring); values are left as they are."""
    fields: dict[str, Any] = {}
    labels: dict[str, Any] = {}
    event = str(event_dict.get("event", ""))
    fields["message"] = event
    fields["event.action"] = CALL_ACTIONS.get(event, event)
    fields["service.name"] = SERVICE_NAME
    for key, value in event_dict.items():
        if key == "event" or value is None:
            continue
        if key == "level":
            fields["log.level"] = value
        elif key in _PASSED_ON:
            fields[key] = value
        elif key == "duration_ms" and isinstance(value, int | float):
            fields["event.duration"] = int(value * 1_000_000)  # ECS: nanoseconds
        elif key in ECS_FIELDS:
            fields[ECS_FIELDS[key]] = value
        else:
            labels[key] = _label(value)
    if event in CALL_ACTIONS:
        fields["event.kind"] = "event"
        fields["event.outcome"] = call_outcome(event_dict)
    if labels:
        fields["labels"] = labels
    return fields


def call_outcome(event_dict: Mapping[str, Any]) -> str:
    """ECS ``event.outcome`` of a call line: success when answered OK or INFO (or delivered), failure otherwise."""
    if event_dict.get("outcome") is not None:  # an outbound call: its outcome class
        return "success" if event_dict["outcome"] in ("ok", "info") else "failure"
    result = event_dict.get("result_code")
    return "success" if result in ("OK", "INFO") else "failure"


def _ecs_renderer(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> str:
    """Elastic's formatter, fed our level (structlog's method name would say ``exception`` for an error)."""
    level = str(event_dict.pop("log.level", _method))
    event_dict["event"] = event_dict.pop("message", "")
    rendered: str = ecs_logging.StructlogFormatter(ensure_ascii=False)(_logger, level, dict(event_dict))
    return rendered


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Configure structlog and the standard library once, at program start.

    ``level`` is one of ``LOG_LEVELS`` and ``fmt`` one of ``LOG_FORMATS``; the settings refuse
    anything else at start-up, so a wrong value here is a programming error.
    """
    if level not in LOG_LEVELS or fmt not in LOG_FORMATS:
        raise ValueError(f"log level {level!r} or format {fmt!r} not one of {LOG_LEVELS} / {LOG_FORMATS}")
    numeric = logging.getLevelNamesMapping()[level.upper()]
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.format_exc_info,
    ]
    if fmt == "ecs":
        processors.append(ecs_fields)
    processors.append(redact_personnummer)  # last before rendering: sees every field as written
    # The time is ours and cannot hold patient data; stamped after the mask, whose quick look for six
    # digits in a row would otherwise find the microseconds in every line.
    processors.append(structlog.processors.TimeStamper(fmt="iso", utc=True,
                                                       key="@timestamp" if fmt == "ecs" else "timestamp"))
    if fmt == "ecs":
        processors.append(_ecs_renderer)
    elif fmt == "json":
        processors.append(json_line)
    else:
        processors.append(structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # One write per line (message and newline together): with print(), as PrintLogger writes, the
        # processes sharing stdout (gunicorn's workers, the status-update worker) glued lines together.
        logger_factory=structlog.WriteLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=max(numeric, logging.WARNING), stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("spyne").setLevel(logging.CRITICAL + 1)
