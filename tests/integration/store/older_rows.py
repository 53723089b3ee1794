"""Certificates as the rows and snapshots of releases before migration 0014 held them.

Before 0014 a certificate named the locked draft it was copied from in ``copied_from``; it had no
other relation. The migration tests of earlier revisions insert rows of that shape.
"""

from __future__ import annotations

from typing import Any

from domain.certificates import Certificate, certificate_to_columns
from domain.values import RelationCode

#: The columns migration 0014 added (in place of ``copied_from``).
RELATION_COLUMNS = ("relation_code", "relation_parent_id")


def copied_from(certificate: Certificate) -> str | None:
    """What ``copied_from`` held for ``certificate``: its parent if it is a copy (KOPIA)."""
    return certificate.relation_parent if certificate.relation_code is RelationCode.KOPIA else None


def row_before_0014(certificate: Certificate, dropped: tuple[str, ...] = ()) -> dict[str, Any]:
    """The certificate's row before 0014, without the columns ``dropped`` (added by later revisions)."""
    row = {k: v for k, v in certificate_to_columns(certificate).items() if k not in (*dropped, *RELATION_COLUMNS)}
    return {**row, "copied_from": copied_from(certificate)}


def snapshot_before_0014(snapshot: dict[str, Any], copied: str | None) -> dict[str, Any]:
    """A snapshot as written before 0014: ``copied_from`` in place of the relation."""
    return {**{k: v for k, v in snapshot.items() if k not in RELATION_COLUMNS}, "copied_from": copied}
