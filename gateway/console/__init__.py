"""The operator console under ``/console/``: server-rendered HTML pages over the operator use cases.

Pages: the outbox overview (pending and failed by unit and outcome class, the oldest's age), one
event with its attempts, resend with a dry-run preview and a mandatory reason, routing (explain a
lookup with its trace, the latest catalogue versions and their diffs, integrated units without a
route) and the PDL chain's status. The same use cases as the command line and the operations API
(``usecases.outbox``, ``usecases.routing_operations``, ``usecases.pdl_log``), so the three cannot drift.

No JavaScript and no build step: Jinja2 templates (``templates/``) with autoescaping on for every
value, one stylesheet, native form controls (labels, keyboard, focus outlines), Swedish and English
(``texts.py``; ``?lang=sv|en``, kept in a cookie, else the browser's ``Accept-Language``).

**Authentication: the operations API's credentials and rules** (``InternalApi.admit``: configured,
loopback unless ``internal_api_remote``, a verified service or OIDC token with the page's scope:
``read`` for reading, ``resend`` to resend, ``pdl-read`` for the chain). A browser cannot send an
``Authorization`` header on a link, so the login page takes the token once and keeps it in a cookie
the page's scripts cannot read and other sites cannot make the browser send:
``__Host-intygsgateway-console`` with ``Secure``, ``HttpOnly``, ``SameSite=Strict`` and ``Path=/``
(the ``__Host-`` prefix makes the browser refuse it from any other host or path). Every request
verifies the token again, so a revoked service token or an expired OIDC token ends the session on
the next click; the cookie itself lives until sign-out or the browser closes.

**CSRF.** Every POST (resend, sign-out; sign-in needs none of it but the origin check) carries a
token derived from the session's credential, ``HMAC-SHA256(credential, "console-csrf")``, in a
hidden field: another site can neither read it nor compute it. A POST is refused (403) when that
field is missing or wrong, when its ``Origin`` names another host, or when the browser says it
came from another site (``Sec-Fetch-Site: cross-site``). ``SameSite=Strict`` already keeps the
cookie off cross-site requests; each check holds without the others.

Every answer carries a strict Content-Security-Policy (nothing but this site's stylesheet and
forms), ``X-Frame-Options: DENY``, ``Referrer-Policy: same-origin`` and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2
import structlog

from domain.resend_request import DEFAULT_CAP, ResendRefusalReason, ResendRefused
from gateway import correlation
from gateway.console.texts import LANGUAGES, TEXTS, text
from gateway.internal_api import ApiError, InternalApi
from gateway.internal_api.auth import Principal, Scope
from gateway.internal_api.outbox import selection_from
from gateway.internal_api.pdl import chain_json
from usecases.outbox import OutboxOperations, summary_json
from usecases.pdl_log import PdlLog
from usecases.routing_operations import RoutingOperations

PREFIX = "/console"
SESSION_COOKIE = "__Host-intygsgateway-console"
LANGUAGE_COOKIE = "intygsgateway-console-lang"
CSRF_FIELD = "csrf"
MAX_FORM_BYTES = 64 * 1024
#: Browsers keep cookies of up to 4096 bytes (name, value and attributes); a longer token cannot be kept.
MAX_COOKIE_BYTES = 4000
HERE = Path(__file__).resolve().parent
StartResponse = Callable[..., Any]
log = structlog.get_logger("gateway.console")

SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),  # no-referrer would make the browser send "Origin: null" on our own POSTs
    ("Cache-Control", "no-store"),
)


@dataclass(frozen=True, slots=True)
class ConsoleDeps:
    """What the console reads and acts through, wired by ``cli``."""

    api: InternalApi  # credentials and reachability rules
    outbox: OutboxOperations
    routing: RoutingOperations
    pdl: PdlLog
    status_contract: str  # the explain form's default contract (CertificateStatusUpdateForCare)


@dataclass(slots=True)
class Page:
    """An answer: status, HTML (or other) body, extra headers."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


