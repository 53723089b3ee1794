"""Our WSDLs describe the same services as the official ones, and zeep can use them.

The comparison is structural (names, QNames, binding details), not textual. A SOAP client (zeep)
reading our WSDL must also produce requests that our schemas accept, so the WSDL and its relative
imports work together the way a journal system (or Försäkringskassan) will use them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree

from contracts.certificate_status_update.v3.request import SOAP_ACTION
from contracts.register_certificate.v3.request import SOAP_ACTION as REGISTER_ACTION
from contracts.revoke_certificate.v2.request import SOAP_ACTION as REVOKE_ACTION
from contracts.send_certificate_to_recipient.v2.request import SOAP_ACTION as SEND_ACTION
from contracts.send_message_to_recipient.v2.request import SOAP_ACTION as MESSAGE_ACTION
from tests import envelopes as m
from tests import send_message_to_care as smtc
from tests.conformance import (
    create_draft_corpus,
    list_certificates_corpus,
    register_certificate_corpus,
    revoke_certificate_corpus,
    send_certificate_corpus,
    send_message_corpus,
    send_message_to_recipient_corpus,
    status_update_corpus,
)
from tests.conformance.schemas import (
    OUR_XSD,
    RootSchema,
    message_errors,
    official_root,
    wsdl_outline,
)

DOMAIN = "clinicalprocess-healthcond-certificate"


@dataclass(frozen=True)
class Contract:
    """One interaction: its operation, versions, responder namespace and a sample zeep call."""

    operation: str
    major: int
    schema_version: str
    responder_ns: str
    schema: RootSchema
    zeep_arguments: Callable[[], dict[str, Any]]
    wsdl_version: str | None = None  # when the WSDL's version differs from the schema's (3.0 for schema 3.1)

    @property
    def folder(self) -> str:
        return f"interactions/{self.operation}Interaction"

    @property
    def wsdl_name(self) -> str:
        return f"{self.operation}Interaction_{self.wsdl_version or self.schema_version}_RIVTABP21.wsdl"

    @property
    def ours(self) -> Path:
        return OUR_XSD / DOMAIN / self.folder / self.wsdl_name

    def official(self) -> Path:
        return official_root() / DOMAIN / "schemas" / self.folder / self.wsdl_name

    @property
    def tns(self) -> str:
        return f"urn:riv:clinicalprocess:healthcond:certificate:{self.operation}:{self.major}:rivtabp21"


def _create_draft_arguments() -> dict[str, Any]:
    return {
        "intyg": {
            "typAvIntyg": {"code": "LISJP", "codeSystem": m.KV_INTYGSTYP},
            "patient": {
                "person-id": {
                    "root": m.PERSONNUMMER_ROOT,
                    "extension": m.DEFAULT_PERSON_ID,
                },
                "fornamn": "Tolvan",
                "efternamn": "Tolvansson",
                "postadress": "Storgatan 1",
                "postnummer": "12345",
                "postort": "Småmåla",
            },
            "skapadAv": {
                "personal-id": {
                    "root": m.HSA_ID_ROOT,
                    "extension": m.DEFAULT_USER_HSA_ID,
                },
                "fullstandigtNamn": "Ajla Doktor",
                "enhet": {
                    "enhets-id": {
                        "root": m.HSA_ID_ROOT,
                        "extension": m.DEFAULT_UNIT_HSA_ID,
                    },
                    "enhetsnamn": "Alfa",
                },
            },
            "ref": "journal-ref",
        }
    }


def _hos_personal() -> dict[str, Any]:
    hsa = {"root": m.HSA_ID_ROOT}
    return {
        "personal-id": hsa | {"extension": m.DEFAULT_USER_HSA_ID},
        "fullstandigtNamn": "Ajla Doktor",
        "enhet": {
            "enhets-id": hsa | {"extension": m.DEFAULT_UNIT_HSA_ID},
            "arbetsplatskod": {"root": "1.2.752.29.4.71", "extension": "1234567890"},
            "enhetsnamn": "Alfa", "postadress": "Storgatan 1", "postnummer": "12345", "postort": "Småmåla",
            "telefonnummer": "0101234567",
            "vardgivare": {"vardgivare-id": hsa | {"extension": "SE2321000016-0001"}, "vardgivarnamn": "Alfa"},
        },
    }


_CERTIFICATE_ID = {"root": m.DEFAULT_UNIT_HSA_ID, "extension": "9f02dd2f-f57c-4a73-8190-2fe602cd6e27"}
_PATIENT_ID = {"root": m.PERSONNUMMER_ROOT, "extension": m.DEFAULT_PERSON_ID}


def _register_arguments() -> dict[str, Any]:
    intyg = status_update_corpus.zeep_arguments()["intyg"]
    return {"svarPa": {"meddelande-id": "fk-question-1"}, "intyg": intyg}


def _send_certificate_arguments() -> dict[str, Any]:
    return {"skickatTidpunkt": "2026-11-21T10:15:30", "intygs-id": _CERTIFICATE_ID, "patientPerson-id": _PATIENT_ID,
            "mottagare": {"code": "FKASSA", "codeSystem": "769bb12b-bd9f-4203-a5cd-fd14f2eb3b80"},
            "skickatAv": {"hosPersonal": _hos_personal()}}


def _revoke_arguments() -> dict[str, Any]:
    return {"meddelande": "Fel patient", "skickatTidpunkt": "2026-11-21T10:15:30", "intygs-id": _CERTIFICATE_ID,
            "patientPerson-id": _PATIENT_ID, "skickatAv": _hos_personal()}


def _message_arguments() -> dict[str, Any]:
    return {"meddelande-id": "care-1", "skickatTidpunkt": "2026-11-21T10:15:30", "intygs-id": _CERTIFICATE_ID,
            "patientPerson-id": _PATIENT_ID, "logiskAdressMottagare": "2021005521",
            "amne": {"code": "KONTKT", "codeSystem": "ffa59d8f-8d7e-46ae-ac9e-31804e8e8499"},
            "meddelande": "Ring oss", "skickatAv": _hos_personal(), "sistaDatumForSvar": "2026-12-01"}


def _list_arguments() -> dict[str, Any]:
    return {"person-id": _PATIENT_ID, "enhets-id": [{"root": m.HSA_ID_ROOT, "extension": m.DEFAULT_UNIT_HSA_ID}],
            "fromTidpunkt": "2026-11-01T00:00:00"}


CONTRACTS = [
    Contract(
        "CreateDraftCertificate",
        3,
        "3.3",
        m.CDC_NS,
        create_draft_corpus.SCHEMA,
        _create_draft_arguments,
    ),
    Contract(
        "SendMessageToCare",
        2,
        "2.0",
        m.SMTC_NS,
        send_message_corpus.SCHEMA,
        smtc.zeep_arguments,
    ),
    Contract(
        "CertificateStatusUpdateForCare",
        3,
        "3.2",
        m.CSU_NS,
        status_update_corpus.SCHEMA,
        status_update_corpus.zeep_arguments,
    ),
    Contract("RegisterCertificate", 3, "3.1", m.REG_NS, register_certificate_corpus.SCHEMA, _register_arguments,
             wsdl_version="3.0"),
    Contract("SendCertificateToRecipient", 2, "2.1", m.SCR_NS, send_certificate_corpus.SCHEMA,
             _send_certificate_arguments, wsdl_version="2.0"),
    Contract("RevokeCertificate", 2, "2.1", m.RC_NS, revoke_certificate_corpus.SCHEMA, _revoke_arguments,
             wsdl_version="2.0"),
    Contract("SendMessageToRecipient", 2, "2.1", m.SMTR_NS, send_message_to_recipient_corpus.SCHEMA,
             _message_arguments, wsdl_version="2.0"),
    Contract("ListCertificatesForCareWithQA", 3, "3.3", m.LCQ_NS, list_certificates_corpus.SCHEMA,
             _list_arguments),
]
each_contract = pytest.mark.parametrize(
    "contract", CONTRACTS, ids=lambda contract: contract.operation
)


@each_contract
def test_wsdl_follows_the_rivta_naming_rules(contract: Contract) -> None:
    """Names, soapAction, the LogicalAddress header and the placeholder address follow RIVTA BP 2.1."""
    op, tns = contract.operation, contract.tns
    outline = wsdl_outline(contract.ours)
    assert outline["name"] == f"{op}Interaction"
    assert outline["targetNamespace"] == tns
    assert outline["messages"] == {
        f"{op}Request": [
            ("LogicalAddress", f"{{{m.ITR_NS}}}LogicalAddress", None),
            ("parameters", f"{{{contract.responder_ns}}}{op}", None),
        ],
        f"{op}Response": [
            ("parameters", f"{{{contract.responder_ns}}}{op}Response", None)
        ],
    }
    binding = outline["bindings"][f"{op}ResponderBinding"]  # type: ignore[index]
    operation = binding["operations"][op]
    assert binding["soap"] == {
        "style": "document",
        "transport": "http://schemas.xmlsoap.org/soap/http",
    }
    assert operation["soap"] == {
        "soapAction": f"{contract.responder_ns}:{op}",
        "style": "document",
    }
    assert operation["input"]["headers"] == [
        (f"{{{tns}}}{op}Request", "LogicalAddress", "literal")
    ]
    assert operation["input"]["body"] == {"use": "literal", "parts": "parameters"}
    assert outline["services"] == {
        f"{op}ResponderService": {
            f"{op}ResponderPort": (
                f"{{{tns}}}{op}ResponderBinding",
                {"location": "http://tempuri.org"},
            )
        }
    }


@pytest.mark.conformance
@each_contract
def test_wsdl_outline_matches_official(contract: Contract) -> None:
    """Messages, parts, port type, binding (style, use, soapAction, header) and service are the same."""
    assert wsdl_outline(contract.ours) == wsdl_outline(contract.official())


@each_contract
def test_zeep_builds_requests_our_schemas_accept(contract: Contract) -> None:
    """A client generated from our WSDL (resolving its relative imports) sends a valid request."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = zeep.Client(str(contract.ours))  # type: ignore[no-untyped-call]
    binding = client.wsdl.bindings[
        f"{{{contract.tns}}}{contract.operation}ResponderBinding"
    ]
    operation = binding.get(contract.operation)  # type: ignore[no-untyped-call]
    assert operation.soapaction == f"{contract.responder_ns}:{contract.operation}"
    envelope = client.create_message(  # type: ignore[no-untyped-call]
        client.service,
        contract.operation,
        **contract.zeep_arguments(),
        _soapheaders={"LogicalAddress": m.DEFAULT_LOGICAL_ADDRESS},
    )
    assert message_errors(contract.schema.ours().schema, etree.tostring(envelope)) == []


