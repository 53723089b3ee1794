"""``/metrics`` in one process, on both databases: who may scrape, what the figures say, what a scrape costs.

The multiprocess sums are ``test_metrics_processes.py``'s; here the gateway runs in-process on
loopback with real data: drafts created over HTTP, outbox events in every state, unsealed PDL
records, a catalogue version, and refused callers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from cli.wiring import gateway_deps
from contracts.ns import STATUS_UPDATE_V3
from domain.delivery import OutcomeClass
from domain.resend_policy import NextState, Verdict
from gateway.internal_api.auth import token_hash
from gateway.metrics import prepare_directory
from routing.catalogue import Route
from routing.content import CatalogueContent
from store.metrics import operations_figures
from store.outbox import AttemptOutcome, claim_due, record_outcomes
from store.routing import publish
from store.session import UnitOfWork, transaction
from tests.envelopes import create_draft_envelope
from tests.integration.gateway_server import demo_gateway_deps, plain_session, running
from tests.integration.store.outbox_helpers import T0, add_events, attempt, make_event
from usecases.operations_metrics import CachedFigures

DEV_TOKEN = "metrics-dev-token"
PROMETHEUS_TOKEN = "prometheus-service-token-0123456789abcdef"
READER_TOKEN = "reader-service-token-0123456789abcdef"
ENDPOINT = "/services/create-draft-certificate/v3.0"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def tokens_file(tmp_path: Path) -> str:
    path = tmp_path / "tokens.toml"
    path.write_text(
        f'[[token]]\nname = "prometheus"\nsha256 = "{token_hash(PROMETHEUS_TOKEN)}"\nscopes = ["metrics"]\n\n'
        f'[[token]]\nname = "reader"\nsha256 = "{token_hash(READER_TOKEN)}"\nscopes = ["read"]\n', encoding="utf-8")
    return str(path)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with plain_session() as http:
        yield http


def _open_events(factory: sessionmaker[Session]) -> None:
    """Two units with pending events (one older), one event failed for good."""
    add_events(factory, make_event("c1", unit="SE2321000016-2000"), make_event("c2", unit="SE2321000016-2000"),
               make_event("c3", unit="SE2321000016-3000", seconds=600), make_event("c4", unit="SE2321000016-4000"))
    with transaction(factory) as tx:
        at = T0 + timedelta(seconds=1)
        claimed = [c for c in claim_due(tx, "t", at, timedelta(minutes=1), 10) if c.event.certificate_id == "c4"]
        record_outcomes(tx, [AttemptOutcome(c, attempt(OutcomeClass.VALIDATION_ERROR, at, http_status=200),
                                                 NextState(Verdict.FAILED, c.series, None)) for c in claimed])


def test_the_aggregate_reads_open_events_worst_units_and_the_seal(
    db_url: str, session_factory: sessionmaker[Session]
) -> None:
    """One query: open events by status and class, the oldest-waiting units first (bounded), nothing delivered."""
    _open_events(session_factory)
    with transaction(session_factory) as tx:
        figures = operations_figures(tx, worst_units=1)
    by_status = {(line.status, line.outcome): line.count for line in figures.open_events}
    assert by_status == {("PENDING", "-"): 3, ("FAILED", "validation-error"): 1}
    pending = next(line for line in figures.open_events if line.status == "PENDING")
    assert pending.oldest == T0 and pending.oldest.tzinfo is not None
    assert [(u.unit, u.pending) for u in figures.worst_units] == [("SE2321000016-2000", 2)]  # the limit holds
    with transaction(session_factory) as tx:
        assert [u.unit for u in operations_figures(tx, worst_units=5).worst_units] == [
            "SE2321000016-2000", "SE2321000016-3000"]
        assert operations_figures(tx, worst_units=0).worst_units == []


def test_scrapes_within_the_cache_period_cost_one_query(session_factory: sessionmaker[Session]) -> None:
    """Three scrapes in the cache period read the database once; after it, once more."""
    now = [0.0]
    cached = CachedFigures(UnitOfWork(session_factory), 5, 5.0, lambda: now[0])
    cached(), cached(), cached()
    assert cached.reads == 1
    now[0] = 5.0
    cached()
    assert cached.reads == 2


def test_metrics_need_the_metrics_scope_on_the_main_port(db_url: str, tokens_file: str,
                                                          session: requests.Session) -> None:
    """No token: 401; a token without the scope: 403; Prometheus's token (scope metrics only): 200."""
    _, deps = demo_gateway_deps(db_url, internal_api_service_tokens=tokens_file)
    with running(deps, db_url) as gateway:
        assert session.get(f"{gateway.url}/metrics").status_code == 401
        refused = session.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {READER_TOKEN}"})
        assert refused.status_code == 403 and refused.json()["code"] == "SCOPE_MISSING"
        wrong = session.get(f"{gateway.url}/metrics", headers={"Authorization": "Bearer guessed"})
        assert wrong.status_code == 401
        answer = session.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {PROMETHEUS_TOKEN}"})
        assert answer.status_code == 200 and "intygsgateway_database_up 1.0" in answer.text
        # The same token is no key to the operations API's routes.
        assert session.get(f"{gateway.url}/internal/api/v1/outbox/status",
                           headers={"Authorization": f"Bearer {PROMETHEUS_TOKEN}"}).status_code == 403