class Redirect(Exception):
    """Answer 303 See Other to ``location`` (with extra headers, e.g. a cleared cookie)."""

    def __init__(self, location: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(location)
        self.location = location
        self.headers = list(headers)


def csrf_token(credential: str) -> str:
    """The CSRF token of a session: a keyed hash of its credential (module docstring)."""
    return hmac.new(credential.encode("utf-8"), b"console-csrf", hashlib.sha256).hexdigest()


def session_cookie(credential: str) -> str:
    """The ``Set-Cookie`` value that keeps ``credential`` for the session."""
    value = base64.urlsafe_b64encode(credential.encode("utf-8")).decode("ascii")
    return f"{SESSION_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Strict"


CLEARED_COOKIE = f"{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, str) and value:
        try:
            return _when(datetime.fromisoformat(value))
        except ValueError:
            return value
    return "–" if value in (None, "") else str(value)


class Console:
    """The WSGI application under ``PREFIX`` (module docstring)."""

    def __init__(self, deps: ConsoleDeps) -> None:
        self._deps = deps
        self._templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,  # every value escaped, whatever the template's name
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._templates.filters["age"] = _age
        self._templates.filters["when"] = _when
        self._stylesheet = (HERE / "static" / "console.css").read_bytes()

    @property
    def deps(self) -> ConsoleDeps:
        return self._deps

    # -- the WSGI entry ------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with correlation.bound(environ) as cid:
            language, language_headers = self._language(environ)
            try:
                page = self._handle(environ, language)
            except Redirect as redirect:
                page = Page(303, b"", headers=[("Location", redirect.location), *redirect.headers])
            except ApiError as error:
                log.warning("console_refused", path=environ.get("PATH_INFO"), status=error.status, code=error.code)
                page = self._error(language, error.status, error.message, error.code)
            except Exception:  # the last resort: log it, answer without internals
                log.exception("console_failed", path=environ.get("PATH_INFO"))
                page = self._error(language, 500, f"an internal error occurred (correlation id {cid})", "INTERNAL")
        headers = [("Content-Type", page.content_type), ("Content-Length", str(len(page.body))),
                   *SECURITY_HEADERS, *language_headers, *page.headers]
        start_response(f"{page.status} {HTTPStatus(page.status).phrase}", headers)
        return [page.body]

    def _handle(self, environ: dict[str, Any], language: str) -> Page:
        path = environ.get("PATH_INFO", "")[len(PREFIX):] or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        self._deps.api.reachable(environ)  # off without credentials (404); loopback unless allowed (403)
        if path == "/static/console.css":
            return Page(200, self._stylesheet, "text/css; charset=utf-8")
        if path == "/login":
            return self._login(environ, method, language)
        credential = self._credential(environ)
        if credential is None:
            raise Redirect(f"{PREFIX}/login")
        principal = self.admit(environ, Scope.READ, credential)
        view = _View(self, environ, language, principal, credential)
        if method == "POST":
            form = self._form(environ)
            self._check_post(environ, form, credential)
            if path == "/logout":
                log.info("console_logout", caller=principal.name)
                raise Redirect(f"{PREFIX}/login", [("Set-Cookie", CLEARED_COOKIE)])
            if path == "/resend":
                return view.resend_post(form)
            raise ApiError(405, "METHOD_NOT_ALLOWED", "this page takes GET")
        if method not in ("GET", "HEAD"):
            raise ApiError(405, "METHOD_NOT_ALLOWED", "use GET or POST")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if path == "/":
            return view.overview()
        if match := re.fullmatch(r"/events/(\d{1,18})", path):
            return view.event(int(match.group(1)))
        if path == "/events":
            found = _first(query, "id")
            if found.isdigit():
                raise Redirect(f"{PREFIX}/events/{found}")
            raise ApiError(400, "INVALID_EVENT_ID", "the event id is a number")
        if path == "/resend":
            return view.resend_form(query)
        if path == "/routing":
            return view.routing(query)
        if match := re.fullmatch(r"/routing/versions/(\d{1,18})", path):
            return view.version(int(match.group(1)))
        if path == "/pdl":
            self.admit(environ, Scope.PDL_READ, credential)
            return view.pdl()
        raise ApiError(404, "NOT_FOUND", "no page at this path")

    # -- sessions ---------------------------------------------------------------------------------------------
    def admit(self, environ: Mapping[str, Any], scope: Scope, credential: str) -> Principal:
        """The session's principal with ``scope``; a refused (expired, revoked) credential signs out."""
        try:
            return self._deps.api.admit(environ, scope, credential)
        except ApiError as refused:
            if refused.status == 401:  # expired or revoked: sign in again
                raise Redirect(f"{PREFIX}/login", [("Set-Cookie", CLEARED_COOKIE)]) from None
            raise

    @staticmethod
    def _credential(environ: Mapping[str, Any]) -> str | None:
        try:
            cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        except CookieError:
            return None
        morsel = cookies.get(SESSION_COOKIE)
        if morsel is None or not morsel.value:
            return None
        try:
            return base64.urlsafe_b64decode(morsel.value.encode("ascii")).decode("utf-8")
        except (ValueError, binascii.Error, UnicodeError):
            return None

    def _login(self, environ: dict[str, Any], method: str, language: str) -> Page:
        if method != "POST":
            return self.render("login.html", language, None, None, error=None)
        form = self._form(environ)
        self._check_origin(environ)
        credential = _first(form, "token").strip()
        try:
            principal = self._deps.api.admit(environ, Scope.READ, credential)
        except ApiError as refused:
            log.warning("console_login_refused", status=refused.status, code=refused.code)
            if refused.status in (401, 403) and refused.code != "REMOTE_NOT_ALLOWED":
                return self.render("login.html", language, None, None, status=401,
                                   error=f"{text('login_refused', language)} ({refused.code})")
            raise
        cookie = session_cookie(credential)
        if len(cookie) > MAX_COOKIE_BYTES:  # a browser would drop it silently: say so instead
            return self.render("login.html", language, None, None, status=400,
                               error=f"{text('login_refused', language)} (TOKEN_TOO_LONG: > {MAX_COOKIE_BYTES} bytes)")
        log.info("console_login", caller=principal.name, credential=principal.kind,
                 user=principal.user.value if principal.user else None)
        raise Redirect(f"{PREFIX}/", [("Set-Cookie", cookie)])

    # -- POST protection ---------------------------------------------------------------------------------------
    @staticmethod
    def _check_origin(environ: Mapping[str, Any]) -> None:
        """Refuse a POST that the browser says came from another site or another host's page."""
        if environ.get("HTTP_SEC_FETCH_SITE", "").lower() == "cross-site":
            raise ApiError(403, "CROSS_SITE", "a form from another site may not post here")
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and urlsplit(origin).netloc.lower() != str(environ.get("HTTP_HOST", "")).lower():
            raise ApiError(403, "CROSS_ORIGIN", "a form from another origin may not post here")

    def _check_post(self, environ: Mapping[str, Any], form: Mapping[str, list[str]], credential: str) -> None:
        self._check_origin(environ)
        given = _first(form, CSRF_FIELD)
        if not given or not hmac.compare_digest(given, csrf_token(credential)):
            log.warning("console_csrf_refused", path=environ.get("PATH_INFO"), remote_addr=environ.get("REMOTE_ADDR"))
            raise ApiError(403, "CSRF_TOKEN", "the form's CSRF token is missing or wrong")

    @staticmethod
    def _form(environ: dict[str, Any]) -> dict[str, list[str]]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_FORM_BYTES:
            raise ApiError(413, "TOO_LARGE", f"a form may be at most {MAX_FORM_BYTES} bytes")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)

    # -- rendering ---------------------------------------------------------------------------------------------
    @staticmethod
    def _language(environ: Mapping[str, Any]) -> tuple[str, list[tuple[str, str]]]:
        """The page's language, and the cookie that keeps a choice made with ``?lang=``."""
        chosen = _first(parse_qs(environ.get("QUERY_STRING", "")), "lang")
        if chosen in LANGUAGES:
            return chosen, [("Set-Cookie", f"{LANGUAGE_COOKIE}={chosen}; Path={PREFIX}; SameSite=Strict")]
        try:
            kept = SimpleCookie(environ.get("HTTP_COOKIE", "")).get(LANGUAGE_COOKIE)
        except CookieError:
            kept = None
        if kept is not None and kept.value in LANGUAGES:
            return kept.value, []
        wanted = str(environ.get("HTTP_ACCEPT_LANGUAGE", "")).lower()
        return ("sv" if wanted.startswith("sv") else "en"), []

    def render(self, template: str, language: str, principal: Principal | None, credential: str | None,
               status: int = 200, here: str = "", **context: Any) -> Page:
        page = self._templates.get_template(template).render(
            here=here, lang=language, t=lambda key: text(key, language), texts=TEXTS, prefix=PREFIX,
            principal=principal, csrf=csrf_token(credential) if credential else "", csrf_field=CSRF_FIELD,
            **context,
        )
        return Page(status, page.encode("utf-8"))

    def _error(self, language: str, status: int, message: str, code: str) -> Page:
        return self.render("error.html", language, None, None, status=status, message=message, code=code)


