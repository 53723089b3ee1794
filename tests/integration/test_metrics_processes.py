"""``/metrics`` under the real ``serve``: two gunicorn worker processes and the status-update worker, one answer.

The command is run as an operator runs it (``db upgrade``, ``routing add``, ``serve --workers 2``),
with a journal simulator on loopback. Known traffic is sent concurrently until both gunicorn
workers have served some of it (read from their own files in ``metrics_dir``); then every scrape,
whichever process answers it, must count all of it, and the deliveries the separate worker process
made must be in the same scrape. The processes log in ECS (``log_format = "ecs"``): one ``resp-out``
line per inbound call and one ``resp-in`` line per outbound call, read back from their output.
"""

from __future__ import annotations

import glob
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.envelopes import create_draft_envelope
from tests.integration.processes import stop

BIN = Path(sys.executable).parent / "intygsgateway"
STATUS_UPDATE = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3"
JOURNAL_PATH = "/clinicalprocess/healthcond/certificate/CertificateStatusUpdateForCare/3/rivtabp21"
ENDPOINT = "/services/create-draft-certificate/v3.0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError as answered:
            answered.close()
            return  # it answers
        except OSError as error:
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"{url} did not come up (exit {process.poll()})") from error
            time.sleep(0.2)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and sorted labels."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        return samples(response.read().decode())


