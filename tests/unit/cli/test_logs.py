"""The log redaction masks anything shaped like a personnummer; the ECS format names fields as the platform does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog

from cli.logs import MASK, PERSONNUMMER_SHAPE, configure_logging, redact


def test_personnummer_shapes_are_masked_everywhere() -> None:
    """12 digits, with or without separator, in strings, lists and dicts are masked."""
    event = {"text": "patient 191212121212 and 19121212-1212", "items": ["200001012384"], "n": 5}
    redacted = redact(event)
    assert redacted == {"text": f"patient {MASK} and {MASK}", "items": [MASK], "n": 5}


def test_hsa_ids_and_uuids_are_left_alone() -> None:
    """HSA-ids and certificate ids are not patient data and stay readable."""
    value = "SE2321000016-1000 9f1c2a40-1111-4a2b-8c3d-191212121212x"
    assert redact("SE2321000016-1000") == "SE2321000016-1000"
    assert redact(value).startswith("SE2321000016-1000")


def _ecs_lines(capsys: pytest.CaptureFixture[str], write: Callable[[Any], None]) -> list[dict[str, Any]]:
    """What ``write`` logs through a fresh logger under ``log_format = "ecs"``, parsed."""
    configure_logging("info", "ecs")
    try:
        capsys.readouterr()
        write(structlog.get_logger(f"test.{uuid.uuid4().hex}"))
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    finally:
        configure_logging("info", "json")


def test_ecs_lines_carry_the_platforms_field_names(capsys: pytest.CaptureFixture[str]) -> None:
    """The inbound call line: @timestamp, log.level, message, event.action resp-out, trace.id = correlation id."""
    def write(log: Any) -> None:
        with structlog.contextvars.bound_contextvars(correlation_id="cid-123"):
            log.info("soap_request", contract="CreateDraftCertificate", consumer="SE2321000016-J001",
                     path="/services/create-draft-certificate/v3.0", http_status=200, result_code="ERROR",
                     error_id="VALIDATION_ERROR", duration_ms=12.5)

    [line] = _ecs_lines(capsys, write)
    assert list(line)[:3] == ["@timestamp", "log.level", "message"]  # the order ECS readers expect
    assert line["@timestamp"].endswith("Z") or line["@timestamp"].endswith("+00:00")
    assert line["log.level"] == "info" and line["message"] == "soap_request"
    assert line["event"] == {"action": "resp-out", "kind": "event", "outcome": "failure", "duration": 12_500_000}
    assert line["trace"] == {"id": "cid-123"}
    assert line["service"] == {"name": "intygsgateway"}
    assert line["http"] == {"response": {"status_code": 200}}
    assert line["url"] == {"path": "/services/create-draft-certificate/v3.0"}
    assert line["client"] == {"user": {"id": "SE2321000016-J001"}}
    assert line["labels"] == {"contract": "CreateDraftCertificate", "result_code": "ERROR",
                              "error_id": "VALIDATION_ERROR"}
    assert line["ecs.version"]  # the schema version the line follows


def test_ecs_outbound_line_and_other_events(capsys: pytest.CaptureFixture[str]) -> None:
    """The outbound call is resp-in; any other event's name is its action; warnings keep their level."""
    def write(log: Any) -> None:
        log.warning("outbound_call", correlation_id="out-1", url="https://journal.example/status",
                    http_status=500, outcome="technical-error", duration_ms=3.0)
        log.info("outbound_call", correlation_id="out-2", url="https://journal.example/status", http_status=200,
                 outcome="info", duration_ms=1.0)
        log.error("worker_parent_gone", tries=[1, 2])

    out_failed, out_ok, other = _ecs_lines(capsys, write)
    assert out_failed["event"]["action"] == "resp-in" and out_failed["event"]["outcome"] == "failure"
    assert out_failed["log.level"] == "warning" and out_failed["trace"]["id"] == "out-1"
    assert out_failed["url"] == {"full": "https://journal.example/status"}
    assert out_failed["labels"] == {"outcome": "technical-error"}
    assert out_ok["event"]["outcome"] == "success"  # INFO delivers, as OK does
    assert other["event"] == {"action": "worker_parent_gone"} and other["log.level"] == "error"
    assert other["labels"] == {"tries": ["1", "2"]}


