"""The log redaction masks anything shaped like a personnummer."""

from __future__ import annotations

from cli.logs import MASK, redact


def test_personnummer_shapes_are_masked_everywhere() -> None:
    """12 digits, with or without separator, in strings, lists and dicts are masked."""
    event = {"text": "patient 191212121212 and 19121212-1212", "items": ["200001012384"], "n": 5}
    redacted = redact(event)
    assert redacted == {"text": f"patient {MASK} and {MASK}", "items": [MASK], "n": 5}


def test_hsa_ids_and_uuids_are_left_alone() -> None:
    """HSA-ids and certificate ids are not patient data and stay readable."""
    value = "SE2321000016-1000 9f1c2a40-1111-4a2b-8c3d-191212121212x"
    assert redact("SE2321000016-1000") == "SE2321000016-1000"
    assert redact(value).startswith("SE2321000016-1000")
