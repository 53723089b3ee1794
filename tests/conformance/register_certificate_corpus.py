"""RegisterCertificate 3.1: the core Intyg in the responder namespace, after an optional svarPa."""

from __future__ import annotations

from tests import envelopes as m
from tests.conformance import core_corpus as core
from tests.conformance.corpus import Corpus
from tests.conformance.edits import foreign, move_after, remove, rename
from tests.conformance.onward_corpus import add_answer_cases, request, root_schema
from tests.envelopes import Element

SCHEMA = root_schema("RegisterCertificate", m.REG_NS, "3.1")
CORPUS = Corpus("RegisterCertificate 3.1")
valid = CORPUS.valid
invalid = CORPUS.invalid
e = core.e


def body(*, svar_pa: bool = True) -> Element:
    children = []
    if svar_pa:
        children.append(e("reg:svarPa", e("core:meddelande-id", "fk-question-1"), e("core:referens-id", "ref-1")))
    children.append(e("reg:intyg", *core.intyg()))
    return e("reg:RegisterCertificate", *children)


@valid
def completion_with_every_element() -> bytes:
    """A completion (svarPa) of a certificate with every optional element of Intyg."""
    return request(body())


@valid
def plain_registration() -> bytes:
    """Without svarPa: the usual registration of a signed certificate."""
    return request(body(svar_pa=False))


@valid
def extension_after_certificate() -> bytes:
    """The request ends with an ##other wildcard."""
    registration = body(svar_pa=False)
    registration.append(foreign())
    return request(registration)


@invalid
def certificate_missing() -> bytes:
    """intyg is required."""
    return request(remove(body(), "reg:intyg"))


@invalid
def answer_reference_after_certificate() -> bytes:
    """svarPa comes before intyg."""
    return request(move_after(body(), "reg:svarPa", "reg:intyg"))


@invalid
def certificate_in_core_namespace() -> bytes:
    """intyg is the responder's own element (of the core type), not core:intyg."""
    return request(rename(body(), "reg:intyg", "core:intyg"))


@invalid
def answer_reference_without_message_id() -> bytes:
    """MeddelandeReferens requires its meddelande-id."""
    return request(remove(body(), "reg:svarPa/core:meddelande-id"))


add_answer_cases(CORPUS, "reg", "RegisterCertificate")
