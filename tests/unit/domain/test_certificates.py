"""A certificate survives its flat columns and its JSON snapshot unchanged, field by field.

The store keeps a certificate as ``certificate_to_columns`` gives it, and the RADERA event carries it
as ``to_snapshot`` gives it. ``CERTIFICATE_COLUMNS`` is the one declaration behind both, so the
tests here build certificates from the dataclasses' own fields (every leaf a value no other leaf
has) rather than by hand: a field added later is covered without touching them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import count
from types import NoneType, UnionType
from typing import Any, get_args, get_origin, get_type_hints

import pytest

from domain import flatten
from domain.certificates import (
    CERTIFICATE_COLUMNS,
    COLUMN_NAMES,
    HEADER_COLUMNS,
    LIFECYCLE_COLUMN_NAMES,
    Certificate,
    certificate_from_columns,
    certificate_header_from_columns,
    certificate_to_columns,
    certificate_to_json,
    content_from_json,
    content_to_json,
    from_snapshot,
    lifecycle_columns,
    to_snapshot,
)
from domain.values import HsaId, RelationCode, RevokeReason
from tests.builders import CONTENT, make_draft, make_revoked_certificate

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# Value types the table keeps whole (an HSA-id is one column, not a nested value).
LEAF_TYPES = (HsaId,)


# --- Certificates made from the dataclasses' fields ----------------------------------------------


def _is_leaf(hint: Any) -> bool:
    return not is_dataclass(hint) or hint in LEAF_TYPES


def _optional_of(hint: Any) -> Any | None:
    """``X`` for ``X | None``, else None."""
    if isinstance(hint, UnionType) and NoneType in get_args(hint):
        (inner,) = (arg for arg in get_args(hint) if arg is not NoneType)
        return inner
    return None


def _value(hint: Any, path: str, numbers: Iterator[int]) -> Any:
    """A value of type ``hint`` that no other leaf of the certificate has."""
    n = next(numbers)
    inner = _optional_of(hint)
    if inner is not None:
        return _value(inner, path, numbers)
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        return (_value(item, f"{path}.0", numbers), _value(item, f"{path}.1", numbers))
    if hint is str:
        return f"{path} {n}"
    if hint is bool:
        return n % 2 == 0
    if hint is int:
        return n
    if hint is datetime:
        return T0 + timedelta(hours=n, microseconds=n)
    if hint is HsaId:
        return HsaId(f"SE{n:010d}-{path}")
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        members = list(hint)
        return members[n % len(members)]
    if is_dataclass(hint):
        assert isinstance(hint, type)
        return _build(hint, f"{path}.", numbers)
    raise AssertionError(f"no test value for {path}: {hint!r}")


def _build(cls: type, prefix: str, numbers: Iterator[int]) -> Any:
    hints = get_type_hints(cls)
    return cls(**{f.name: _value(hints[f.name], prefix + f.name, numbers) for f in fields(cls)})


def full_certificate(start: int = 0) -> Certificate:
    """Every field set, every leaf distinct; ``start`` 0 and 1 give each boolean both values."""
    certificate: Certificate = _build(Certificate, "", count(start))
    # The one rule the flat form imposes: the unit belongs to the certificate's care giver.
    return replace(certificate, unit=replace(certificate.unit, care_giver=certificate.care_giver.hsa_id))


def _optional_paths(cls: type, prefix: str = "") -> Iterator[str]:
    """Dotted paths of the fields that have a default (None or empty): the optional ones."""
    hints = get_type_hints(cls)
    for f in fields(cls):
        if f.default is not MISSING:
            yield prefix + f.name
        elif not _is_leaf(hints[f.name]):
            yield from _optional_paths(hints[f.name], f"{prefix}{f.name}.")


def _without(value: Any, path: str) -> Any:
    """``value`` with the field at ``path`` set back to its default."""
    head, _, rest = path.partition(".")
    if rest:
        return replace(value, **{head: _without(getattr(value, head), rest)})
    (field,) = (f for f in fields(value) if f.name == head)
    return replace(value, **{head: field.default})


OPTIONAL_PATHS = list(_optional_paths(Certificate))


def _minimal(certificate: Certificate) -> Certificate:
    for path in OPTIONAL_PATHS:
        certificate = _without(certificate, path)
    return certificate


def _one_unset() -> dict[str, Certificate]:
    """The full certificate with each optional field unset in turn (where that changes it: a boolean
    that defaults to False may already be False in both full certificates)."""
    variants = {}
    for path in OPTIONAL_PATHS:
        for start in (0, 1):
            full = full_certificate(start)
            if (changed := _without(full, path)) != full:
                variants[f"without-{path}"] = changed
                break
    return variants


VARIANTS = {
    "all-set": full_certificate(0),
    "all-set-other-booleans": full_certificate(1),
    "optional-unset": _minimal(full_certificate(0)),
    **_one_unset(),
    "builders-draft": make_draft(),
    "builders-revoked": make_revoked_certificate(),
}


# --- Round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("certificate", VARIANTS.values(), ids=VARIANTS.keys())
def test_every_field_survives_the_columns(certificate: Certificate) -> None:
    """certificate_from_columns gives back exactly the certificate certificate_to_columns flattened."""
    columns = certificate_to_columns(certificate)
    assert set(columns) == set(COLUMN_NAMES)
    assert certificate_from_columns(columns) == certificate


@pytest.mark.parametrize("certificate", VARIANTS.values(), ids=VARIANTS.keys())
def test_every_field_survives_the_snapshot_as_json_text(certificate: Certificate) -> None:
    """to_snapshot gives JSON-safe data; from_snapshot of its JSON text is the same certificate."""
    text = json.dumps(to_snapshot(certificate))
    assert from_snapshot(json.loads(text)) == certificate


def test_snapshot_is_the_columns_made_json_safe() -> None:
    """The snapshot holds the flat values under the column names, with times and codes as text."""
    certificate = make_revoked_certificate()
    snapshot = to_snapshot(certificate)
    assert set(snapshot) == {"snapshot_version", *COLUMN_NAMES}
    assert snapshot["snapshot_version"] == 6
    assert (snapshot["relation_code"], snapshot["relation_parent_id"]) == ("KOPIA", "0ld-draft")
    assert (snapshot["status"], snapshot["created_at"], snapshot["signed_by_hsa_id"]) == (
        "REVOKED", "2026-11-20T08:15:30.250000+00:00", "SE2321000016-P001",
    )
    assert snapshot["created_by_detail"] == {
        "licensedProfessions": ["Läkare"], "positionCodes": ["204010", "201011"],
        "groupPrescriberCodes": ["9300005"], "prescriberCode": "1234567",
        "assignments": [{"unit": "SE2321000016-1003", "purpose": "Vård och behandling"}],
    }


def test_older_snapshots_read_with_what_was_added_since() -> None:
    """RADERA payloads of version 2 lack the reason code (None) and, like version 3, the type as received
    (the certificate's own type)."""
    data = to_snapshot(make_draft())
    for key in ("revoke_reason_code", "received_type_code", "received_type_code_system"):
        del data[key]
    data["snapshot_version"] = 2
    assert from_snapshot(data) == make_draft()
    data = to_snapshot(make_revoked_certificate())
    del data["received_type_code"], data["received_type_code_system"]
    data["snapshot_version"] = 3
    assert from_snapshot(data) == make_revoked_certificate()


def test_snapshots_of_version_4_read_without_send_fields() -> None:
    """A draft deleted before the send's fields existed (version 4) reads with none of them set."""
    data = to_snapshot(make_draft())
    for key in ("send_requested_at", "send_failed_at", "send_failure_class", "send_failure_text"):
        del data[key]
    data["snapshot_version"] = 4
    assert from_snapshot(data) == make_draft()


def test_snapshots_of_version_5_read_copied_from_as_relation_kopia() -> None:
    """Before relations (version 5) a copy of a locked draft named it in ``copied_from``: relation KOPIA;
    a certificate copied from none has no relation."""
    for certificate in (make_revoked_certificate(), make_draft()):
        data = to_snapshot(certificate)
        del data["relation_code"], data["relation_parent_id"]
        data |= {"snapshot_version": 5, "copied_from": certificate.relation_parent}
        assert from_snapshot(data) == certificate
    assert make_revoked_certificate().relation_code is RelationCode.KOPIA and make_draft().relation_code is None


def test_a_revocation_reason_survives_the_snapshot() -> None:
    """The reason code goes out as its wire value and comes back as the enum."""
    revoked = replace(make_revoked_certificate(), revoke_reason_code=RevokeReason.FEL_PATIENT)
    snapshot = to_snapshot(revoked)
    assert snapshot["revoke_reason_code"] == "FEL_PATIENT"
    assert from_snapshot(snapshot) == revoked


def test_snapshot_of_another_version_is_refused() -> None:
    """A snapshot written by another format is not guessed at."""
    data = to_snapshot(make_draft())
    for version in (1, 99):
        data["snapshot_version"] = version
        with pytest.raises(ValueError):
            from_snapshot(data)


def test_snapshot_without_a_creation_time_is_refused() -> None:
    """A required time that is missing raises instead of making a certificate without one."""
    data = to_snapshot(make_draft())
    data["created_at"] = None
    with pytest.raises((KeyError, TypeError, ValueError)):
        from_snapshot(data)


def test_lifecycle_columns_are_the_declared_subset() -> None:
    """lifecycle_columns gives exactly the entries marked lifecycle, valued as the whole row has them."""
    certificate = make_revoked_certificate()
    assert LIFECYCLE_COLUMN_NAMES == flatten.names(c for c in CERTIFICATE_COLUMNS if c.lifecycle)
    row = certificate_to_columns(certificate)
    assert lifecycle_columns(certificate) == {name: row[name] for name in LIFECYCLE_COLUMN_NAMES}
    assert {"status", "content", "version", "signed_at", "revoked_by_hsa_id"} <= set(LIFECYCLE_COLUMN_NAMES)
    assert not {"certificate_id", "patient_id", "unit_hsa_id", "created_at"} & set(LIFECYCLE_COLUMN_NAMES)


@pytest.mark.parametrize("certificate", [make_draft(), make_revoked_certificate(), full_certificate()],
                         ids=["draft", "revoked", "generated"])
def test_header_reads_only_its_columns(certificate: Certificate) -> None:
    """certificate_header_from_columns needs no more than HEADER_COLUMNS and agrees with Certificate.header."""
    row = certificate_to_columns(certificate)
    assert certificate_header_from_columns({name: row[name] for name in HEADER_COLUMNS}) == certificate.header


def test_a_unit_of_another_care_giver_is_refused() -> None:
    """The row keeps one care giver for the certificate and its unit, so they must agree."""
    draft = make_draft()
    other = replace(draft, unit=replace(draft.unit, care_giver=HsaId("SE2321000016-9999")))
    with pytest.raises(ValueError):
        certificate_to_columns(other)
    with pytest.raises(ValueError):
        to_snapshot(other)


def test_api_view_nests_the_attributes() -> None:
    """certificate_to_json has the certificate's attributes by name, nested, JSON-safe."""
    certificate = make_revoked_certificate()
    view = json.loads(json.dumps(certificate_to_json(certificate)))
    assert (view["id"], view["status"], view["signed_by"], view["sent_to"]) == (
        certificate.id, "REVOKED", "SE2321000016-P001", "FKASSA",
    )
    assert view["patient"]["person_id"] == {"kind": "1.2.752.129.2.1.3.3", "digits": "197010632391"}
    assert view["unit"]["care_giver"] == view["care_giver"]["hsa_id"] == "SE2321000016-0001"
    assert view["created_by"]["assignments"] == [{"unit": "SE2321000016-1003", "purpose": "Vård och behandling"}]
    assert view["content"] == content_to_json(CONTENT)


# --- The table covers the dataclasses ------------------------------------------------------------


def _leaf_paths(cls: type, prefix: str = "") -> Iterator[str]:
    hints = get_type_hints(cls)
    for f in fields(cls):
        if _is_leaf(hints[f.name]):
            yield prefix + f.name
        else:
            yield from _leaf_paths(hints[f.name], f"{prefix}{f.name}.")


def test_every_certificate_field_is_in_the_table() -> None:
    """Each leaf field of Certificate and of the values in it is held by exactly one table entry."""
    covered = [path for column in CERTIFICATE_COLUMNS for path in (column.path, *column.shares)]
    assert sorted(covered) == sorted(_leaf_paths(Certificate))


def test_a_table_that_misses_a_field_is_refused() -> None:
    """Building the mapping from a table without an entry for a field fails at once."""
    incomplete = [c for c in CERTIFICATE_COLUMNS if c.path != "patient.city"]
    with pytest.raises(TypeError, match="patient.city"):
        flatten.readers(Certificate, incomplete)


def test_a_table_that_names_an_unknown_attribute_is_refused() -> None:
    """An entry for an attribute the certificate does not have is an error, not ignored."""
    with pytest.raises(TypeError, match="patient.nickname"):
        flatten.readers(Certificate, [*CERTIFICATE_COLUMNS, flatten.Column("patient_nickname", "patient.nickname")])


@dataclass(frozen=True, slots=True)
class _Pair:
    first: str
    second: str | None = None


def test_readers_build_values_of_one_field_and_of_many() -> None:
    """The positional build works for any number of plain and converted fields."""
    table = [flatten.Column("a", "first"), flatten.Column("b", "second", flatten.Codec(from_flat=str.upper))]
    read = flatten.readers(_Pair, table)[""]
    assert read({"a": "x", "b": "y"}) == _Pair("x", "Y")
    write = flatten.writer(table)
    assert write(_Pair("x", None)) == {"a": "x", "b": None}


@dataclass(frozen=True, slots=True)
class _Outer:
    name: str
    pair: _Pair


_OUTER = [flatten.Column("name", "name"), flatten.Column("a", "pair.first"),
          flatten.Column("b", "pair.second", flatten.Codec(from_flat=str.upper))]


def test_certificates_read_alike_share_their_patient_unit_and_care_giver() -> None:
    """Two certificates of one patient at one unit hold the same patient, unit and care giver
    values (one object each), and a certificate of another patient its own, read right."""
    first = make_draft()
    columns = certificate_to_columns(first)
    second = certificate_from_columns({**columns, "certificate_id": "another"})
    again = certificate_from_columns(columns)
    assert again == first and second.id == "another"
    assert second.patient is again.patient and second.unit is again.unit and second.care_giver is again.care_giver
    other = certificate_from_columns({**columns, "patient_family_name": "Annan"})
    assert other.patient is not again.patient and other.patient.family_name == "Annan"
    assert other.unit is again.unit


def test_shared_values_are_built_anew_once_too_many_are_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most ``SHARED_VALUES`` are remembered: then they are forgotten and built again, still right."""
    monkeypatch.setattr(flatten, "SHARED_VALUES", 2)
    read = flatten.readers(_Outer, _OUTER, shared=("pair",))[""]
    x, y, z = ({"name": "n", "a": a, "b": "b"} for a in "xyz")
    first_x = read(x)
    assert read(x).pair is first_x.pair and read(y).pair.first == "y"
    assert read(z) == _Outer("n", _Pair("z", "B"))  # the third: the two before are forgotten
    assert read(x).pair is not first_x.pair and read(x).pair == first_x.pair


def test_only_dataclasses_of_plain_columns_can_be_shared() -> None:
    """A shared path must be a dataclass in the value, and none of its columns inside a JSON object."""
    with pytest.raises(TypeError, match="name"):
        flatten.readers(_Outer, _OUTER, shared=("name",))
    keyed = [flatten.Column("name", "name"), flatten.Column("doc", "pair.first", key="first"),
             flatten.Column("b", "pair.second")]
    with pytest.raises(TypeError, match="JSON object"):
        flatten.readers(_Outer, keyed, shared=("pair",))


# --- Content -------------------------------------------------------------------------------------


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
