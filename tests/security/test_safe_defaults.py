"""Safe defaults: no gateway opened by omission, no patient data in logs or errors, private files, no clear routes."""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest
import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from cli.access import access_enabled
from cli.dev_pki import make_ca
from cli.logs import MASK, configure_logging, redact
from cli.pdl_signing import append_checkpoint, generate_key
from cli.settings import Settings, SettingsError
from contracts.ns import STATUS_UPDATE_V3
from domain.delivery import Attempt
from domain.pdl_checkpoint import Checkpoint, CheckpointKind, SignedCheckpoint
from outbound import OutboundCall, Timeouts
from routing.catalogue import Catalogue, Route
from routing.report import CheckKind, check_catalogue, is_plain_http
from store import pdl
from store.errors import Conflict
from store.outbox import event_report
from store.session import transaction
from tests.integration.outbox_env import Clock, add_certificates, catalogue_for, make_dispatcher
from tests.security.test_pdl_forgery import T0, record

PERSONNUMMER_FORMS = ["191212121212", "19121212-1212", "121212-1212", "1212121212", "121212+1212",
                      "197010632391", "701063-2391"]  # fmt: skip


def test_auto_access_control_refuses_a_public_address_without_a_way_to_identify_callers(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "::", "10.1.2.3", "gateway.region.example"):
        with pytest.raises(SettingsError) as refused:
            access_enabled(Settings(host=host))
        assert refused.value.setting == "access_control" and "off explicitly" in str(refused.value)
    assert access_enabled(Settings(host="0.0.0.0", access_control="off")) is False
    assert access_enabled(Settings(host="127.0.0.1")) is False and access_enabled(Settings(host="localhost")) is False
    assert main(["serve", "--host", "0.0.0.0", "--db", f"sqlite:///{tmp_path / 'gw.db'}", "--no-worker"]) == 2
    assert not (tmp_path / "gw.db").exists()  # refused before anything was touched


def test_sql_parameters_never_reach_an_error_text(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        pdl.append(session, record(1))
    with pytest.raises(Conflict) as duplicate, transaction(session_factory) as session:
        pdl.append(session, replace(record(1), patient_id="191010101010"))
    texts = [str(duplicate.value), str(duplicate.value.__cause__)]
    assert isinstance(duplicate.value.__cause__, IntegrityError)
    assert not any("191010101010" in text for text in texts) and "hidden due to hide_parameters" in texts[1]


@pytest.mark.parametrize("form", PERSONNUMMER_FORMS)
def test_the_log_mask_catches_every_written_form(form: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert redact(f"patient {form} read") == f"patient {MASK} read"
    configure_logging("info", "json")
    try:
        raise ValueError(f"no certificate for {form}")
    except ValueError:
        structlog.get_logger("t").exception("failed", detail={"patient": form})
    out = capsys.readouterr().out
    assert form not in out and MASK in out
    logging.getLogger().handlers.clear()


def test_keys_checkpoint_files_and_dev_pki_keys_are_private(tmp_path: Path) -> None:
    generate_key(tmp_path / "k.pem", tmp_path / "k.pub")
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        generate_key(tmp_path / "k.pem", tmp_path / "k2.pub")  # never overwritten
    checkpoints = tmp_path / "checkpoints.jsonl"
    checkpoints.write_text("")
    os.chmod(checkpoints, 0o644)
    signed = SignedCheckpoint(Checkpoint(1, 1, "a" * 64, 0, "0" * 64, T0, "k", CheckpointKind.SEAL, "0" * 64), b"s")
    append_checkpoint(checkpoints, signed)
    assert stat.S_IMODE(checkpoints.stat().st_mode) == 0o600
    key = tmp_path / "ca-key.pem"
    key.write_text("old")
    os.chmod(key, 0o644)
    make_ca("r", T0, T0.replace(year=2030)).write(tmp_path, "ca")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.read_text().startswith("-----BEGIN PRIVATE KEY")


def test_plain_http_routes_are_reported_and_not_sent(session_factory: sessionmaker[Session]) -> None:
    assert is_plain_http("http://journal.region.example/status") and is_plain_http("HTTP://10.0.0.5/x")
    assert not is_plain_http("https://journal.region.example/") and not is_plain_http("http://127.0.0.1:8081/")
    route = Route(STATUS_UPDATE_V3, "SE2321000016-1000", "http://journal.region.example/status", producer="SE-J")
    catalogue = Catalogue(routes=[route])
    findings = check_catalogue(catalogue, ["SE2321000016-1000"], STATUS_UPDATE_V3, T0.date())
    assert [f.kind for f in findings] == [CheckKind.PLAIN_HTTP]
    assert check_catalogue(catalogue, ["SE2321000016-1000"], STATUS_UPDATE_V3, T0.date(), allow_plain_http=True) == []

    class MustNotSend:
        def send(self, call: OutboundCall, timeouts: Timeouts) -> Attempt:
            raise AssertionError("patient data sent over plain http")

        def close(self) -> None:
            pass

    clock = Clock()
    [event_id] = add_certificates(session_factory, ["cert-plain"], at=clock())
    dispatcher, _ = make_dispatcher(
        session_factory, catalogue_for("http://journal.region.example/status"), clock, sender=MustNotSend()
    )
    assert dispatcher.run_batch() == 1
    with transaction(session_factory) as session:
        found = event_report(session, event_id)
    assert found is not None and [a["outcome"] for a in found.attempts] == ["insecure-route"]
    assert found.attempts[0]["url"] is None and "plain http://" in (found.attempts[0]["text"] or "")
    assert (found.event["status"], found.event["schedule_kind"]) == ("PENDING", "address")
