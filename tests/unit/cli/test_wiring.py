"""A deployment's own certificate type file replaces the built-in registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.settings import Settings
from cli.wiring import certificate_types
from domain.certificate_types import CertificateTypeConfigError

CUSTOM = """
[code_systems.KV_INTYGSTYP]
value = "b64ea353-e8f6-4832-b563-fc7d46f29548"
case_sensitive_codes = true

[certificate_types.NEWTYPE]
accepts = [{ code = "NEWTYPE", code_system = "KV_INTYGSTYP" }]
name = "Ett nytt intyg"
recipient = "FKASSA"
version = "1.0"
active = true
allowed_roles = ["LAKARE"]
allowed_for_protected = true
allowed_for_deceased = false
"""


def test_certificate_types_file_replaces_the_built_in_registry(tmp_path: Path) -> None:
    """With certificate_types_file set, its types and only its types are known."""
    path = tmp_path / "types.toml"
    path.write_text(CUSTOM, encoding="utf-8")
    registry = certificate_types(Settings(certificate_types_file=str(path)))
    assert registry.lookup("NEWTYPE", "b64ea353-e8f6-4832-b563-fc7d46f29548") is not None
    assert registry.lookup("LISJP", "b64ea353-e8f6-4832-b563-fc7d46f29548") is None


def test_the_built_in_registry_is_the_default() -> None:
    """Without a file, the packaged registry answers for LISJP."""
    assert certificate_types(Settings()).lookup("LISJP", "b64ea353-e8f6-4832-b563-fc7d46f29548") is not None


def test_a_broken_types_file_fails_loudly(tmp_path: Path) -> None:
    """A type with an unknown role stops the start with an error naming the type."""
    path = tmp_path / "types.toml"
    path.write_text(CUSTOM.replace('"LAKARE"', '"PILOT"'), encoding="utf-8")
    with pytest.raises(CertificateTypeConfigError, match="NEWTYPE"):
        certificate_types(Settings(certificate_types_file=str(path)))
