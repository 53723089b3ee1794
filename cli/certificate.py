"""``intygsgateway certificate show|ready|sign|send|revoke|delete|ask|answer|renew|replace|complete CERT_ID
--user HSA_ID``.

``renew``, ``replace`` and ``complete`` take ``--unit HSA_ID``, the unit the user works at now, where
the new draft is issued (default: the certificate's own unit; ``usecases.relations.draft_unit``).

The same use cases as the operations API (``usecases.lifecycle``): the user is checked
against the directory, the event is queued with the user as ``hanteratAv`` and a PDL record is
written, in one transaction. For an operator at the server; an editor front end uses the API.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli.options import add_settings_options, settings_from
from cli.wiring import lifecycle_deps
from domain.arenden import Amne, Arende, arende_to_json
from domain.certificates import Answer, Certificate, certificate_to_json, content_from_json
from domain.lifecycle import LifecycleRefused
from domain.relations import CompletionMode, review_after_revoking
from domain.values import CertificateStatus, HsaId, typed_hsa_id
from gateway.content import ContentValidator
from usecases import lifecycle, questions
from usecases import relations as related
from usecases.lifecycle import (
    CertificateView,
    DependencyUnavailable,
    LifecycleDeps,
)
from usecases.questions import CARE_AMNEN

CORRELATION_PREFIX = "cli-"

_COMMANDS: dict[str, tuple[str, str]] = {
    "show": ("print a certificate and its questions (PDL: Läsa)",
             "Print the certificate, its status and its questions."),
    "edit": ("replace a draft's answers from a JSON file (ANDRAT)",
             "Replace the draft's content with the answers in --content FILE: JSON as the operations API's PUT "
             ".../content takes it (docs/examples/lisjp-content.json), checked as the contract's svar before "
             "anything is stored."),
    "ready": ("mark a draft ready for signing (KFSIGN)",
              "Mark a draft ready for signing; any role with an assignment may."),
    "sign": ("sign a draft (SIGNAT)", "Sign a draft as the user; läkare and tandläkare, nurses for some types."),
    "send": ("send a signed certificate to its recipient (SENDING; SKICKA when it accepts)",
             "Send a signed certificate to --recipient (default: its type's, e.g. FKASSA), which must be an "
             "active recipient that takes the type (intygsgateway recipients list); test certificates are "
             "refused. The certificate is SENDING until the recipient accepts it, then SENT (docs/onward.md)."),
    "revoke": ("revoke (makulera) a draft or certificate (MAKULE)",
               "Revoke with a --reason code (FEL_PATIENT or ANNAT_ALLVARLIGT_FEL) and a --description, "
               "required for ANNAT_ALLVARLIGT_FEL (at least 10 characters that say what is wrong); its open "
               "questions become handled."),
    "delete": ("delete a draft (RADERA)", "Delete a draft that is neither locked nor signed; its events are kept."),
    "ask": ("ask the recipient a question (NYFRFV)",
            "Ask the recipient of a sent certificate a question (--amne KONTKT, AVSTMN or OVRIGT, --text, optional "
            "--heading); it goes with SendMessageToRecipient."),
    "answer": ("answer the recipient's question (HANFRFM)",
               "Answer the recipient's question --question MEDDELANDE_ID with --text; it goes with "
               "SendMessageToRecipient, naming the question (svarPa). A completion request (KOMPLT) is answered "
               "with complete, a reminder (PAMINN) not at all."),
    "renew": ("renew (förnya) a signed certificate: a new draft, relation FRLANG (SKAPAT)",
              "Make a new draft from a signed certificate of a renewable type (LISJP), with every answer but those "
              "made anew (for LISJP: 1, 26, 32) and the patient's current details."),
    "replace": ("replace (ersätta) a signed certificate: a corrected copy, relation ERSATT (SKAPAT)",
                "Make a replacing draft of a signed certificate, or print the one that exists; once the "
                "replacement is signed the certificate is replaced for good (unless the replacement is revoked)."),
    "complete": ("answer the recipient's completion requests (KOMPLT): --mode A, B or C",
                 "Answer every open completion request of the certificate at once: --mode A makes a completing "
                 "draft (relation KOMPLT), sent when signed; B the same with --text in the other-information "
                 "answer (no further medical information; physicians only); C answers the recipient with --text "
                 "(nobody at the unit can take responsibility)."),
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "certificate",
        help="act on a certificate as a user",
        description="Act on one certificate as a user in the directory.",
    )
    commands = parser.add_subparsers(dest="certificate_command", required=True, metavar="COMMAND")
    for name, (short, description) in _COMMANDS.items():
        command = commands.add_parser(name, help=short, description=description)
        add_settings_options(command)
        command.add_argument("certificate_id", metavar="CERT_ID", help="the certificate's id (intygs-id)")
        command.add_argument("--user", required=True, metavar="HSA_ID", help="the acting user's HSA-id (hanteratAv)")
        command.add_argument("--json", action="store_true", help="print the result as JSON")
        if name == "revoke":
            command.add_argument("--reason", required=True, metavar="CODE",
                                 help="FEL_PATIENT or ANNAT_ALLVARLIGT_FEL")
            command.add_argument("--description", metavar="TEXT",
                                 help="what is wrong (required for ANNAT_ALLVARLIGT_FEL)")
        if name == "send":
            command.add_argument("--recipient", metavar="ID", help="the recipient's id (default: the type's)")
        if name == "ask":
            command.add_argument("--amne", required=True, choices=[a.value for a in CARE_AMNEN], help="the topic")
            command.add_argument("--heading", metavar="TEXT", help="a heading (rubrik)")
        if name == "answer":
            command.add_argument("--question", required=True, metavar="MEDDELANDE_ID",
                                 help="the meddelande-id of the recipient's question")
        if name in ("ask", "answer"):
            command.add_argument("--text", required=True, metavar="TEXT", help="the message")
        if name == "edit":
            command.add_argument("--content", required=True, metavar="FILE", type=Path,
                                 help="the answers as JSON ({\"content\": [...]}, as the operations API takes them)")
        if name in ("renew", "replace", "complete"):
            command.add_argument("--unit", metavar="HSA_ID", type=_unit,
                                 help="the vårdenhet the user works at now: the new draft is issued there (it must be "
                                      "covered by one of the user's assignments and be a unit of the certificate's "
                                      "care giver); default the certificate's unit. Not used by --mode C")
        if name == "complete":
            command.add_argument("--mode", required=True, choices=[m.value for m in CompletionMode],
                                 help="A completing certificate, B no further information, C an answer")
            command.add_argument("--text", metavar="TEXT", help="the comment (B) or the answer (C)")
        command.set_defaults(run=run, operation=name)


def _unit(text: str) -> HsaId:
    """``--unit``: an HSA-id's shape, or a usage error (exit 2) before anything is looked up."""
    try:
        return typed_hsa_id(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _operation(
    name: str, args: argparse.Namespace
) -> Callable[[LifecycleDeps, str, HsaId, str], Certificate | CertificateView | Arende]:
    if name == "revoke":
        return lambda deps, cid, user, correlation: lifecycle.revoke(
            deps, cid, user, args.reason, args.description, correlation
        )
    if name == "send":
        return lambda deps, cid, user, correlation: lifecycle.send(deps, cid, user, correlation, args.recipient)
    if name == "edit":
        content = _content(args.content)
        return lambda deps, cid, user, correlation: lifecycle.update_content(deps, cid, user, content, correlation)
    if name == "ask":
        return lambda deps, cid, user, correlation: questions.ask_question(
            deps, cid, user, Amne(args.amne), args.heading, args.text, correlation)
    if name == "answer":
        return lambda deps, cid, user, correlation: questions.answer_question(
            deps, cid, args.question, user, args.text, correlation)
    if name == "complete" and args.mode == CompletionMode.C.value:
        return lambda deps, cid, user, correlation: questions.answer_completions(
            deps, cid, user, args.text or "", correlation)
    if name == "complete":
        return lambda deps, cid, user, correlation: related.complete(
            deps, cid, user, CompletionMode(args.mode), args.text, correlation, args.unit).certificate
    if name in ("renew", "replace"):
        make = related.renew if name == "renew" else related.replace_certificate
        return lambda deps, cid, user, correlation: make(deps, cid, user, correlation, args.unit).certificate
    operations: dict[str, Callable[..., Certificate | CertificateView]] = {
        "show": lifecycle.show, "ready": lifecycle.mark_ready, "sign": lifecycle.sign, "delete": lifecycle.delete,
    }
    return operations[name]


class ContentRefused(Exception):
    """The --content file cannot be stored: unreadable, not answers, or not valid as the contract's svar."""


def _content(path: Path) -> tuple[Answer, ...]:
    """The answers in ``path``, checked as the operations API checks them (``gateway.content``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        answers = content_from_json(data["content"] if isinstance(data, dict) else data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ContentRefused(f"{path}: not a list of answers ({type(error).__name__}: {error})") from None
    problems = ContentValidator().problems(answers)
    if problems:
        raise ContentRefused("; ".join(f"answer {p.answer_id} part {p.part_id}: {p.fault.value} ({p.reason})"
                                       for p in problems))
    return answers


def _print(result: Certificate | CertificateView | Arende, as_json: bool) -> None:
    if isinstance(result, Arende):
        if as_json:
            print(json.dumps({"message": arende_to_json(result)}, ensure_ascii=False, indent=2))
        else:
            print(f"{result.message_id}: {result.direction.value} {result.amne.value} {result.status.value}, "
                  f"to {result.recipient}, delivery {result.delivery.value if result.delivery else '-'}")
        return
    certificate = result.certificate if isinstance(result, CertificateView) else result
    if as_json:
        data: dict[str, Any] = {"certificate": certificate_to_json(certificate)}
        if isinstance(result, CertificateView):
            data["questions"] = [arende_to_json(a) for a in result.arenden]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    print(
        f"{certificate.id}: {certificate.type_code} {certificate.status.value} (version {certificate.version}), "
        f"unit {certificate.unit.hsa_id}, patient {certificate.patient.person_id.masked()}"
    )
    if certificate.relation_code is not None:
        print(f"  relation {certificate.relation_code.value} to {certificate.relation_parent}")
    replaced = review_after_revoking(certificate) if certificate.status is CertificateStatus.REVOKED else None
    if replaced is not None:
        print(f"  review {replaced}: the certificate this one replaced is valid again")
    if certificate.sent_to and certificate.status.value in ("SENDING", "SENT"):
        print(f"  {certificate.status.value.lower()} to {certificate.sent_to}")
    if certificate.send_failed_at is not None:
        print(f"  last send failed at {certificate.send_failed_at.isoformat()}: {certificate.send_failure_class}"
              + (f": {certificate.send_failure_text}" if certificate.send_failure_text else ""))
    if isinstance(result, CertificateView):
        for arende in result.arenden:
            print(f"  {arende.message_id}: {arende.direction.value} {arende.amne.value} {arende.status.value}")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        operation = _operation(args.operation, args)
    except ContentRefused as refused:
        print(f"intygsgateway: content refused: {refused}", file=sys.stderr)
        return 2
    deps, close = lifecycle_deps(settings)
    try:
        result = operation(deps, args.certificate_id, HsaId(args.user), f"{CORRELATION_PREFIX}{args.operation}")
    except LifecycleRefused as refused:
        details = ", ".join(
            f"{name} {value}" for name, value in (("status", refused.status), ("role", refused.role),
                                                  ("missing answers", ",".join(refused.missing)),
                                                  ("unit", refused.unit)) if value
        )
        print(f"intygsgateway: refused: {refused.reason.value}" + (f" ({details})" if details else ""), file=sys.stderr)
        return 1
    except DependencyUnavailable as unavailable:
        print(f"intygsgateway: the {unavailable.dependency} is not answering; try again", file=sys.stderr)
        return 1
    finally:
        close()
    _print(result, args.json)
    return 0
