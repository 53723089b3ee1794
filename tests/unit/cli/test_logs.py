"""The log redaction masks anything shaped like a personnummer; the ECS format names fields as the platform does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from cli.logs import MASK, configure_logging, redact


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