class _View:
    """One request's pages: the console, the language, the caller and its credential."""

    def __init__(self, console: Console, environ: Mapping[str, Any], language: str, principal: Principal,
                 credential: str) -> None:
        self.console, self.environ, self.language = console, environ, language
        self.principal, self.credential = principal, credential
        self.deps = console.deps

    def render(self, template: str, status: int = 200, **context: Any) -> Page:
        here = {"overview.html": "outbox", "event.html": "outbox", "resend.html": "resend", "routing.html": "routing",
                "version.html": "routing", "pdl.html": "pdl"}.get(template, "")
        return self.console.render(template, self.language, self.principal, self.credential, status, here,
                                   **context)

    def overview(self) -> Page:
        outbox = self.deps.outbox
        return self.render("overview.html", summary=summary_json(outbox.summary(), outbox.now()), now=outbox.now())

    def event(self, event_id: int) -> Page:
        found = self.deps.outbox.event(event_id)
        if found is None:
            raise ApiError(404, "NO_SUCH_EVENT", f"no outbox event {event_id}")
        return self.render("event.html", event_id=event_id, event=found.event, attempts=found.attempts)

    # -- resend ------------------------------------------------------------------------------------------------
    def resend_form(self, query: Mapping[str, list[str]]) -> Page:
        values = {name: _first(query, name) for name in RESEND_FIELDS}
        return self.render("resend.html", values=values, errors={}, preview=None, result=None, cap=DEFAULT_CAP)

    def resend_post(self, form: Mapping[str, list[str]]) -> Page:
        values = {name: _first(form, name).strip() for name in RESEND_FIELDS}
        values["include_delivered"] = "on" if _first(form, "include_delivered") else ""
        errors: dict[str, str] = {}
        if not values["reason"]:
            errors["reason"] = text("reason_required", self.language)
        try:
            selection = selection_from(_selection_body(values))
            cap = int(values["max"]) if values["max"] else DEFAULT_CAP
            if cap < 1:
                raise ValueError(cap)
        except ApiError as wrong:
            errors[_FORM_FIELD.get(str(wrong.fields.get("field")), "event_ids")] = wrong.message
        except ValueError:
            errors["max"] = "max: 1.."
        if errors:
            return self.render("resend.html", status=400, values=values, errors=errors, preview=None, result=None,
                               cap=DEFAULT_CAP)
        outbox = self.deps.outbox
        try:
            if _first(form, "action") != "resend":
                counts = outbox.preview(selection)
                selected = sum(c.count for c in counts if c.status != "PENDING")
                return self.render("resend.html", values=values, errors={}, result=None, cap=cap,
                                   preview={"counts": counts, "selected": selected, "over_cap": selected > cap})
            self.console.admit(self.environ, Scope.RESEND, self.credential)
            by = self.principal.user.value if self.principal.user else self.principal.name
            result = outbox.resend(selection, by, values["reason"], cap)
        except ResendRefused as refused:
            key = "no_criteria" if refused.reason is ResendRefusalReason.NO_CRITERIA else "over_cap"
            return self.render("resend.html", status=409 if key == "over_cap" else 400, values=values,
                               errors={"event_ids": text(key, self.language)}, preview=None, result=None, cap=cap)
        log.info("console_resend", caller=self.principal.name, by=by, reason=values["reason"],
                 selected=result.selected, rearmed=result.rearmed)
        return self.render("resend.html", values=values, errors={}, preview=None, result=result, by=by, cap=cap)

    # -- routing -----------------------------------------------------------------------------------------------
    def routing(self, query: Mapping[str, list[str]]) -> Page:
        routing = self.deps.routing
        asked = {"contract": _first(query, "contract") or self.deps.status_contract,
                 "address": _first(query, "address"), "consumer": _first(query, "consumer"),
                 "on": _first(query, "on") or routing.today().isoformat()}
        explained, error = None, None
        if asked["address"]:
            try:
                on = date.fromisoformat(asked["on"])
            except ValueError:
                error = f"{asked['on']!r}: YYYY-MM-DD"
            else:
                explained = routing.explain(asked["contract"], asked["address"], asked["consumer"] or None, on)
        units, findings = routing.check()
        return self.render("routing.html", asked=asked, explained=explained, error=error,
                           contracts=routing.contracts(), versions=routing.versions(), units=units,
                           findings=findings, query=urlencode)

    def version(self, version: int) -> Page:
        found = self.deps.routing.version_diff(version)
        if found is None:
            raise ApiError(404, "VERSION_NOT_KEPT", f"catalogue version {version} (or the one before it) is not kept")
        return self.render("version.html", version=version, changes=found.changes)

    def pdl(self) -> Page:
        return self.render("pdl.html", chain=chain_json(self.deps.pdl.verify()))