def test_metrics_are_off_without_credentials(db_url: str, session: requests.Session) -> None:
    """With no credential configured the main port's /metrics does not exist, like the operations API."""
    _, deps = demo_gateway_deps(db_url)
    with running(deps, db_url) as gateway:
        assert session.get(f"{gateway.url}/metrics").status_code == 404


def test_a_scrape_counts_known_traffic_and_reads_the_database(
    db_url: str, session_factory: sessionmaker[Session], session: requests.Session
) -> None:
    """3 drafts, 2 bodies that are not XML, and the database's figures, as Prometheus reads them."""
    _open_events(session_factory)
    _, deps = demo_gateway_deps(db_url, internal_api_token=DEV_TOKEN, metrics_cache_seconds=0.0,
                                metrics_worst_units=2)
    with running(deps, db_url) as gateway:
        for path, body in [(ENDPOINT, create_draft_envelope())] * 2 + [(ENDPOINT + "///", create_draft_envelope())] \
                + [(ENDPOINT, b"<<not xml")] * 2:  # trailing slashes count as the endpoint, no new series
            assert session.post(gateway.url + path, data=body, headers={"Content-Type": "text/xml"}).ok
        text = session.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {DEV_TOKEN}"}).text
    found = samples(text)
    labels = {"contract": "CreateDraftCertificate", "endpoint": ENDPOINT}
    assert value(found, "intygsgateway_soap_requests_total", **labels, result_code="OK", error_id="") == 3
    assert value(found, "intygsgateway_soap_requests_total", **labels, result_code="ERROR",
                 error_id="APPLICATION_ERROR") == 2
    assert value(found, "intygsgateway_soap_request_duration_seconds_count", contract="CreateDraftCertificate") == 5
    # 3 new SKAPAT events join the 3 pending ones; the failed one stays failed.
    assert value(found, "intygsgateway_outbox_events", status="pending", outcome_class="-") == 6
    assert value(found, "intygsgateway_outbox_events", status="failed", outcome_class="validation-error") == 1
    age = value(found, "intygsgateway_outbox_oldest_pending_age_seconds")
    assert age is not None and age >= (datetime.now(UTC) - T0).total_seconds() - 5
    assert value(found, "intygsgateway_outbox_unit_pending", unit="SE2321000016-2000") == 2
    assert len([key for key in found if key[0] == "intygsgateway_outbox_unit_pending"]) == 2  # worst 2 only
    unsealed = value(found, "intygsgateway_pdl_unsealed_records")
    assert unsealed is not None and unsealed >= 0
    assert value(found, "intygsgateway_database_up") == 1
    directory_age = value(found, "intygsgateway_directory_age_seconds")
    assert directory_age is not None and directory_age > 0