def test_the_status_update_sender_uses_the_soap_action_of_our_wsdl() -> None:
    """The SOAPAction ``outbound`` posts with is the one our WSDL's binding declares, read by zeep."""
    wsdl = (OUR_XSD / DOMAIN / "interactions" / "CertificateStatusUpdateForCareInteraction"
            / "CertificateStatusUpdateForCareInteraction_3.2_RIVTABP21.wsdl")
    client = zeep.Client(str(wsdl))  # type: ignore[no-untyped-call]
    tns = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCare:3:rivtabp21"
    binding = client.wsdl.bindings[f"{{{tns}}}CertificateStatusUpdateForCareResponderBinding"]
    assert binding.get("CertificateStatusUpdateForCare").soapaction == SOAP_ACTION  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(("operation", "action"), [
    ("RegisterCertificate", REGISTER_ACTION), ("SendCertificateToRecipient", SEND_ACTION),
    ("RevokeCertificate", REVOKE_ACTION), ("SendMessageToRecipient", MESSAGE_ACTION),
])
def test_the_onward_senders_use_the_soap_actions_of_our_wsdls(operation: str, action: str) -> None:
    """The SOAPAction each onward call is posted with is the one its WSDL's binding declares, read by zeep."""
    [contract] = [c for c in CONTRACTS if c.operation == operation]
    client = zeep.Client(str(contract.ours))  # type: ignore[no-untyped-call]
    binding = client.wsdl.bindings[f"{{{contract.tns}}}{operation}ResponderBinding"]
    assert binding.get(operation).soapaction == action  # type: ignore[no-untyped-call]
