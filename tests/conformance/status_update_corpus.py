"""CertificateStatusUpdateForCare 3.2 messages: requests as the gateway sends them, and answers.

The request is the core Intyg, Handelse and two Arenden (built with ``core_corpus``'s helpers) in
the responder namespace, then ``ref`` and the request-level ``csu32:hanteratAv``. Valid cases reach
every optional element and the response's wildcard; each invalid case breaks one rule that the
3.2 schema adds on top of the core types (those are in ``core_corpus``).
"""

from __future__ import annotations

from tests import envelopes as m
from tests.conformance import core_corpus as core
from tests.conformance.corpus import Corpus
from tests.conformance.edits import at, foreign, move_after, remove, rename, set_text
from tests.conformance.schemas import RootSchema
from tests.envelopes import Element

SCHEMA = RootSchema(
    domain="clinicalprocess-healthcond-certificate",
    imports={
        m.CSU_NS: "interactions/CertificateStatusUpdateForCareInteraction/"
        "CertificateStatusUpdateForCareResponder_3.2.xsd",
        m.ITR_NS: "core_components/itintegration_registry_1.0.xsd",
    },
)

CORPUS = Corpus("CertificateStatusUpdateForCare 3.2")
valid = CORPUS.valid
invalid = CORPUS.invalid

e = core.e
HANDELSE = "csu:handelse"
HANTERAT_AV = "csu32:hanteratAv"


def status_update_body(
    *,
    event_code: str = "NYFRFM",
    tidpunkt: str = "2024-01-02T10:00:00.123",
    sent_counts: str = "1",
    ref: str | None = "journal-ref",
    handled_by: str | None = m.DEFAULT_USER_HSA_ID,
    intyg: list[Element] | None = None,
) -> Element:
    """A ``csu:CertificateStatusUpdateForCare`` body with every optional element by default."""
    handelse = core.handelse(tidpunkt)
    handelse[0] = core.code("core:handelsekod", event_code, core.KV_HANDELSE, "Ny fråga från mottagare")
    children = [
        e("csu:intyg", *(intyg if intyg is not None else core.intyg())),
        e("csu:handelse", *handelse),
        e("csu:skickadeFragor", *core.arenden(sent_counts)),
        e("csu:mottagnaFragor", *core.arenden("0")),
    ]
    if ref is not None:
        children.append(e("csu:ref", ref))
    if handled_by is not None:
        children.append(core.ident(HANTERAT_AV, m.HSA_ID_ROOT, handled_by))
    return e("csu:CertificateStatusUpdateForCare", *children)


def request(body: Element | None = None, *, logical_address: str = m.DEFAULT_UNIT_HSA_ID) -> bytes:
    """Wrap a (possibly broken) body with the LogicalAddress header: the unit's HSA-id."""
    return m.soap_envelope(
        body if body is not None else status_update_body(),
        headers=[m.logical_address_header(logical_address)],
    )


def response(*result: Element) -> bytes:
    return m.soap_envelope(e("csu:CertificateStatusUpdateForCareResponse", *result))


def draft_intyg() -> list[Element]:
    """A draft as the incumbent sends it: no signing or sending time, partial answers,
    a protected patient (name and address blanked) and the placeholder workplace code."""
    patient = [
        core.ident("core:person-id", m.PERSONNUMMER_ROOT, "195206142597"),
        e("core:fornamn", ""),
        e("core:efternamn", "Skyddade personuppgifter"),
        e("core:postadress", ""),
        e("core:postnummer", ""),
        e("core:postort", ""),
    ]
    personal = core.hos_personal(full=False)
    set_text(personal[-1], "core:arbetsplatskod/types:extension", "TEMPORARY ARBETSPLATSKOD")
    return [
        core.ident("core:intygs-id", m.DEFAULT_UNIT_HSA_ID, "draft-1"),
        core.code("core:typ", "LISJP", m.KV_INTYGSTYP, "Läkarintyg för sjukpenning"),
        e("core:version", "1.3"),
        e("core:patient", *patient),
        e("core:skapadAv", *personal),
        m.element("core:svar", m.element("core:delsvar", "", id="1.1"), id="1"),
    ]


# --- valid ------------------------------------------------------------------------------------


@valid
def full_status_update() -> bytes:
    """Every optional element: a signed certificate, amne, ref, both hanteratAv."""
    return request()


@valid
def minimal_status_update() -> bytes:
    """A system event (no ref, no hanteratAv) on a draft; all counts zero."""
    body = status_update_body(event_code="SKAPAT", sent_counts="0", ref=None, handled_by=None,
                              intyg=draft_intyg())  # fmt: skip
    for path in ("core:amne", "core:sistaDatumForSvar", "ext34:hanteratAv"):
        remove(at(body, HANDELSE), path)
    return request(body)


@valid
def event_code_without_display_name() -> bytes:
    """Handelsekod's displayName is optional."""
    body = status_update_body()
    remove(body, f"{HANDELSE}/core:handelsekod/types:displayName")
    return request(body)


@valid
def event_code_outside_the_code_list() -> bytes:
    """The schema does not enumerate KV_HANDELSE codes: a future code is schema-valid."""
    return request(status_update_body(event_code="LAST"))


@valid
def negative_count() -> bytes:
    """The counts are xs:int, so the schema itself does not refuse a negative number."""
    return request(status_update_body(sent_counts="-1"))


@valid
def empty_logical_address() -> bytes:
    """LogicalAddress is a plain string; the schema allows it empty."""
    return request(logical_address="")