def test_the_personnummer_mask_runs_after_the_ecs_renaming(capsys: pytest.CaptureFixture[str]) -> None:
    """A personnummer that slipped into any field, renamed or labelled, is masked in the written line."""
    def write(log: Any) -> None:
        with structlog.contextvars.bound_contextvars(correlation_id="19121212-1212"):
            log.info("anything", detail="patient 191212121212", path="/x/201212121212")
        try:
            raise ValueError("no such patient 19121212-1212")
        except ValueError:
            log.exception("failed")

    lines = _ecs_lines(capsys, write)
    text = json.dumps(lines)
    assert "1212121212" not in text
    assert lines[0]["labels"]["detail"] == f"patient {MASK}" and lines[0]["trace"]["id"] == MASK
    assert MASK in lines[1]["error"]["stack_trace"]


@dataclass(frozen=True)
class _Holder:
    """A value the JSON format has no form for, holding a personnummer."""

    patient: str


def _json_lines(capsys: pytest.CaptureFixture[str], write: Callable[[Any], None]) -> list[dict[str, Any]]:
    """What ``write`` logs through a fresh logger under ``log_format = "json"``, as written and parsed."""
    configure_logging("info", "json")
    capsys.readouterr()
    write(structlog.get_logger(f"test.{uuid.uuid4().hex}"))
    out = capsys.readouterr().out
    assert out.isascii()  # text beyond ASCII is escaped, whatever the output's encoding
    return [json.loads(line) for line in out.splitlines()]


def test_json_lines_mask_what_they_write_in_any_way(capsys: pytest.CaptureFixture[str]) -> None:
    """Text, a value written by its repr (a dataclass), nested and non-ASCII lines alike; numbers and
    the line's own time are left as they are."""
    def write(log: Any) -> None:
        log.info("plain", detail="patient 191212121212", count=3, ratio=0.5, flag=True, nothing=None,
                 number=191212121212, big=123456789012345)
        log.info("repr", holder=_Holder("19121212-1212"), when=datetime(2026, 12, 6, tzinfo=UTC))
        log.info("nested", items=[{"pnr": "201212121212"}], text="Vårdcentralen Åby 191212121212")
        log.info("clean", path="/clinicalprocess/x/3/rivtabp21", unit="SE2321000016-1000")

    plain, by_repr, nested, clean = _json_lines(capsys, write)
    assert plain["detail"] == f"patient {MASK}"
    assert (plain["count"], plain["ratio"], plain["flag"], plain["nothing"]) == (3, 0.5, True, None)
    assert plain["number"] == MASK and plain["big"] == 123456789012345  # a whole number written as a personnummer
    assert by_repr["holder"] == f"_Holder(patient='{MASK}')"
    assert by_repr["when"].startswith("datetime.datetime(2026, 12, 6")
    assert nested["items"] == [{"pnr": MASK}] and nested["text"] == f"Vårdcentralen Åby {MASK}"
    assert clean["path"] == "/clinicalprocess/x/3/rivtabp21" and clean["unit"] == "SE2321000016-1000"
    for line in (plain, by_repr, nested, clean):
        stamped = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
        assert stamped.tzinfo is not None and abs(datetime.now(UTC) - stamped) < timedelta(minutes=5)
        assert list(line)[-1] == "timestamp"


def test_a_personnummer_in_other_digits_is_still_masked() -> None:
    """The quick look for six digits in a row takes any Unicode digit, as the pattern does."""
    fullwidth = "\uff11\uff12" + "1212-1212"  # the year in full-width digits: still the pattern's shape
    assert redact(f"x {fullwidth} y") == f"x {MASK} y" == PERSONNUMMER_SHAPE.sub(MASK, f"x {fullwidth} y")


def test_console_lines_mask_a_value_written_by_its_repr(capsys: pytest.CaptureFixture[str]) -> None:
    """The terminal format writes values by their repr: a dataclass holding a personnummer is masked too."""
    configure_logging("info", "console")
    try:
        capsys.readouterr()
        structlog.get_logger(f"test.{uuid.uuid4().hex}").info("repr", holder=_Holder("191212121212"),
                                                               number=191212121212, count=20)
        out = capsys.readouterr().out
    finally:
        configure_logging("info", "json")
    assert "1212121212" not in out and out.count(MASK) == 2 and "count=20" in out
