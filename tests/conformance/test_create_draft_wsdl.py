"""Our CreateDraftCertificate 3.3 WSDL describes the same service as the official one.

The comparison is structural (names, QNames, binding details), not textual. A SOAP client (zeep)
reading our WSDL must also produce requests that our schemas accept, so the WSDL and its relative
imports work together the way a journal system will use them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import zeep
from lxml import etree

from tests import messages as m
from tests.conformance import create_draft_corpus
from tests.conformance.schemas import OUR_XSD, message_errors, official_root, wsdl_outline

INTERACTION = "clinicalprocess-healthcond-certificate/interactions/CreateDraftCertificateInteraction"
WSDL_NAME = "CreateDraftCertificateInteraction_3.3_RIVTABP21.wsdl"
OUR_WSDL = OUR_XSD / INTERACTION / WSDL_NAME

TNS = "urn:riv:clinicalprocess:healthcond:certificate:CreateDraftCertificate:3:rivtabp21"
SOAP_ACTION = f"{m.CDC_NS}:CreateDraftCertificate"


def _official_wsdl() -> Path:
    interaction = INTERACTION.replace(
        "clinicalprocess-healthcond-certificate/", "clinicalprocess-healthcond-certificate/schemas/"
    )
    return official_root() / interaction / WSDL_NAME


def test_wsdl_follows_the_rivta_naming_rules() -> None:
    """Names, soapAction, the LogicalAddress header and the placeholder address follow RIVTA BP 2.1."""
    outline = wsdl_outline(OUR_WSDL)
    assert outline["name"] == "CreateDraftCertificateInteraction"
    assert outline["targetNamespace"] == TNS
    assert outline["messages"] == {
        "CreateDraftCertificateRequest": [
            ("LogicalAddress", f"{{{m.ITR_NS}}}LogicalAddress", None),
            ("parameters", f"{{{m.CDC_NS}}}CreateDraftCertificate", None),
        ],
        "CreateDraftCertificateResponse": [
            ("parameters", f"{{{m.CDC_NS}}}CreateDraftCertificateResponse", None)
        ],
    }
    binding = outline["bindings"]["CreateDraftCertificateResponderBinding"]  # type: ignore[index]
    operation = binding["operations"]["CreateDraftCertificate"]
    assert binding["soap"] == {"style": "document", "transport": "http://schemas.xmlsoap.org/soap/http"}
    assert operation["soap"] == {"soapAction": SOAP_ACTION, "style": "document"}
    assert operation["input"]["headers"] == [
        (f"{{{TNS}}}CreateDraftCertificateRequest", "LogicalAddress", "literal")
    ]
    assert operation["input"]["body"] == {"use": "literal", "parts": "parameters"}
    assert outline["services"] == {
        "CreateDraftCertificateResponderService": {
            "CreateDraftCertificateResponderPort": (
                f"{{{TNS}}}CreateDraftCertificateResponderBinding",
                {"location": "http://tempuri.org"},
            )
        }
    }


@pytest.mark.conformance
def test_wsdl_outline_matches_official() -> None:
    """Messages, parts, port type, binding (style, use, soapAction, header) and service are the same."""
    assert wsdl_outline(OUR_WSDL) == wsdl_outline(_official_wsdl())


def test_zeep_builds_requests_our_schemas_accept() -> None:
    """A client generated from our WSDL (resolving its relative imports) sends a valid request."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = zeep.Client(str(OUR_WSDL))  # type: ignore[no-untyped-call]
    binding = client.wsdl.bindings[f"{{{TNS}}}CreateDraftCertificateResponderBinding"]
    operation = binding.get("CreateDraftCertificate")  # type: ignore[no-untyped-call]
    assert operation.soapaction == SOAP_ACTION
    envelope = client.create_message(  # type: ignore[no-untyped-call]
        client.service,
        "CreateDraftCertificate",
        intyg={
            "typAvIntyg": {"code": "LISJP", "codeSystem": m.KV_INTYGSTYP},
            "patient": {
                "person-id": {"root": m.PERSONNUMMER_ROOT, "extension": m.DEFAULT_PERSON_ID},
                "fornamn": "Tolvan",
                "efternamn": "Tolvansson",
                "postadress": "Storgatan 1",
                "postnummer": "12345",
                "postort": "Småmåla",
            },
            "skapadAv": {
                "personal-id": {"root": m.HSA_ID_ROOT, "extension": m.DEFAULT_USER_HSA_ID},
                "fullstandigtNamn": "Ajla Doktor",
                "enhet": {
                    "enhets-id": {"root": m.HSA_ID_ROOT, "extension": m.DEFAULT_UNIT_HSA_ID},
                    "enhetsnamn": "Alfa",
                },
            },
            "ref": "journal-ref",
        },
        _soapheaders={"LogicalAddress": m.DEFAULT_LOGICAL_ADDRESS},
    )
    message = etree.tostring(envelope)
    assert message_errors(create_draft_corpus.SCHEMA.ours().schema, message) == []