@valid
def ok_answer() -> bytes:
    """The journal system's OK: only resultCode."""
    return response(e("csu:result", e("core:resultCode", "OK")))


@valid
def error_answer_with_extension() -> bytes:
    """ERROR with text and errorId, then an extension at the response's wildcard."""
    result = e("csu:result", e("core:resultCode", "ERROR"), e("core:resultText", "Försök igen"),
               e("core:errorId", "TECHNICAL_ERROR"))  # fmt: skip
    return response(result, foreign())


# --- invalid ----------------------------------------------------------------------------------


@invalid
def handled_by_in_responder_namespace() -> bytes:
    """The request-level hanteratAv is the 3.2 namespace's global element, not a local csu one."""
    return request(rename(status_update_body(), HANTERAT_AV, "csu:hanteratAv"))


@invalid
def handled_by_in_core_34_namespace() -> bytes:
    """ext34:hanteratAv belongs inside Handelse, not at request level."""
    return request(rename(status_update_body(), HANTERAT_AV, "ext34:hanteratAv"))


@invalid
def extension_after_handled_by() -> bytes:
    """Version 3.2 has no wildcard at the end of the request."""
    body = status_update_body()
    body.append(foreign())
    return request(body)


@invalid
def extension_instead_of_handled_by() -> bytes:
    """The 3.1 wildcard was replaced by hanteratAv: a foreign element there is refused now."""
    body = status_update_body(handled_by=None)
    body.append(foreign())
    return request(body)


@invalid
def handled_by_with_wrong_root() -> bytes:
    """hanteratAv is an HsaId, whose root is fixed."""
    return request(set_text(status_update_body(), f"{HANTERAT_AV}/types:root", m.PERSONNUMMER_ROOT))


@invalid
def handled_by_with_empty_extension() -> bytes:
    """An HsaId's extension is a non-empty string."""
    return request(set_text(status_update_body(), f"{HANTERAT_AV}/types:extension", ""))


@invalid
def ref_after_handled_by() -> bytes:
    """ref comes before hanteratAv."""
    return request(move_after(status_update_body(), "csu:ref", HANTERAT_AV))


@invalid
def counts_in_wrong_order() -> bytes:
    """skickadeFragor comes before mottagnaFragor (same type, so only the order tells them apart)."""
    return request(move_after(status_update_body(), "csu:skickadeFragor", "csu:mottagnaFragor"))


@invalid
def received_counts_missing() -> bytes:
    """mottagnaFragor is required, also when all counts are zero."""
    return request(remove(status_update_body(), "csu:mottagnaFragor"))


@invalid
def event_before_certificate() -> bytes:
    """intyg comes first."""
    return request(move_after(status_update_body(), "csu:intyg", HANDELSE))


@invalid
def certificate_children_in_responder_namespace() -> bytes:
    """intyg has the core type: its children are core elements, not csu ones."""
    return request(rename(status_update_body(), "csu:intyg/core:intygs-id", "csu:intygs-id"))


@invalid
def event_time_in_utc() -> bytes:
    """handelse/tidpunkt is local time without a zone."""
    return request(status_update_body(tidpunkt="2024-01-02T10:00:00.123Z"))


@invalid
def answer_without_result() -> bytes:
    """The response holds a result."""
    return response(foreign())


@invalid
def answer_with_unknown_result_code() -> bytes:
    """resultCode is OK, INFO or ERROR."""
    return response(e("csu:result", e("core:resultCode", "FAILED")))


def zeep_arguments() -> dict[str, object]:
    """A status update as keyword arguments for a zeep client built from our WSDL."""
    hsa = {"root": m.HSA_ID_ROOT}
    counts = {"totalt": 0, "ejBesvarade": 0, "besvarade": 0, "hanterade": 0}
    return {
        "intyg": {
            "intygs-id": {"root": m.DEFAULT_UNIT_HSA_ID, "extension": "draft-1"},
            "typ": {"code": "LISJP", "codeSystem": m.KV_INTYGSTYP},
            "version": "1.0",
            "patient": {
                "person-id": {"root": m.PERSONNUMMER_ROOT, "extension": m.DEFAULT_PERSON_ID},
                "fornamn": "Tolvan",
                "efternamn": "Tolvansson",
                "postadress": "Storgatan 1",
                "postnummer": "12345",
                "postort": "Småmåla",
            },
            "skapadAv": {
                "personal-id": hsa | {"extension": m.DEFAULT_USER_HSA_ID},
                "fullstandigtNamn": "Ajla Doktor",
                "enhet": {
                    "enhets-id": hsa | {"extension": m.DEFAULT_UNIT_HSA_ID},
                    "arbetsplatskod": {"root": core.ARBETSPLATSKOD, "extension": "TEMPORARY ARBETSPLATSKOD"},
                    "enhetsnamn": "Alfa",
                    "postadress": "",
                    "postnummer": "",
                    "postort": "",
                    "telefonnummer": "",
                    "vardgivare": {"vardgivare-id": hsa | {"extension": "SE2321000016-0001"}, "vardgivarnamn": "Alfa"},
                },
            },
        },
        "handelse": {
            "handelsekod": {"code": "SKAPAT", "codeSystem": core.KV_HANDELSE},
            "tidpunkt": "2026-11-21T10:15:30.123",
        },
        "skickadeFragor": counts,
        "mottagnaFragor": counts,
        "hanteratAv": hsa | {"extension": m.DEFAULT_USER_HSA_ID},
    }
