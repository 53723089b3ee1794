"""Our StoreLog 2.0 schemas and WSDL in xsd/ accept exactly what the official ones accept.

The corpus (``store_log_corpus``) gets the verdict of its label from xsd/ and, with
``RIVTA_OFFICIAL_SCHEMAS``, the same verdict from the official files; per namespace, the files
declare the same components; the WSDLs describe the same service; and a zeep client generated from
our WSDL sends requests our schemas accept.
"""

from __future__ import annotations

import functools
import warnings

import pytest
import zeep
from lxml import etree

from tests import envelopes as m
from tests.conformance import store_log_corpus
from tests.conformance.corpus import Case
from tests.conformance.schemas import (
    OUR_XSD,
    declaration_differences,
    files_under,
    message_errors,
    official_root,
    wsdl_outline,
)

DOMAIN = store_log_corpus.SCHEMA.domain
INTERACTION = "interactions/StoreLogInteraction/StoreLogInteraction_2.0_RIVTABP21.wsdl"
OUR_WSDL = OUR_XSD / DOMAIN / INTERACTION
TNS = "urn:riv:informationsecurity:auditing:log:StoreLog:2:rivtabp21"
CASES = [pytest.param(case, id=case.name) for case in store_log_corpus.CORPUS.cases()]


@functools.cache
def _ours() -> etree.XMLSchema:
    return store_log_corpus.SCHEMA.ours().schema


@pytest.mark.parametrize("case", CASES)
def test_corpus_label_holds_for_our_schemas(case: Case) -> None:
    """Each message labelled valid passes xsd/ and each labelled invalid fails."""
    errors = message_errors(_ours(), case.message)
    assert (not errors) == case.valid, f"{case.name} ({case.why}): {errors}"


@pytest.mark.conformance
@pytest.mark.parametrize("case", CASES)
def test_official_schemas_give_the_same_verdict(case: Case) -> None:
    """The official schemas judge each corpus message as its label (and so as xsd/) does."""
    official = message_errors(store_log_corpus.SCHEMA.official().schema, case.message)
    assert (not official) == case.valid, f"{case.name} ({case.why}): official says {official}"


def test_corpus_has_both_verdicts() -> None:
    """Equivalence rests on a spread of cases, not a sample of one kind."""
    cases = store_log_corpus.CORPUS.cases()
    assert sum(case.valid for case in cases) >= 10
    assert sum(not case.valid for case in cases) >= 20


def test_our_schemas_load_every_file_of_the_domain() -> None:
    """Compiling the contract reads each of the domain's schema files and nothing else."""
    loaded = set(store_log_corpus.SCHEMA.ours().loaded)
    assert loaded == {path.resolve() for path in files_under(OUR_XSD / DOMAIN, (".xsd",))}


@pytest.mark.conformance
def test_declarations_match_official_per_namespace() -> None:
    """Per namespace, xsd/ declares the same components, occurrences, facets and wildcards."""
    ours = files_under(OUR_XSD / DOMAIN, (".xsd",))
    official = files_under(official_root() / DOMAIN / "schemas", (".xsd",))
    assert declaration_differences(ours, official) == []


@pytest.mark.conformance
def test_wsdl_outline_matches_official() -> None:
    """Messages, parts, port type, binding (style, use, soapAction, header) and service are the same."""
    official = official_root() / DOMAIN / "schemas" / INTERACTION
    assert wsdl_outline(OUR_WSDL) == wsdl_outline(official)


def test_wsdl_follows_the_rivta_naming_rules() -> None:
    """Target namespace, soapAction and the LogicalAddress header follow RIVTA BP 2.1."""
    outline = wsdl_outline(OUR_WSDL)
    assert outline["targetNamespace"] == TNS
    operation = outline["bindings"]["StoreLogResponderBinding"]["operations"]["StoreLog"]  # type: ignore[index]
    assert operation["soap"] == {"soapAction": f"{m.SLR_NS}:StoreLog", "style": "document"}
    assert operation["input"]["headers"] == [(f"{{{TNS}}}StoreLogRequest", "LogicalAddress", "literal")]


def test_zeep_builds_requests_our_schemas_accept() -> None:
    """A client generated from our WSDL (resolving its relative imports) sends a valid request."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = zeep.Client(str(OUR_WSDL))  # type: ignore[no-untyped-call]
    envelope = client.create_message(  # type: ignore[no-untyped-call]
        client.service,
        "StoreLog",
        log=[
            {
                "logId": "5b0c3a52-1111-4a5e-9bd1-0c0a7e1f0001",
                "system": {"systemId": "SE2321000016-JOURNAL"},
                "activity": {
                    "activityType": "Läsa", "startDate": "2026-11-20T08:15:00", "purpose": "Vård och behandling"
                },
                "user": {
                    "userId": "SE2321000016-P001",
                    "careProvider": {"careProviderId": "SE2321000016-0001"},
                    "careUnit": {"careUnitId": "SE2321000016-1000"},
                },
                "resources": {
                    "resource": [{"resourceType": "Intyg", "careProvider": {"careProviderId": "SE2321000016-0001"}}]
                },
            }
        ],
        _soapheaders={"LogicalAddress": "SE165565594230-1000"},
    )
    assert message_errors(_ours(), etree.tostring(envelope)) == []
