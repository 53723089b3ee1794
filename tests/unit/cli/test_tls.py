"""TLS settings, certificate expiry, the access-control switch and the development PKI tool."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from cryptography import x509

from cli import main
from cli.access import access_control, access_enabled, log_access_control
from cli.dev_pki import issue, make_ca, write_dev_pki
from cli.settings import Settings, SettingsError
from cli.tls import (
    WARN_DAYS,
    certificate_report,
    check_tls_settings,
    log_expiry,
    own_certificates,
    server_context,
)
from gateway.identity import serial_number
from routing.catalogue import Catalogue
from routing.provider import StaticProvider

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("devpki")
    write_dev_pki(folder, NOW, consumers=("SE1-A", "SE1-B", "SE1-C"), roots=2, days=WARN_DAYS - 1)
    return folder


def _settings(pki: Path, **changes: object) -> Settings:
    base = Settings(tls_cert=str(pki / "server.pem"), tls_key=str(pki / "server-key.pem"))
    return base.replace(**changes)


def test_dev_pki_spreads_clients_over_the_roots_with_their_hsa_ids(pki: Path) -> None:
    """Each client certificate carries its HSA-id as serialNumber; clients alternate between the roots."""
    roots = [x509.load_pem_x509_certificate((pki / f"ca{n}.pem").read_bytes()) for n in (1, 2)]
    issuers = []
    for hsa_id in ("SE1-A", "SE1-B", "SE1-C"):
        client = x509.load_pem_x509_certificate((pki / f"client-{hsa_id}.pem").read_bytes())
        assert serial_number(client) == hsa_id
        issuers.append(roots.index(next(r for r in roots if r.subject == client.issuer)))
    assert issuers == [0, 1, 0]
    assert (pki / "trust-bundle.pem").read_bytes().count(b"BEGIN CERTIFICATE") == 2
    assert (pki / "server-key.pem").stat().st_mode & 0o077 == 0


def test_dev_pki_command_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`intygsgateway dev-pki DIR` writes a CA, a server certificate and the default client."""
    assert main(["dev-pki", str(tmp_path / "pki"), "--consumer", "SE2321000016-X", "--server-name", "gw.local"]) == 0
    server = x509.load_pem_x509_certificate((tmp_path / "pki" / "server.pem").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["gw.local"]
    assert "client SE2321000016-X" in capsys.readouterr().out


def test_days_left_warn_under_thirty_and_go_negative_when_expired(pki: Path, tmp_path: Path) -> None:
    """A certificate with 29 days left warns; an expired one reports negative days."""
    ca = make_ca("r", NOW - timedelta(days=60), NOW + timedelta(days=60))
    expired_cert, _ = issue(ca, "old", NOW - timedelta(days=40), NOW - timedelta(days=2)).write(tmp_path, "old")
    report = certificate_report(own_certificates(_settings(pki, client_cert=str(expired_cert))), NOW)
    assert report["server"]["daysLeft"] == WARN_DAYS - 1 and report["server"]["warning"] is True
    assert report["client"]["daysLeft"] == -2 and report["client"]["warning"] is True
    with structlog.testing.capture_logs() as logs:
        log_expiry(own_certificates(_settings(pki, client_cert=str(expired_cert))), NOW)
    assert [(line["event"], line["role"]) for line in logs] == [
        ("certificate_expires_soon", "server"), ("certificate_expired", "client")]


def test_server_context_asks_for_client_certificates_only_with_client_cas(pki: Path) -> None:
    """Without tls_client_ca: no client certificates; with it: optional, or required when configured."""
    assert server_context(_settings(pki)).verify_mode == ssl.CERT_NONE
    both = (str(pki / "ca1.pem"), str(pki / "ca2.pem"))
    assert server_context(_settings(pki, tls_client_ca=both)).verify_mode == ssl.CERT_OPTIONAL
    required = _settings(pki, tls_client_ca=both, tls_require_client_cert=True)
    context = server_context(required)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert len(context.get_ca_certs()) == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"tls_key": ""},
        {"tls_client_ca": ("missing.pem",)},
        {"tls_require_client_cert": True},
        {"client_cert": "nowhere.pem"},
    ],
    ids=["cert without key", "missing ca file", "require without ca", "missing client cert"],
)
def test_inconsistent_tls_settings_are_refused(pki: Path, changes: dict[str, object]) -> None:
    """Each mistake is named before serving instead of failing at the first handshake."""
    with pytest.raises(SettingsError):
        check_tls_settings(_settings(pki, **changes))


def test_access_control_auto_follows_the_identity_sources() -> None:
    """auto: off without mutual TLS or proxies, on with either; on without them is an error; off is off."""
    assert access_enabled(Settings()) is False
    assert access_enabled(Settings(tls_client_ca=("ca.pem",))) is True
    assert access_enabled(Settings(trusted_proxies=("10.0.0.1",))) is True
    assert access_enabled(Settings(trusted_proxies=("10.0.0.1",), access_control="off")) is False
    with pytest.raises(SettingsError):
        access_enabled(Settings(access_control="on"))
    with pytest.raises(SettingsError):
        access_enabled(Settings(access_control="maybe"))


def _ca_file(tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    path.write_bytes(make_ca("r", NOW - timedelta(days=60), NOW + timedelta(days=60)).cert_pem)
    return str(path)


def test_trusted_proxies_need_the_cas_forwarded_certificates_must_chain_to(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        log_access_control(Settings(trusted_proxies=("10.0.0.0/8",)))
    assert refused.value.setting == "trusted_proxies" and "tls_client_ca" in str(refused.value)


def test_access_control_defaults_to_the_system_hsa_id_as_producer_address(tmp_path: Path) -> None:
    """Without producer_addresses the gateway's own HSA-id is its logical address."""
    settings = Settings(trusted_proxies=("10.0.0.0/8",), tls_client_ca=(_ca_file(tmp_path),))
    control = access_control(settings, StaticProvider(Catalogue()), NOW.date)
    assert control is not None
    assert control.producer_addresses == (Settings().system_hsa_id,)
    assert control.address_for("  ") == Settings().system_hsa_id and control.address_for(" SE1-X ") == "SE1-X"
    with pytest.raises(SettingsError):
        access_control(Settings(trusted_proxies=("10.0.0.300",)), StaticProvider(Catalogue()), NOW.date)


def test_start_up_warns_when_access_control_is_off_and_stops_on_bad_proxies(tmp_path: Path) -> None:
    """`serve` logs a warning when nobody is checked, and refuses a typo in trusted_proxies before forking."""
    with structlog.testing.capture_logs() as logs:
        log_access_control(Settings())
        log_access_control(Settings(trusted_proxies=("10.0.0.0/8",), tls_client_ca=(_ca_file(tmp_path),)))
    assert [(line["event"], line["log_level"]) for line in logs] == [
        ("access_control_off", "warning"), ("access_control_on", "info")]
    assert "ACCESS CONTROL IS OFF" in logs[0]["warning"] and logs[1]["trusted_proxies"] == ["10.0.0.0/8"]
    with pytest.raises(SettingsError):
        log_access_control(Settings(trusted_proxies=("10.0.0.0/33",)))
