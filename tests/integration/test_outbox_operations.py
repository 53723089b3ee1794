"""The operator's commands and the operations API on the outbox: status, show, resend with its guards."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from cli.settings import Settings
from cli.wiring import gateway_deps
from domain.delivery import OutcomeClass
from domain.resend_policy import NextState, Verdict
from gateway import make_app
from store.outbox import AttemptOutcome, claim_due, record_outcomes
from store.session import transaction
from tests.integration.gateway_server import serving
from tests.integration.store.outbox_helpers import T0, add_events, attempt, make_event

TOKEN = "outbox-test-token"


@pytest.fixture
def failed_events(session_factory: sessionmaker[Session]) -> list[int]:
    """Three events failed for good (APPLICATION_ERROR) on two units, one still pending."""
    ids = add_events(session_factory, make_event("c1"), make_event("c2"), make_event("c3", unit="SE2321000016-2000"),
                     make_event("c4", seconds=3600))
    with transaction(session_factory) as session:
        at = T0 + timedelta(seconds=1)
        claimed = claim_due(session, "t", at, timedelta(minutes=1), 3)
        record_outcomes(session, [
            AttemptOutcome(c, attempt(OutcomeClass.APPLICATION_ERROR, at, http_status=200, text="Patienten finns inte"),
                    NextState(Verdict.FAILED, c.series, None))
            for c in claimed
        ])
    return ids


def test_cli_status_show_and_resend(db_url: str, failed_events: list[int], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox", "status", "--db", db_url, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["counts"]["FAILED"] == 3 and status["counts"]["PENDING"] == 1
    assert {o["outcome"]: o["failed"] for o in status["outcomes"]} == {"application-error": 3, "-": 0}

    assert main(["outbox", "show", str(failed_events[0]), "--db", db_url]) == 0
    shown = capsys.readouterr().out
    assert "application-error" in shown and "Patienten finns inte" in shown and "FAILED" in shown

    assert main(["resend", "--unit", "SE2321000016-1000", "--dry-run", "--reason", "x", "--db", db_url]) == 0
    dry = capsys.readouterr().out
    assert "would resend 2 event(s)" in dry and "already pending" in dry

    assert main(["resend", "--unit", "SE2321000016-1000", "--max", "1", "--reason", "x", "--db", db_url]) == 1
    assert "raise --max explicitly" in capsys.readouterr().out
    assert main(["resend", "--reason", "x", "--db", db_url]) == 1  # no criterion
    capsys.readouterr()

    assert main(["resend", "--unit", "SE2321000016-1000", "--reason", "journal fixed", "--by", "op",
                 "--db", db_url]) == 0
    assert "2 event(s) queued again, 1 already pending left alone" in capsys.readouterr().out
    assert main(["outbox", "status", "--db", db_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["PENDING"] == 3


@pytest.fixture
def gateway_url(db_url: str) -> Iterator[str]:
    deps = gateway_deps(Settings(database_url=db_url, internal_api_token=TOKEN))
    try:
        with serving(make_app(deps)) as url:
            yield url + "/internal/api/v1"
    finally:
        deps.close()


def call(url: str, method: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method,
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_operations_api(gateway_url: str, failed_events: list[int]) -> None:
    status, body = call(gateway_url + "/outbox/status", "GET")
    assert status == 200 and body["counts"]["FAILED"] == 3
    status, body = call(gateway_url + f"/outbox/events/{failed_events[2]}", "GET")
    assert status == 200 and body["event"]["unit_hsa_id"] == "SE2321000016-2000"
    assert body["attempts"][0]["outcome"] == "application-error"
    assert call(gateway_url + "/outbox/events/999999", "GET")[0] == 404

    everything = {"since": "2026-01-01T00:00:00", "reason": "all", "by": "op"}
    status, body = call(gateway_url + "/outbox/resend", "POST", {**everything, "dryRun": True, "max": 2})
    assert status == 200 and body["selected"] == 3 and body["overCap"] is True
    status, body = call(gateway_url + "/outbox/resend", "POST", {**everything, "max": 2})
    assert status == 409 and (body["code"], body["selected"], body["max"]) == ("OVER_CAP", 3, 2)
    assert call(gateway_url + "/outbox/resend", "POST", {"reason": "x", "by": "op"})[1]["code"] == "NO_CRITERIA"
    assert (
        call(gateway_url + "/outbox/resend", "POST", {"unit": "X", "by": "op"})[1]["code"] == "REASON_AND_BY_REQUIRED"
    )
    status, body = call(gateway_url + "/outbox/resend", "POST",
                        {"careGiver": "SE2321000016-0001", "reason": "fixed", "by": "op"})
    assert status == 200 and (body["selected"], body["rearmed"], body["already_pending"]) == (3, 3, 1)
