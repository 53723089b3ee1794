"""The reloading certificate type registry: a changed file is served without a restart, a broken one ignored."""

from __future__ import annotations

import tomllib

import pytest
from structlog.testing import capture_logs

from domain.certificate_types import CertificateTypeConfigError, CertificateTypeRegistry, from_mapping
from domain.values import KV_INTYGSTYP
from usecases.type_registry import ReloadingRegistry

BASE = """
[code_systems.KV_INTYGSTYP]
value = "b64ea353-e8f6-4832-b563-fc7d46f29548"
case_sensitive_codes = true

[certificate_types.LISJP]
accepts = [{ code = "LISJP", code_system = "KV_INTYGSTYP" }]
name = "Läkarintyg för sjukpenning"
recipient = "FKASSA"
version = "1.0"
active = true
allowed_roles = ["LAKARE"]
allowed_for_protected = true
allowed_for_deceased = false
"""
PILOT = BASE + '\n[certificate_types.LISJP.activation]\nfrom = 2024-09-16\nunits = ["SE2321000016-1000"]\n'


def _parse(content: bytes) -> CertificateTypeRegistry:
    return from_mapping(tomllib.loads(content.decode("utf-8")))


class _Files:
    """A file whose content a test changes, and a clock it moves."""

    def __init__(self, content: str) -> None:
        self.content = content.encode()
        self.reads = 0
        self.now = 0.0

    def read(self) -> bytes:
        self.reads += 1
        if not self.content:
            raise FileNotFoundError("types.toml")
        return self.content


def _registry(files: _Files, seconds: float = 5.0) -> ReloadingRegistry:
    return ReloadingRegistry(files.read, _parse, lambda: files.now, seconds, "types.toml")


def test_a_changed_file_is_served_after_the_check_interval_and_logged() -> None:
    """Within the interval the old registry answers; after it, the new one, with the changed code logged."""
    files = _Files(BASE)
    registry = _registry(files)
    files.content = PILOT.encode()
    files.now = 4.9
    lisjp = registry.lookup("LISJP", KV_INTYGSTYP)
    assert lisjp is not None and not lisjp.activation.is_pilot
    files.now = 5.0
    with capture_logs() as logs:
        lisjp = registry.lookup("LISJP", KV_INTYGSTYP)
    assert lisjp is not None and lisjp.activation.is_pilot
    (event,) = [e for e in logs if e["event"] == "certificate_types_reloaded"]
    assert (event["changed"], event["added"], event["removed"]) == (["LISJP"], [], [])


def test_an_unchanged_file_is_not_parsed_or_logged_again() -> None:
    """Same bytes, same digest: no reload line in the log at every look."""
    files = _Files(BASE)
    registry = _registry(files)
    files.now = 60.0
    with capture_logs() as logs:
        registry.current()
    assert files.reads == 2 and logs == []


def test_a_broken_file_keeps_the_last_good_registry_and_is_reported_once() -> None:
    """A typo while editing must not take the types away: the error is logged once, the old registry serves."""
    files = _Files(BASE)
    registry = _registry(files)
    files.content = (BASE + "\n[certificate_types.LISJP.activation]\nunits = []\n").encode()
    with capture_logs() as logs:
        for look in range(1, 4):
            files.now = 5.0 * look
            assert registry.lookup("LISJP", KV_INTYGSTYP) is not None
    assert [e["event"] for e in logs] == ["certificate_types_reload_failed"]
    files.content = PILOT.encode()  # fixed
    files.now = 20.0
    lisjp = registry.lookup("LISJP", KV_INTYGSTYP)
    assert lisjp is not None and lisjp.activation.is_pilot


def test_a_missing_file_keeps_the_last_good_registry() -> None:
    """A file moved away mid-deploy: logged, the types stay."""
    files = _Files(BASE)
    registry = _registry(files)
    files.content, files.now = b"", 5.0
    with capture_logs() as logs:
        assert len(registry) == 1
    assert logs[0]["event"] == "certificate_types_reload_failed"


def test_a_broken_file_at_start_stops_the_start() -> None:
    """The first load's error propagates: a gateway must not start without its types."""
    with pytest.raises(CertificateTypeConfigError):
        _registry(_Files(BASE.replace('allowed_roles = ["LAKARE"]', 'allowed_roles = ["DOKTOR"]')))


def test_zero_seconds_reads_once() -> None:
    """certificate_types_check_seconds = 0: the file is read at start only."""
    files = _Files(BASE)
    registry = _registry(files, seconds=0)
    files.content, files.now = PILOT.encode(), 1e9
    lisjp = registry.lookup("LISJP", KV_INTYGSTYP)
    assert files.reads == 1 and lisjp is not None and not lisjp.activation.is_pilot
