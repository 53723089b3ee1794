"""Our certificate-domain schemas in xsd/ accept exactly what the official ones accept.

One corpus per contract (``CORPORA``): CreateDraftCertificate 3.3, the core types, SendMessageToCare
2.0 and the others as they arrive; the whole-folder checks below cover every file.

Two kinds of evidence. The corpus: every message gets the verdict of its label from xsd/ (always
run) and the same verdict from the official files (with ``RIVTA_OFFICIAL_SCHEMAS``). The
declarations: per namespace, our files declare the same components as the official ones once
comments, prefixes and defaults are normalised away. Both leave out XML Signature, which we
deliberately stand in for with a lax schema (see xsd/README.md); the known differences that
follow from it are tested to stay exactly those.
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType

import pytest
from lxml import etree

from tests import envelopes as m
from tests.conformance import (
    core_corpus,
    create_draft_corpus,
    create_draft_invalid,
    list_certificates_corpus,
    register_certificate_corpus,
    revoke_certificate_corpus,
    send_certificate_corpus,
    send_message_corpus,
    send_message_to_recipient_corpus,
    status_update_corpus,
)
from tests.conformance.corpus import Case
from tests.conformance.schemas import (
    OUR_XSD,
    RootSchema,
    files_under,
    message_errors,
    official_root,
    schema_declarations,
    schema_locations,
)

#: Corpus modules by a short key; each has SCHEMA and CORPUS, and may have KNOWN_DIFFERENCES.
CORPORA: dict[str, ModuleType] = {
    "create_draft": create_draft_corpus,
    "create_draft_invalid": create_draft_invalid,
    "core": core_corpus,
    "send_message": send_message_corpus,
    "status_update": status_update_corpus,
    "register_certificate": register_certificate_corpus,
    "send_certificate": send_certificate_corpus,
    "revoke_certificate": revoke_certificate_corpus,
    "send_message_to_recipient": send_message_to_recipient_corpus,
    "list_certificates": list_certificates_corpus,
}
DOMAIN = "clinicalprocess-healthcond-certificate"
FILTER2_NS = "http://www.w3.org/2002/06/xmldsig-filter2"


def _params(attribute: str) -> list[object]:
    return [
        pytest.param(key, case, id=f"{key}:{case.name}")
        for key, module in CORPORA.items()
        if hasattr(module, attribute)
        for case in getattr(module, attribute).cases()
    ]


@functools.cache
def _our_schema(key: str) -> etree.XMLSchema:
    schema: RootSchema = CORPORA[key].SCHEMA
    return schema.ours().schema


@functools.cache
def _official_schema(key: str, root: Path) -> etree.XMLSchema:
    schema: RootSchema = CORPORA[key].SCHEMA
    return schema.compile(root / DOMAIN / "schemas").schema


def _verdict(errors: list[str]) -> str:
    return "valid" if not errors else "invalid: " + "; ".join(errors)


@pytest.mark.parametrize(("key", "case"), _params("CORPUS"))
def test_corpus_label_holds_for_our_schemas(key: str, case: Case) -> None:
    """Each message labelled valid passes xsd/ and each labelled invalid fails, so no label is wrong."""
    errors = message_errors(_our_schema(key), case.message)
    if case.valid:
        assert errors == [], f"{case.name} should be valid ({case.why})"
    else:
        assert errors, f"{case.name} should be invalid ({case.why})"


@pytest.mark.conformance
@pytest.mark.parametrize(("key", "case"), _params("CORPUS"))
def test_official_schemas_give_the_same_verdict(key: str, case: Case) -> None:
    """The official schemas judge each corpus message as its label (and so as xsd/) does."""
    official = message_errors(_official_schema(key, official_root()), case.message)
    assert (not official) == case.valid, f"{case.name} ({case.why}): official says {_verdict(official)}"


@pytest.mark.conformance
@pytest.mark.parametrize(("key", "case"), _params("KNOWN_DIFFERENCES"))
def test_known_difference_is_still_a_difference(key: str, case: Case) -> None:
    """Each documented difference is real: xsd/ accepts and the official schemas refuse.

    If one starts to agree, the difference is gone: drop it from the list and from xsd/README.md.
    """
    assert message_errors(_our_schema(key), case.message) == [], case.why
    assert message_errors(_official_schema(key, official_root()), case.message), case.why


def test_corpus_is_broad_and_names_are_unique() -> None:
    """The corpus has 40+ cases with both verdicts, so equivalence rests on more than a sample."""
    cases = [(key, case) for key, module in CORPORA.items() for case in module.CORPUS.cases()]
    assert len(cases) >= 40
    assert sum(case.valid for _, case in cases) >= 15
    assert sum(not case.valid for _, case in cases) >= 25
    assert len({(key, case.name) for key, case in cases}) == len(cases)  # test ids are key:name


def test_builder_defaults_are_a_valid_lisjp_request() -> None:
    """tests.envelopes' default request passes xsd/ and describes the demo's LISJP draft."""
    envelope = m.create_draft_envelope()
    assert message_errors(_our_schema("create_draft"), envelope) == []
    body = etree.fromstring(envelope).find(f"{{{m.SOAP_ENV_NS}}}Body/{{{m.CDC_NS}}}CreateDraftCertificate")
    assert body is not None
    values = {
        etree.QName(el).localname: el.text for el in body.iter() if isinstance(el.tag, str) and len(el) == 0
    }
    assert values["code"] == "LISJP"
    assert values["codeSystem"] == m.KV_INTYGSTYP
    assert [el.text for el in body.iter(f"{{{m.TYPES_NS}}}extension")] == [
        "191212121212",
        "SE2321000016-P001",
        "SE2321000016-1000",
    ]


def test_our_schemas_load_every_file_from_xsd_only() -> None:
    """Compiling xsd/ reads each of our schema files and nothing outside xsd/ (no network)."""
    loaded = {path for module in CORPORA.values() for path in module.SCHEMA.ours().loaded}
    expected = {path.resolve() for path in files_under(OUR_XSD / DOMAIN, (".xsd",))}
    assert loaded == expected


def test_schema_locations_are_relative_and_exist() -> None:
    """Every import in xsd/ is a relative path to an existing file, as ``?xsd=`` serving needs."""
    for path in files_under(OUR_XSD):
        for location in schema_locations(etree.parse(str(path)).getroot()):
            assert "://" not in location and not location.startswith("/"), f"{path.name}: {location}"
            target = (path.parent / location).resolve()
            assert target.is_file(), f"{path.name}: {location} does not exist"
            assert target.is_relative_to(OUR_XSD.resolve()), f"{path.name}: {location} leaves xsd/"


def test_every_schema_is_qualified() -> None:
    """elementFormDefault is qualified everywhere, as the whole wire format assumes."""
    for path in files_under(OUR_XSD, (".xsd",)):
        assert etree.parse(str(path)).getroot().get("elementFormDefault") == "qualified", path.name


@pytest.mark.conformance
def test_official_schemas_load_from_local_files_only() -> None:
    """The official core reaches XML Signature by a relative path: no catalog, no network needed."""
    root = official_root() / DOMAIN / "schemas"
    compiled = create_draft_corpus.SCHEMA.compile(root)  # the resolver refuses anything not local
    names = {path.name for path in compiled.loaded}
    assert {"xmldsig-core-schema_0.1.xsd", "xmldsig-filter2.xsd"} <= names
    assert all(path.is_relative_to(root.resolve()) for path in compiled.loaded)


@pytest.mark.conformance
def test_declarations_match_official_per_namespace() -> None:
    """Per namespace, xsd/ declares the same components, occurrences, facets and wildcards.

    XML Signature is left out (our stand-in is lax by design), and so is the import of the XPath
    filter schema that the official types file adds for it.
    """
    ours = schema_declarations(files_under(OUR_XSD / DOMAIN, (".xsd",)))
    official = schema_declarations(files_under(official_root() / DOMAIN / "schemas", (".xsd",)))
    ours.pop(m.DS_NS)
    for declared in official.values():  # we import no XPath filter schema, by design
        if isinstance(imports := declared.get("imports"), set):
            imports.discard(FILTER2_NS)
    differences = [
        f"{namespace}: {key}"
        for namespace, declared in ours.items()
        for key in sorted(set(declared) | set(official.get(namespace, {})))
        if declared.get(key) != official.get(namespace, {}).get(key)
    ]
    assert differences == []


@pytest.mark.conformance
def test_no_official_file_is_copied() -> None:
    """xsd/ holds our own files: none matches an official file, even ignoring whitespace."""

    def normalised(path: Path) -> str:
        return "".join(path.read_text(encoding="utf-8").split())

    official = {normalised(path) for path in files_under(official_root())}
    copied = [path.name for path in files_under(OUR_XSD) if normalised(path) in official]
    assert copied == []