RESEND_FIELDS = ("event_ids", "certificate_id", "unit", "care_giver", "since", "until", "include_delivered", "max",
                 "reason")
_FORM_FIELD = {"eventIds": "event_ids", "certificateId": "certificate_id", "unit": "unit", "careGiver": "care_giver",
               "since": "since", "until": "until", "includeDelivered": "include_delivered"}


def _selection_body(values: Mapping[str, str]) -> dict[str, Any]:
    """The form's criteria as the operations API's resend body, so both are read by one function."""
    body: dict[str, Any] = {}
    ids = [part for part in re.split(r"[\s,;]+", values["event_ids"]) if part]
    if ids:
        if not all(part.isdigit() for part in ids):
            raise ApiError(400, "INVALID_FIELD", "event ids are numbers, separated by commas", field="eventIds")
        body["eventIds"] = [int(part) for part in ids]
    for form_name, api_name in (("certificate_id", "certificateId"), ("unit", "unit"), ("care_giver", "careGiver"),
                                ("since", "since"), ("until", "until")):
        if values[form_name]:
            body[api_name] = values[form_name]
    if values["include_delivered"]:
        body["includeDelivered"] = True
    return body


def _first(values: Mapping[str, list[str]], name: str) -> str:
    found = values.get(name)
    return found[0] if found else ""
