"""deploy/: the files an operator installs parse and agree with the code.

* the systemd units pass ``systemd-analyze verify`` (their ExecStart pointed at this checkout's command);
* the compose file is checked against the compose specification's structure here (every service has
  an image, every secret, volume, network and dependency it names is declared, two gateway replicas,
  every ``INTYGSGATEWAY_*`` variable is a setting), and by ``docker-compose config`` (Debian's
  docker-compose validates with the compose specification's JSON schema and needs no engine) when it
  is installed; no container engine runs here, so the image is never built in a test;
* the containers' nginx configuration is the tested one (tests/integration/test_nginx.py) except
  for the upstream and proxy_bind;
* the Dockerfile copies every package of the map.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.settings import SPECS
from tests.unit.test_layers import PACKAGES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "container" / "compose.yaml"
SECRETS = ("db-owner-password", "db-app-password", "db-purge-password", "pgpass", "pgpass-owner", "pdl-signing.key",
           "tls/client-ca.pem")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_verify(tmp_path: Path) -> None:
    """Both units pass systemd's own checker, with ExecStart pointing at an installed intygsgateway."""
    command = Path(sys.executable).parent / "intygsgateway"
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text(encoding="utf-8")
        assert text.count("/opt/intygsgateway/venv/bin/intygsgateway") == 1
        (tmp_path / unit.name).write_text(text.replace("/opt/intygsgateway/venv/bin/intygsgateway", str(command)))
        units.append(str(tmp_path / unit.name))
    assert [Path(u).name for u in units] == ["intygsgateway-worker.service", "intygsgateway.service"]
    done = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "Unknown key" not in done.stderr and "Unknown section" not in done.stderr, done.stderr


def test_the_worker_unit_shares_the_gateways_metrics_folder() -> None:
    """The worker writes where the gateway's scrape reads, and stops and starts with the gateway."""
    gateway = (DEPLOY / "systemd" / "intygsgateway.service").read_text()
    worker = (DEPLOY / "systemd" / "intygsgateway-worker.service").read_text()
    folder = "Environment=INTYGSGATEWAY_METRICS_DIR=/run/intygsgateway/metrics"
    assert folder in gateway and folder in worker and "RuntimeDirectory=intygsgateway" in gateway
    assert "PartOf=intygsgateway.service" in worker and "serve --no-worker" in gateway


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_compose_file_has_the_required_structure() -> None:
    """PostgreSQL, a migration, two gateway replicas, a worker and nginx; nothing named that is not declared."""
    data = _compose()
    services: dict[str, Any] = data["services"]
    assert set(services) == {"postgres", "migrate", "gateway", "worker", "nginx"}
    assert services["gateway"]["deploy"]["replicas"] == 2
    declared = {kind: set(data.get(kind) or {}) for kind in ("secrets", "volumes", "networks")}
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        assert set(service) <= {"image", "build", "command", "environment", "secrets", "volumes", "networks", "expose",
                                "ports", "depends_on", "deploy", "restart", "healthcheck"}, name
        assert set(service.get("secrets", [])) <= declared["secrets"], name
        named_volumes = {v.split(":")[0] for v in service.get("volumes", []) if not v.startswith((".", "/"))}
        assert named_volumes <= declared["volumes"], name
        assert set(service.get("networks", [])) <= declared["networks"], name
        assert set(service.get("depends_on", [])) <= set(services), name
        for variable in service.get("environment", {}):
            if variable.startswith("INTYGSGATEWAY_"):
                assert variable in {spec.env_name for spec in SPECS}, f"{name}: {variable} is not a setting"
        for mount in service.get("volumes", []):
            if mount.startswith(".") and not mount.startswith("./secrets/"):
                assert (COMPOSE.parent / mount.split(":")[0]).exists(), f"{name}: {mount}"
    for secret in data["secrets"].values():
        assert secret["file"].startswith("./secrets/")  # never in the repository
    nginx_address = services["nginx"]["networks"]["backend"]["ipv4_address"]
    assert data["x-gateway-environment"]["INTYGSGATEWAY_TRUSTED_PROXIES"] == nginx_address


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_docker_compose_validates_the_file_without_an_engine(tmp_path: Path) -> None:
    """`docker-compose config` (the compose specification's schema) accepts the file, secrets in place."""
    folder = tmp_path / "container"
    shutil.copytree(COMPOSE.parent, folder)
    for secret in SECRETS:
        (folder / "secrets" / secret).parent.mkdir(parents=True, exist_ok=True)
        (folder / "secrets" / secret).write_text("placeholder\n")
    done = subprocess.run(["docker-compose", "-f", str(folder / "compose.yaml"), "config", "-q"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    broken = folder / "broken.yaml"
    broken.write_text(COMPOSE.read_text().replace("    deploy:\n      replicas: 2", "    deploy:\n      replicas: two"))
    refused = subprocess.run(["docker-compose", "-f", str(broken), "config", "-q"], capture_output=True, text=True,
                             timeout=60, check=False)
    assert refused.returncode != 0  # the check does check


def test_the_containers_nginx_is_the_tested_one_but_for_the_upstream() -> None:
    """Only the header comment, the upstream and proxy_bind differ from deploy/nginx/intygsgateway.conf."""
    tested = (DEPLOY / "nginx" / "intygsgateway.conf").read_text().splitlines()
    container = (DEPLOY / "container" / "nginx.conf").read_text().splitlines()
    changed = [line for line in difflib.unified_diff(tested, container, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---")) and not line[1:].startswith("#")]
    assert changed == [
        "-    server 127.0.0.1:8080;",
        "+    server gateway:8080;  # Docker's DNS answers every replica; nginx resolves it at start",
        "-        # The gateway believes that header only from trusted_proxies: nginx alone connects from here.",
        "-        proxy_bind              127.0.0.2;",
    ]


def test_the_image_holds_every_package() -> None:
    """Every package of the map (and the schemas) is copied into the image, which runs intygsgateway."""
    dockerfile = (DEPLOY / "container" / "Dockerfile").read_text()
    for package in (*PACKAGES, "xsd"):
        assert f"COPY {package} {package}" in dockerfile, package
    assert 'ENTRYPOINT ["intygsgateway"]' in dockerfile and "USER intygsgateway" in dockerfile
