"""Namespace constants of everything we read and write on the wire: the contracts (RIVTA BP 2.1), SOAP,
WSDL and XML Schema. The one place a namespace is spelled out; everything else imports it from here."""

from __future__ import annotations

REGISTRY = "urn:riv:itintegration:registry:1"
CORE = "urn:riv:clinicalprocess:healthcond:certificate:3"
TYPES = "urn:riv:clinicalprocess:healthcond:certificate:types:3"
EXT32 = "urn:riv:clinicalprocess:healthcond:certificate:3.2"
EXT33 = "urn:riv:clinicalprocess:healthcond:certificate:3.3"
EXT34 = "urn:riv:clinicalprocess:healthcond:certificate:3.4"
CREATE_DRAFT_V3 = "urn:riv:clinicalprocess:healthcond:certificate:CreateDraftCertificateResponder:3"
SEND_MESSAGE_V2 = "urn:riv:clinicalprocess:healthcond:certificate:SendMessageToCareResponder:2"
#: A patient's certificates with their events and question counts, asked by journal systems.
LIST_CERTIFICATES_V3 = "urn:riv:clinicalprocess:healthcond:certificate:ListCertificatesForCareWithQAResponder:3"
STATUS_UPDATE_V3 = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3"
#: The onward contracts the gateway calls: the certificate to its keeper (the archive, or the
#: recipient), a send through the archive, a revocation, and care's questions and answers.
REGISTER_CERTIFICATE_V3 = "urn:riv:clinicalprocess:healthcond:certificate:RegisterCertificateResponder:3"
SEND_CERTIFICATE_V2 = "urn:riv:clinicalprocess:healthcond:certificate:SendCertificateToRecipientResponder:2"
REVOKE_CERTIFICATE_V2 = "urn:riv:clinicalprocess:healthcond:certificate:RevokeCertificateResponder:2"
SEND_MESSAGE_TO_RECIPIENT_V2 = "urn:riv:clinicalprocess:healthcond:certificate:SendMessageToRecipientResponder:2"
#: The 3.2 addition to CertificateStatusUpdateForCare: only the request-level ``hanteratAv``.
STATUS_UPDATE_V32 = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3.2"
#: Our own extension, written where a contract has an ``##other`` lax wildcard: the revocation's reason
#: code and description inside ``intyg/status`` (CANCEL) of a status update. A receiver that does
#: not know the namespace skips it (lax); ``docs/lifecycle.md`` describes it.
GATEWAY_EXT = "urn:intygsgateway:certificate:extension:1"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
#: WSDL 1.1, its SOAP binding, and XML Schema: what ``?wsdl``/``?xsd=`` serving and validation read.
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD = "http://www.w3.org/2001/XMLSchema"

#: StoreLog v2 (informationsecurity:auditing:log): the responder and the domain's core namespace.
STORE_LOG_V2 = "urn:riv:informationsecurity:auditing:log:StoreLogResponder:2"
AUDITING_LOG = "urn:riv:informationsecurity:auditing:log:2"


def qname(namespace: str, local: str) -> str:
    """Clark notation ``{namespace}local`` as lxml uses it."""
    return f"{{{namespace}}}{local}"