def _leaders(found: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> list[float]:
    return [v for (name, _labels), v in found.items() if name == "intygsgateway_scheduler_leader"]


def post(url: str, body: bytes) -> bytes:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/xml"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: bytes = response.read()
        return answer


def soap_counts_per_file(directory: Path) -> list[float]:
    """The SOAP requests each process counted, read from its own counter file."""
    counts: list[float] = []
    for path in glob.glob(str(directory / "counter_*.db")):
        total = sum(sample.value for metric in MultiProcessCollector.merge([path])  # type: ignore[no-untyped-call]
                    for sample in metric.samples if sample.name == "intygsgateway_soap_requests_total")
        if total:
            counts.append(total)
    return counts


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTYGSGATEWAY_")}
    env.update({
        "INTYGSGATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}",
        "INTYGSGATEWAY_LOG_LEVEL": "info",
        "INTYGSGATEWAY_LOG_FORMAT": "ecs",
        "INTYGSGATEWAY_ALLOW_PLAIN_HTTP_ROUTES": "true",  # the journal simulator speaks plain HTTP on loopback
        "INTYGSGATEWAY_RESEND_POLL_SECONDS": "0.2",
        "INTYGSGATEWAY_METRICS_DIR": str(tmp_path / "metrics"),
        "INTYGSGATEWAY_METRICS_CACHE_SECONDS": "0",
        "INTYGSGATEWAY_PDL_SEAL_SECONDS": "0.5",
    })
    yield env


def test_two_worker_processes_and_the_status_update_worker_add_up(tmp_path: Path, environment: dict[str, str]) -> None:
    """After 2 x N drafts and N refused bodies over two workers, every scrape counts them all, and the
    worker process's deliveries, on the open metrics port; the main port answers 404 for /metrics."""
    journal_port, port, metrics_port = free_port(), free_port(), free_port()
    output = (tmp_path / "serve.log").open("wb")
    env = {**environment, "INTYGSGATEWAY_METRICS_PORT": str(metrics_port)}
    journal = subprocess.Popen([str(BIN), "mock-journal", "--port", str(journal_port)], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server: subprocess.Popen[bytes] | None = None
    try:
        for command in (["db", "upgrade"],
                        ["routing", "add", "--contract", STATUS_UPDATE, "--address", "SE2321000016-1000",
                         "--producer", "SE2321000016-J001", "--url", f"http://127.0.0.1:{journal_port}{JOURNAL_PATH}"]):
            subprocess.run([str(BIN), *command], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=60)
        server = subprocess.Popen([str(BIN), "serve", "--demo", "--port", str(port), "--workers", "2"],
                                  cwd=tmp_path, env=env, stdout=output, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/readyz", server)
        wait_for(f"http://127.0.0.1:{journal_port}/_mock/received", journal)

        good, bad, rounds = 0, 0, 0
        with ThreadPoolExecutor(8) as pool:
            while len(soap_counts_per_file(tmp_path / "metrics")) < 2:  # until both workers served some
                rounds += 1
                assert rounds <= 10, "the requests never reached both worker processes"
                answers = list(pool.map(lambda body: post(base + ENDPOINT, body),
                                        [create_draft_envelope()] * 8 + [b"not xml at all"] * 4))
                assert sum(b">OK<" in answer for answer in answers) == 8
                good, bad = good + 8, bad + 4
        per_process = soap_counts_per_file(tmp_path / "metrics")
        assert sum(per_process) == good + bad and min(per_process) < good + bad

        open_url = f"http://127.0.0.1:{metrics_port}/metrics"
        deadline = time.monotonic() + 60
        while True:  # the worker process delivers the SKAPAT events to the journal, and is elected
            found = scrape(open_url)
            delivered = value(found, "intygsgateway_deliveries_total", outcome_class="ok") >= good
            if (delivered and _leaders(found) == [1.0]) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for _ in range(6):  # whichever process answers, the same totals
            found = scrape(open_url)
            assert value(found, "intygsgateway_soap_requests_total", contract="CreateDraftCertificate",
                         endpoint=ENDPOINT, result_code="OK", error_id="") == good
            assert value(found, "intygsgateway_soap_requests_total", contract="CreateDraftCertificate",
                         endpoint=ENDPOINT, result_code="ERROR", error_id="APPLICATION_ERROR") == bad
            assert value(found, "intygsgateway_soap_request_duration_seconds_count",
                         contract="CreateDraftCertificate") == good + bad
            assert value(found, "intygsgateway_deliveries_total", outcome_class="ok") == good
            assert value(found, "intygsgateway_delivery_duration_seconds_count", outcome_class="ok") == good
            assert value(found, "intygsgateway_database_up") == 1
            assert value(found, "intygsgateway_routing_catalogue_version") == 1
            assert value(found, "intygsgateway_directory_age_seconds") > 0
        assert _leaders(found) == [1.0]  # one worker process, elected (SQLite: always)
        assert value(found, "intygsgateway_outbox_oldest_pending_age_seconds") == 0
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/metrics", timeout=5)
        refused.value.close()
        assert refused.value.code == 404  # only on the metrics port
        with pytest.raises(urllib.error.HTTPError) as elsewhere:
            urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/readyz", timeout=5)
        elsewhere.value.close()
        assert elsewhere.value.code == 404  # nothing else there
    finally:
        if server is not None:
            stop(server)
        stop(journal)
        output.close()
    lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines() if line.startswith("{")]
    inbound = [line for line in lines if line["message"] == "soap_request"]
    outbound = [line for line in lines if line["message"] == "outbound_call"]
    assert len(inbound) == good + bad and len(outbound) == good
    assert {line["event"]["action"] for line in inbound} == {"resp-out"}
    assert {line["event"]["action"] for line in outbound} == {"resp-in"}
    assert all(line["trace"]["id"] and line["service"]["name"] == "intygsgateway" for line in inbound + outbound)
    assert all(line["url"]["full"].endswith(JOURNAL_PATH) and line["event"]["outcome"] == "success"
               for line in outbound)
    # The journal saw the outbound call's correlation id: trace.id follows the call across systems.
    assert len({line["trace"]["id"] for line in outbound}) == good


def test_an_empty_file_of_a_process_killed_while_starting_does_not_fail_the_scrape(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    """prometheus_client creates a process's file before it sizes it: a process killed in that moment
    leaves an empty file, which failed every scrape after it (a 500). The scrape leaves it out."""
    port, metrics_port = free_port(), free_port()
    env = {**environment, "INTYGSGATEWAY_METRICS_PORT": str(metrics_port)}
    subprocess.run([str(BIN), "db", "upgrade"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=60)
    server = subprocess.Popen([str(BIN), "serve", "--demo", "--port", str(port), "--workers", "2", "--no-worker"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", server)
        answer = post(f"http://127.0.0.1:{port}{ENDPOINT}", create_draft_envelope())
        assert b">OK<" in answer
        (tmp_path / "metrics" / "counter_4194303.db").write_bytes(b"")  # the killed process's file
        (tmp_path / "metrics" / "gauge_livesum_4194303.db").write_bytes(b"")
        for _ in range(4):  # whichever worker answers
            found = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
            assert value(found, "intygsgateway_soap_requests_total", contract="CreateDraftCertificate",
                         endpoint=ENDPOINT, result_code="OK", error_id="") == 1
    finally:
        stop(server)
