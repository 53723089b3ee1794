"""A certificate survives its JSON snapshot unchanged (the RADERA event carries it)."""

from __future__ import annotations

import json

import pytest

from domain.certificates import (
    content_from_json,
    content_to_json,
    from_snapshot,
    to_snapshot,
)
from tests.builders import CONTENT, make_draft, make_revoked_certificate


@pytest.mark.parametrize("certificate", [make_draft(), make_revoked_certificate()], ids=["draft", "revoked"])
def test_snapshot_round_trips_through_json_text(certificate: object) -> None:
    """to_snapshot gives JSON-safe data; from_snapshot of its JSON text is the same certificate."""
    text = json.dumps(to_snapshot(certificate))  # type: ignore[arg-type]
    assert from_snapshot(json.loads(text)) == certificate


def test_snapshot_of_another_version_is_refused() -> None:
    """A snapshot written by a future format is not guessed at."""
    data = to_snapshot(make_draft())
    data["snapshot_version"] = 99
    with pytest.raises(ValueError):
        from_snapshot(data)


def test_content_round_trips() -> None:
    """Content keeps answer ids, instances, plain values and typed XML."""
    assert content_from_json(json.loads(json.dumps(content_to_json(CONTENT)))) == CONTENT


@pytest.mark.parametrize(
    "data",
    [
        [{"id": "1", "instance": "2", "parts": []}],
        [{"id": "1", "instance": True, "parts": []}],
        [{"id": 1, "instance": None, "parts": []}],
        [{"id": "1", "instance": None, "parts": [{"id": "1.1", "value": 5}]}],
        [{"id": "1", "instance": None}],
    ],
    ids=["instance-text", "instance-bool", "id-number", "value-number", "no-parts"],
)
def test_malformed_content_is_refused(data: list[dict[str, object]]) -> None:
    """Content of the wrong shape raises instead of storing something the status update cannot send."""
    with pytest.raises((KeyError, TypeError, ValueError)):
        content_from_json(data)
