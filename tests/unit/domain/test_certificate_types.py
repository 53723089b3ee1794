"""Tests for domain.certificate_types: the registry, its default data and load-time validation."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from domain.certificate_types import (
    CertificateTypeConfigError,
    from_mapping,
    load_default_registry,
)
from domain.values import KV_INTYGSTYP, KV_UTLATANDE_TYP, Role

CREATORS = frozenset({Role.LAKARE, Role.VARDADMINISTRATOR})


def _custom_mapping() -> dict[str, Any]:
    """A deployment's own file with one type nobody has heard of, as tomllib would parse it."""
    return {
        "code_systems": {
            "KV_INTYGSTYP": {"value": KV_INTYGSTYP, "case_sensitive_codes": True},
            "KV_UTLATANDE_TYP": {"value": KV_UTLATANDE_TYP, "case_sensitive_codes": False},
        },
        "certificate_types": {
            "XYZ123": {
                "accepts": [{"code": "XYZ123", "code_system": "KV_INTYGSTYP"}],
                "name": "Testintyg",
                "recipient": "HSVARD",
                "version": "2.1",
                "active": True,
                "allowed_roles": ["BARNMORSKA"],
                "allowed_for_protected": False,
                "allowed_for_deceased": True,
            }
        },
    }


def _with(change: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(_custom_mapping())
    data["certificate_types"]["XYZ123"].update(change)
    return data


@pytest.fixture(scope="module")
def registry_types() -> dict[str, Any]:
    return {certificate_type.code: certificate_type for certificate_type in load_default_registry()}


def test_default_registry_loads() -> None:
    """The packaged TOML passes its own validation."""
    assert len(load_default_registry()) > 0


def test_default_registry_has_every_type_from_the_contract(registry_types: dict[str, Any]) -> None:
    """Every code listed in contracts.md §2.5 is in the default registry."""
    expected = {
        "LISJP", "LUSE", "LUAE_NA", "LUAE_FS", "DB", "DOI", "AF00213", "AF00251", "AG1-14",
        "AG7804", "TSTRK1009", "TSTRK1062", "TSTRK1007", "TSTRK1031", "FK7263", "LU_OMV_MEK",
        "LUNSP", "IGRAV", "LU_TFP_ASB18", "LU_TFP_B12_16", "ITFP", "LUMEK", "LUAS", "TS8071",
    }  # fmt: skip
    assert expected <= set(registry_types)


def test_lookup_finds_type_by_code_and_code_system() -> None:
    """LISJP in KV_INTYGSTYP is found, with FKASSA as recipient."""
    certificate_type = load_default_registry().lookup("LISJP", KV_INTYGSTYP)
    assert certificate_type is not None
    assert certificate_type.recipient == "FKASSA"


def test_lookup_is_case_sensitive_on_the_code_in_kv_intygstyp() -> None:
    """Codes in KV_INTYGSTYP are compared exactly as on the wire: "lisjp" is not LISJP there."""
    assert load_default_registry().lookup("lisjp", KV_INTYGSTYP) is None


# The incumbent resolves these by code alone, and journal systems integrated years ago send them
# under the legacy KV_UTLATANDE_TYP, often in lower case (contracts.md §2.5, §3.3).
LEGACY_SENT = ["LUSE", "LISJP", "LUAE_NA", "LUAE_FS", "luse", "lisjp", "luae_na", "luae_fs", "Lisjp"]


@pytest.mark.parametrize("code", LEGACY_SENT)
def test_the_legacy_code_system_resolves_fk_types_in_any_case(code: str) -> None:
    """LUSE, LISJP, LUAE_NA and LUAE_FS in KV_UTLATANDE_TYP, any case, are the canonical types."""
    registry = load_default_registry()
    found = registry.lookup(f"  {code}\n", KV_UTLATANDE_TYP)
    assert found is not None
    assert found is registry.lookup(code.upper(), KV_INTYGSTYP)
    assert (found.code, found.code_system) == (code.upper(), KV_INTYGSTYP)


def test_code_system_values_compare_without_regard_to_case() -> None:
    """A UUID written in upper case by a journal system is still KV_INTYGSTYP."""
    assert load_default_registry().lookup("LISJP", KV_INTYGSTYP.upper()) is not None


def test_types_only_the_certificate_service_knows_are_not_accepted_under_the_legacy_system() -> None:
    """IGRAV was never served under KV_UTLATANDE_TYP; asking for it there names the pair that works."""
    registry = load_default_registry()
    assert registry.lookup("IGRAV", KV_UTLATANDE_TYP) is None
    assert [pair.describe() for pair in registry.accepted_for("igrav")] == [
        f"IGRAV (KV_INTYGSTYP, {KV_INTYGSTYP})"
    ]


def test_every_type_the_incumbent_served_under_both_code_systems_accepts_both(
    registry_types: dict[str, Any],
) -> None:
    """KvIntygstyp's types (contracts.md §2.5) take both code systems; the rest KV_INTYGSTYP only."""
    both = {code for code, t in registry_types.items()
            if {p.code_system.value for p in t.accepts} == {KV_INTYGSTYP, KV_UTLATANDE_TYP}}
    assert both == {
        "LISJP", "LUSE", "LUAE_NA", "LUAE_FS", "DB", "DOI", "AF00213", "AF00251", "AG1-14", "AG7804",
        "TSTRK1009", "TSTRK1062", "TSTRK1007", "TSTRK1031", "FK7263",
    }  # fmt: skip
    assert all(t.accepts for t in registry_types.values())


def test_the_canonical_pair_is_the_first_accepted(registry_types: dict[str, Any]) -> None:
    """KV_INTYGSTYP is canonical except for ts-bas and ts-diabetes, which KvIntygstyp names in the legacy system."""
    canonical = {code: t.code_system for code, t in registry_types.items()}
    assert {code for code, system in canonical.items() if system == KV_UTLATANDE_TYP} == {"TSTRK1007", "TSTRK1031"}
    assert all((t.code, t.code_system) == (t.accepts[0].code, t.accepts[0].code_system.value)
               for t in registry_types.values())


@pytest.mark.parametrize("code", ["TSTRK1007", "TSTRK1031"])
def test_ts_bas_and_ts_diabetes_accept_the_legacy_code_system(code: str) -> None:
    """TSTRK1007 and TSTRK1031 are found under KV_UTLATANDE_TYP as well as KV_INTYGSTYP."""
    registry = load_default_registry()
    legacy = registry.lookup(code, KV_UTLATANDE_TYP)
    assert legacy is not None
    assert legacy is registry.lookup(code, KV_INTYGSTYP)


@pytest.mark.parametrize("code", ["LUSE", "LUAE_NA", "LUAE_FS", "TSTRK1007", "TSTRK1031"])
def test_physician_types_allow_lakare_and_vardadministrator(
    registry_types: dict[str, Any], code: str
) -> None:
    """These types may be created by läkare and vårdadministratör only."""
    assert registry_types[code].allowed_roles == CREATORS


def test_lisjp_also_allows_tandlakare(registry_types: dict[str, Any]) -> None:
    """Dentists may create LISJP (FK7804)."""
    assert registry_types["LISJP"].allowed_roles == CREATORS | {Role.TANDLAKARE}


def test_itfp_also_allows_sjukskoterska(registry_types: dict[str, Any]) -> None:
    """Nurses may create ITFP (FK7472), as may those who may create LISJP."""
    assert registry_types["ITFP"].allowed_roles == CREATORS | {Role.TANDLAKARE, Role.SJUKSKOTERSKA}


def test_igrav_also_allows_sjukskoterska_and_barnmorska(registry_types: dict[str, Any]) -> None:
    """Nurses and midwives may create IGRAV (FK7210): every role may."""
    assert registry_types["IGRAV"].allowed_roles == frozenset(Role)


def test_only_doi_is_allowed_for_deceased(registry_types: dict[str, Any]) -> None:
    """Only the cause-of-death certificate may be created for a deceased patient."""
    allowed = {code for code, t in registry_types.items() if t.allowed_for_deceased}
    assert allowed == {"DOI"}


def test_ts_and_death_types_are_not_allowed_for_protected(registry_types: dict[str, Any]) -> None:
    """All types but Transportstyrelsen's and DB/DOI may be created for protected patients."""
    refused = {code for code, t in registry_types.items() if not t.allowed_for_protected}
    assert refused == {
        "DB", "DOI", "TSTRK1007", "TSTRK1031", "TSTRK1009", "TSTRK1062", "TS8071"
    }  # fmt: skip


def test_fk7263_is_inactive(registry_types: dict[str, Any]) -> None:
    """The old FK7263 is known but no longer issued."""
    assert registry_types["FK7263"].active is False


def test_custom_mapping_adds_a_type_without_code() -> None:
    """A deployment's file with a new type makes that type known, with all its fields."""
    certificate_type = from_mapping(_custom_mapping()).lookup("XYZ123", KV_INTYGSTYP)
    assert certificate_type is not None
    assert certificate_type.name == "Testintyg"
    assert certificate_type.recipient == "HSVARD"
    assert certificate_type.version == "2.1"
    assert certificate_type.allowed_roles == frozenset({Role.BARNMORSKA})
    assert certificate_type.allowed_for_deceased is True
    assert certificate_type.allowed_for_protected is False


def test_custom_mapping_replaces_the_defaults() -> None:
    """A deployment's file is the whole registry: default types are not mixed in."""
    assert from_mapping(_custom_mapping()).lookup("LISJP", KV_INTYGSTYP) is None


def test_unknown_role_is_an_error_naming_the_type() -> None:
    """A role that is not a Role value is refused, and the error names the type and the role."""
    with pytest.raises(CertificateTypeConfigError) as caught:
        from_mapping(_with({"allowed_roles": ["LAKARE", "DOCTOR"]}))
    assert caught.value.type_code == "XYZ123"
    assert "XYZ123" in str(caught.value) and "DOCTOR" in str(caught.value)


def test_empty_accepts_is_an_error_naming_the_type() -> None:
    """A type must be reachable through at least one pair."""
    with pytest.raises(CertificateTypeConfigError) as caught:
        from_mapping(_with({"accepts": []}))
    assert caught.value.type_code == "XYZ123"
    assert "accepts" in str(caught.value)


def test_undeclared_code_system_is_an_error() -> None:
    """A code system name must be declared in [code_systems]."""
    with pytest.raises(CertificateTypeConfigError) as caught:
        from_mapping(_with({"accepts": [{"code": "XYZ123", "code_system": "KV_NOPE"}]}))
    assert caught.value.type_code == "XYZ123" and "KV_NOPE" in str(caught.value)


def test_the_first_pair_must_carry_the_types_own_code() -> None:
    """The table key is the canonical code: a first pair with another code is refused."""
    with pytest.raises(CertificateTypeConfigError, match="canonical"):
        from_mapping(_with({"accepts": [{"code": "OTHER", "code_system": "KV_INTYGSTYP"}]}))


def test_a_pair_with_a_misspelt_key_is_refused() -> None:
    """Each pair is a table with exactly code and code_system."""
    with pytest.raises(CertificateTypeConfigError, match="codesystem"):
        from_mapping(_with({"accepts": [{"code": "XYZ123", "codesystem": "KV_INTYGSTYP"}]}))


def test_two_types_claiming_one_pair_are_refused() -> None:
    """Case-folded under a case-insensitive code system, ABC and abc are one pair: two types may not share it."""
    data = _custom_mapping()
    data["certificate_types"]["abc"] = {**data["certificate_types"]["XYZ123"],
                                        "accepts": [{"code": "abc", "code_system": "KV_UTLATANDE_TYP"}]}
    data["certificate_types"]["XYZ123"]["accepts"].append({"code": "ABC", "code_system": "KV_UTLATANDE_TYP"})
    with pytest.raises(CertificateTypeConfigError, match="accepts too"):
        from_mapping(data)


def test_the_old_code_systems_list_is_refused_with_the_way_to_the_new_shape() -> None:
    """A file written for the earlier format fails loudly, saying what replaced code_systems."""
    data = _with({"code_systems": ["KV_INTYGSTYP"]})
    del data["certificate_types"]["XYZ123"]["accepts"]
    with pytest.raises(CertificateTypeConfigError, match="replaced by accepts"):
        from_mapping(data)
    with pytest.raises(CertificateTypeConfigError, match="must be a table"):
        from_mapping({**_custom_mapping(), "code_systems": {"KV_INTYGSTYP": KV_INTYGSTYP}})


def test_empty_roles_is_an_error() -> None:
    """A type nobody may create is a configuration mistake (set active = false instead)."""
    with pytest.raises(CertificateTypeConfigError):
        from_mapping(_with({"allowed_roles": []}))


def test_misspelt_key_is_an_error() -> None:
    """An unknown key (a typo) is refused rather than ignored."""
    with pytest.raises(CertificateTypeConfigError) as caught:
        from_mapping(_with({"allowed_for_protectd": True}))
    assert "allowed_for_protectd" in str(caught.value)


def test_missing_key_is_an_error() -> None:
    """Every key is required: there are no silent defaults."""
    data = _custom_mapping()
    del data["certificate_types"]["XYZ123"]["allowed_for_deceased"]
    with pytest.raises(CertificateTypeConfigError) as caught:
        from_mapping(data)
    assert "allowed_for_deceased" in str(caught.value)


def test_version_written_as_a_number_is_an_error() -> None:
    """version = 1.0 in TOML is a float; the text version must be a string such as "1.0"."""
    with pytest.raises(CertificateTypeConfigError):
        from_mapping(_with({"version": 1.0}))


def test_flag_written_as_a_string_is_an_error() -> None:
    """active = "false" is a non-empty string, which would read as true; it is refused."""
    with pytest.raises(CertificateTypeConfigError):
        from_mapping(_with({"active": "false"}))


def test_missing_certificate_types_table_is_an_error() -> None:
    """A file with no types at all is refused."""
    with pytest.raises(CertificateTypeConfigError):
        from_mapping({"code_systems": _custom_mapping()["code_systems"]})


def test_unknown_top_level_key_is_an_error() -> None:
    """A misspelt table name such as [certificate_type] is refused."""
    data = _custom_mapping()
    data["certificate_type"] = data.pop("certificate_types")
    with pytest.raises(CertificateTypeConfigError):
        from_mapping(data)


def test_nurses_may_sign_is_optional_and_false_by_default() -> None:
    """Left out it is false; given it is read; a non-boolean is refused."""
    registry = from_mapping(_custom_mapping())
    assert next(iter(registry)).nurses_may_sign is False
    assert next(iter(from_mapping(_with({"nurses_may_sign": True})))).nurses_may_sign is True
    with pytest.raises(CertificateTypeConfigError):
        from_mapping(_with({"nurses_may_sign": "yes"}))


def test_only_nurse_written_types_may_be_signed_by_nurses(registry_types: dict[str, Any]) -> None:
    """The built-in registry lets nurses sign IGRAV and ITFP only."""
    assert {code for code, t in registry_types.items() if t.nurses_may_sign} == {"IGRAV", "ITFP"}


def test_the_documented_table_of_accepted_pairs_matches_the_registry() -> None:
    """docs/certificate-types.md lists every built-in type with its canonical and other accepted pairs."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "certificate-types.md").read_text(encoding="utf-8")
    rows = {}
    for line in doc.splitlines():
        match = re.fullmatch(r"\| `([^`]+)` \| (.+?) \| (.+?) \|", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))

    def pairs(accepts: Any) -> str:
        return ", ".join(f"`{p.code}` in {p.code_system.name}" for p in accepts) or "–"

    assert rows == {t.code: (pairs(t.accepts[:1]), pairs(t.accepts[1:])) for t in load_default_registry()}


def test_related_certificate_keys_default_to_the_strict_answer() -> None:
    """Left out: not renewable, nothing dropped, nothing required, no completion with a comment."""
    xyz = next(iter(from_mapping(_custom_mapping())))
    assert (xyz.renewable, xyz.renewal_drops, xyz.required_answers, xyz.other_information_answer) == (
        False, frozenset(), (), None)


def test_related_certificate_keys_are_read() -> None:
    xyz = next(iter(from_mapping(_with({"renewable": True, "renewal_drops": ["1", "32"],
                                        "required_answers": ["6", "32"], "other_information_answer": "25"}))))
    assert (xyz.renewable, xyz.renewal_drops, xyz.required_answers, xyz.other_information_answer) == (
        True, frozenset({"1", "32"}), ("6", "32"), "25")


@pytest.mark.parametrize(("change", "message"), [
    ({"renewal_drops": "1"}, "renewal_drops must be a list"),
    ({"renewal_drops": [1]}, "an answer id is digits"),
    ({"required_answers": ["32.1"]}, "an answer id is digits"),
    ({"required_answers": ["6", "6"]}, "twice"),
    ({"other_information_answer": 25}, "an answer id is digits"),
    ({"renewable": "yes"}, "renewable must be true or false"),
    ({"renewal_dropped": ["1"]}, "unknown keys"),
])
def test_related_certificate_keys_are_checked(change: dict[str, Any], message: str) -> None:
    with pytest.raises(CertificateTypeConfigError, match=message):
        from_mapping(_with(change))


def test_only_lisjp_is_renewed_and_drops_what_must_be_made_anew(registry_types: dict[str, Any]) -> None:
    assert {code for code, t in registry_types.items() if t.renewable} == {"LISJP"}
    assert registry_types["LISJP"].renewal_drops == {"1", "26", "32"}
    assert {code for code, t in registry_types.items() if t.other_information_answer == "25"} == {
        "LISJP", "LUSE", "LUAE_NA", "LUAE_FS"}