def test_refused_callers_are_counted_by_code(db_url: str, tmp_path: Path, session: requests.Session) -> None:
    """Access control on (a trusted proxy that is not us): a certificate header from anyone else is VP011."""
    assert main(["dev-pki", str(tmp_path / "pki")]) == 0
    _, deps = demo_gateway_deps(db_url, internal_api_token=DEV_TOKEN, trusted_proxies=("10.9.9.9",),
                                tls_client_ca=(str(tmp_path / "pki" / "ca.pem"),))
    with running(deps, db_url) as gateway:
        for _ in range(2):
            answer = session.post(gateway.url + ENDPOINT, data=create_draft_envelope(),
                                  headers={"Content-Type": "text/xml", "x-vp-auth-cert": "forged"})
            assert answer.status_code == 500 and b"VP011" in answer.content
        found = samples(session.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {DEV_TOKEN}"}).text)
    assert value(found, "intygsgateway_access_refusals_total", code="VP011") == 2
    assert value(found, "intygsgateway_soap_requests_total", contract="CreateDraftCertificate", endpoint=ENDPOINT,
                 result_code="FAULT", error_id="VP011") == 2


def test_a_scrape_answers_with_the_database_down(tmp_path: Path, session: requests.Session) -> None:
    """The database gone: the scrape still answers 200, saying so, with the process's own figures."""
    db_url = f"sqlite:///{tmp_path / 'gone.db'}"
    settings, _deps = demo_gateway_deps(db_url)
    _deps.close()
    (tmp_path / "gone.db").unlink()
    (tmp_path / "gone.db").mkdir()  # not a database any more: every query fails
    deps = gateway_deps(replace(settings, internal_api_token=DEV_TOKEN, metrics_cache_seconds=0.0,
                                pdl_seal_seconds=0.0))
    with running(deps, db_url) as gateway:
        answer = session.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {DEV_TOKEN}"})
    assert answer.status_code == 200
    found = samples(answer.text)
    assert value(found, "intygsgateway_database_up") == 0
    assert value(found, "intygsgateway_outbox_events", status="pending", outcome_class="-") is None


def test_certificate_days_left_are_reported_by_role(db_url: str, tmp_path: Path, session: requests.Session) -> None:
    """Our client certificate's days left, from the file the settings name."""
    assert main(["dev-pki", str(tmp_path / "pki"), "--days", "40"]) == 0
    client = next(path for path in (tmp_path / "pki").glob("*.pem") if "client" in path.name and "key" not in path.name)
    _, deps = demo_gateway_deps(db_url, internal_api_token=DEV_TOKEN, client_cert=str(client))
    with running(deps, db_url) as gateway:
        found = samples(session.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {DEV_TOKEN}"}).text)
    days = value(found, "intygsgateway_certificate_days_left", role="client")
    assert days is not None and 38 <= days <= 40


def test_serve_clears_the_files_of_processes_that_ended_only(tmp_path: Path) -> None:
    """An earlier run's files go; a living process's (a worker started a moment before) stay."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / f"counter_{ended.stdout.strip()}.db").write_bytes(b"old")
    (folder / f"counter_{os.getpid()}.db").write_bytes(b"alive")
    prepare_directory(str(folder))
    assert sorted(p.name for p in folder.iterdir()) == [f"counter_{os.getpid()}.db"]


def test_the_deployment_guide_names_every_metric_a_scrape_shows(
    db_url: str, tmp_path: Path, session_factory: sessionmaker[Session], session: requests.Session
) -> None:
    """The table in docs/deployment.md and a gateway's scrape name the same metrics (the worker's three aside,
    which test_metrics_processes.py scrapes)."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "deployment.md").read_text(encoding="utf-8")
    documented = {name.removesuffix("_total") for name in re.findall(r"^\| `(intygsgateway_[a-z_]+)` \|", guide, re.M)}
    _open_events(session_factory)
    with transaction(session_factory) as tx:
        publish(tx, CatalogueContent((Route(STATUS_UPDATE_V3, "SE2321000016-1000", "https://journal.example/csu"),)),
                by="test", action="add", now=datetime.now(UTC), keep=5, changes={})
    assert main(["dev-pki", str(tmp_path / "pki")]) == 0
    client = next(path for path in (tmp_path / "pki").glob("*.pem") if "client" in path.name and "key" not in path.name)
    _, deps = demo_gateway_deps(db_url, internal_api_token=DEV_TOKEN, client_cert=str(client))
    with running(deps, db_url) as gateway:
        session.post(gateway.url + ENDPOINT, data=create_draft_envelope(), headers={"Content-Type": "text/xml"})
        text = session.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {DEV_TOKEN}"}).text
    # ``_created`` series exist in one process only (serve's multiprocess mode has none): not ours to document.
    scraped = {family.name for family in text_string_to_metric_families(text)
               if family.samples and not family.name.endswith("_created")}
    # The worker's (test_metrics_processes.py), and refusals, which need a refused caller (a test above).
    elsewhere = {"intygsgateway_deliveries", "intygsgateway_delivery_duration_seconds",
                 "intygsgateway_scheduler_leader", "intygsgateway_access_refusals"}
    assert documented - elsewhere == scraped
