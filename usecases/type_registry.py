"""The certificate type registry of a deployment's file, re-read when the file changes.

Activating a type for a pilot, moving its start date or phasing it out is an edit of the
``certificate_types_file`` (``domain.activation``), and must take effect without restarting the
gateway: every web worker and the outbox worker re-read the file on their own, at most every
``check_seconds``. Reading is cheap (the bytes are hashed and compared with the last ones), so
parsing happens only when the content changed, and each change is logged once per process with the
type codes added, removed and changed (``certificate_types_reloaded``).

A file that no longer loads (a typo while editing, a half-written file) is logged as
``certificate_types_reload_failed`` and the last good registry stays in use: a broken edit must
not take every certificate type away. Write the file atomically (``mv`` a finished file into
place) and check it first with ``intygsgateway types show``.

Reading the file and parsing TOML are passed in (``read``, ``parse``), so this module knows no
paths or formats and is tested with plain functions.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import structlog

from domain.certificate_types import AcceptedCode, CertificateType, CertificateTypeConfigError, CertificateTypeRegistry


def _log() -> Any:
    # A fresh logger per use: a module-level one would keep the output stream of whoever configured
    # logging first (see scheduler.locking).
    return structlog.get_logger("usecases.type_registry")


def registry_changes(old: CertificateTypeRegistry, new: CertificateTypeRegistry) -> dict[str, list[str]]:
    """The codes of the types added, removed and changed from ``old`` to ``new`` (each list sorted)."""
    before = {certificate_type.code: certificate_type for certificate_type in old}
    after = {certificate_type.code: certificate_type for certificate_type in new}
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(code for code in set(before) & set(after) if before[code] != after[code]),
    }


class ReloadingRegistry:
    """``domain.certificate_types.CertificateTypes`` over a file that may change while we run.

    The first load happens in the constructor and its errors propagate (a gateway must not start
    with a broken registry); later failures keep the last good registry and are logged.
    """

    def __init__(
        self,
        read: Callable[[], bytes],
        parse: Callable[[bytes], CertificateTypeRegistry],
        clock: Callable[[], float],
        check_seconds: float,
        source: str,
    ) -> None:
        self._read = read
        self._parse = parse
        self._clock = clock
        self._check_seconds = check_seconds
        self._source = source
        self._lock = threading.Lock()
        content = read()
        self._registry = parse(content)
        self._digest = hashlib.sha256(content).hexdigest()
        self._failed_digest: str | None = None  # a broken content is reported once, not at every look
        self._checked_at = clock()

    @property
    def digest(self) -> str:
        """SHA-256 of the file content in use."""
        return self._digest

    def current(self) -> CertificateTypeRegistry:
        """The registry to use now, re-read first if ``check_seconds`` have passed since the last look."""
        if self._check_seconds > 0 and self._clock() - self._checked_at >= self._check_seconds:
            # Only one thread looks; the others go on with the registry they have.
            if self._lock.acquire(blocking=False):
                try:
                    self._reload()
                finally:
                    self._lock.release()
        return self._registry

    def _reload(self) -> None:
        self._checked_at = self._clock()
        try:
            content = self._read()
        except OSError as error:
            _log().error("certificate_types_reload_failed", source=self._source, error=str(error))
            return
        digest = hashlib.sha256(content).hexdigest()
        if digest in (self._digest, self._failed_digest):
            return
        try:
            registry = self._parse(content)
        except (CertificateTypeConfigError, ValueError, UnicodeDecodeError) as error:
            # tomllib.TOMLDecodeError is a ValueError. The last good registry stays in use.
            self._failed_digest = digest
            _log().error("certificate_types_reload_failed", source=self._source, error=str(error))
            return
        changes = registry_changes(self._registry, registry)
        self._registry, self._digest = registry, digest
        _log().info("certificate_types_reloaded", source=self._source, digest=digest[:16], **changes)

    def lookup(self, code: str, code_system: str) -> CertificateType | None:
        """The type with this code in this code system, in the registry in use now."""
        return self.current().lookup(code, code_system)

    def accepted_for(self, code: str) -> tuple[AcceptedCode, ...]:
        """Every pair accepted for ``code``, in the registry in use now."""
        return self.current().accepted_for(code)

    def __iter__(self) -> Iterator[CertificateType]:
        return iter(self.current())

    def __len__(self) -> int:
        return len(self.current())
