"""Who calls the operations API, and what they may do: credentials, scopes and the acting user.

A caller is a ``Principal``: a name for the log, its scopes, and the user it acts as (None for a
machine caller not bound to a user). The acting user (``hanteratAv``, the PDL record's user) comes
only from the verified credential, never from a header anyone could write. Three kinds of
credential, tried in this order on ``Authorization: Bearer <credential>``:

* **Service tokens** (``ServiceTokens``), for machine callers: named, each stored as the SHA-256 of
  the token (the file never holds a usable secret), with its scopes and optionally the user it is
  bound to. A token of 32 random bytes makes the unsalted hash safe against guessing.
* **OIDC/JWT bearer tokens** (``OidcTokens``), for people: verified with PyJWT against the issuer's
  keys (a JWKS file, or a JWKS URL fetched and cached, fetched again when a token names an unknown
  key id), with an algorithm allow-list (never ``none`` or HMAC: a public key must not double as a
  shared secret), issuer, audience, expiry and not-before (30 s leeway for clock skew). The user's
  HSA-id is the configured claim; the scopes are those of ours named in ``scope`` (space-separated)
  or ``scp`` (a list).
* **The development token** (``DevelopmentToken``): the single static ``internal_api_token`` of
  earlier releases, with every scope and the acting user taken from ``X-Acting-User``, exactly the
  hole the security review found; kept only for local development, and flagged at start and on
  ``/readyz``.

Rules (``authorize``): the route's scope must be granted (403 ``SCOPE_MISSING``); a route that acts
on patient data needs a user (403 ``USER_REQUIRED``); signing, revoking and deleting need a
user-bound credential; an ``X-Acting-User`` header naming someone else than the credential's user is
refused (403 ``USER_MISMATCH``). Missing or bad credentials are 401 with a code
(``UNAUTHORIZED``, ``TOKEN_INVALID``, ``TOKEN_EXPIRED``). The operator console (``gateway.console``)
and ``/metrics`` reuse these credentials and rules through ``InternalApi.admit``.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt

from domain.values import HsaId

USER_HEADER = "X-Acting-User"
LEEWAY_SECONDS = 30
JWKS_CACHE_SECONDS = 300
FORBIDDEN_ALGORITHMS = frozenset({"none", "HS256", "HS384", "HS512"})


class Scope(StrEnum):
    """What a credential may do; each operations API route needs one."""

    READ = "read"
    EDIT = "edit"
    SIGN = "sign"
    SEND = "send"
    REVOKE = "revoke"
    DELETE = "delete"
    RESEND = "resend"
    PDL_READ = "pdl-read"
    METRICS = "metrics"  # GET /metrics on the main port (Prometheus's service token needs only this)


#: Scopes whose operations a person must be answerable for: never by an unbound machine credential.
USER_BOUND_SCOPES = frozenset({Scope.SIGN, Scope.REVOKE, Scope.DELETE})


class AuthError(Exception):
    """A refusal: HTTP ``status`` (401 or 403), a stable ``code`` and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller: ``kind`` (service, user, development), a name for the log, scopes, and its user."""

    kind: str
    name: str
    scopes: frozenset[Scope]
    user: HsaId | None = None


class Authenticator:
    """One kind of credential: ``authenticate`` returns the principal, None when the credential is not
    of this kind, or raises ``AuthError`` when it is of this kind but not valid."""

    kind = ""

    def authenticate(self, credential: str, headers: Mapping[str, str]) -> Principal | None:
        raise NotImplementedError


def _scopes(values: Sequence[str], where: str) -> frozenset[Scope]:
    try:
        return frozenset(Scope(value) for value in values)
    except ValueError:
        raise ValueError(f"{where}: scopes must be among {', '.join(s.value for s in Scope)}") from None


@dataclass(frozen=True, slots=True)
class ServiceToken:
    """A named machine credential: the SHA-256 of its secret, its scopes and an optional bound user."""

    name: str
    sha256: str
    scopes: frozenset[Scope]
    user: HsaId | None = None


def token_hash(token: str) -> str:
    """What the service token file stores for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ServiceTokens(Authenticator):
    """Service tokens from a TOML file: ``[[token]]`` tables with ``name``, ``sha256``, ``scopes`` and ``user``."""

    kind = "service"

    def __init__(self, tokens: Sequence[ServiceToken]) -> None:
        self.tokens = tuple(tokens)

    @classmethod
    def from_file(cls, path: str) -> ServiceTokens:
        """Read the file; ``ValueError`` naming the entry for a missing field, a bad hash or an unknown scope."""
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        tokens = []
        for index, entry in enumerate(data.get("token", [])):
            where = f"{path}: token {index + 1}"
            try:
                name, digest, scopes = str(entry["name"]), str(entry["sha256"]).lower(), list(entry["scopes"])
            except (KeyError, TypeError):
                raise ValueError(f"{where}: give name, sha256 and scopes") from None
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError(f"{where} ({name}): sha256 is not 64 hex digits")
            user = HsaId(str(entry["user"])) if entry.get("user") else None
            tokens.append(ServiceToken(name, digest, _scopes(scopes, where), user))
        return cls(tokens)

    def authenticate(self, credential: str, headers: Mapping[str, str]) -> Principal | None:
        digest = token_hash(credential)
        for token in self.tokens:
            if hmac.compare_digest(digest, token.sha256):
                return Principal(self.kind, f"token:{token.name}", token.scopes, token.user)
        return None


class JwksSource:
    """The issuer's signing keys: a JWKS file read once, or a URL fetched and cached (``PyJWKClient``).

    A token naming an unknown key id refetches the URL, at most once per ``refetch_seconds``, so that
    tokens with made-up key ids cannot make the gateway hammer the issuer.
    """

    def __init__(self, location: str, refetch_seconds: float = 30.0) -> None:
        self.location = location
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._lock = threading.Lock()
        if location.startswith(("https://", "http://")):
            self._client = jwt.PyJWKClient(
                location, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS, timeout=5, cooldown_duration=refetch_seconds
            )
        else:
            self._keys = jwt.PyJWKSet.from_json(Path(location).read_text(encoding="utf-8"))

    def key_for(self, token: str) -> Any:
        if self._client is not None:
            with self._lock:  # one fetch at a time; PyJWKClient refetches for an unknown kid
                return self._client.get_signing_key_from_jwt(token).key
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise jwt.InvalidTokenError(f"no key with kid {kid!r} in {self.location}")


class OidcTokens(Authenticator):
    """JWT bearer tokens of an OIDC issuer, for people; the user's HSA-id from ``hsa_claim``."""

    kind = "user"

    def __init__(self, issuer: str, audience: str, keys: JwksSource, algorithms: Sequence[str], hsa_claim: str) -> None:
        forbidden = FORBIDDEN_ALGORITHMS.intersection(algorithms)
        if forbidden or not algorithms:
            raise ValueError(
                f"token algorithms {sorted(forbidden)} are not allowed: use asymmetric ones (RS256, ES256, EdDSA)"
            )
        if not issuer or not audience:
            raise ValueError("OIDC tokens need both an issuer and an audience")
        self.issuer, self.audience, self.keys = issuer, audience, keys
        self.algorithms = list(algorithms)
        self.hsa_claim = hsa_claim

    def authenticate(self, credential: str, headers: Mapping[str, str]) -> Principal | None:
        if credential.count(".") != 2:
            return None  # not a JWT: another authenticator's kind
        try:
            claims = jwt.decode(
                credential, self.keys.key_for(credential), algorithms=self.algorithms, audience=self.audience,
                issuer=self.issuer, leeway=LEEWAY_SECONDS, options={"require": ["exp", "iss", "aud", "sub"]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "TOKEN_EXPIRED", "the bearer token has expired") from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as error:
            raise AuthError(401, "TOKEN_INVALID", f"the bearer token was refused: {type(error).__name__}") from None
        hsa = claims.get(self.hsa_claim)
        if not isinstance(hsa, str) or not hsa.strip():
            raise AuthError(403, "USER_REQUIRED", f"the token has no {self.hsa_claim} claim with the user's HSA-id")
        named = claims.get("scope", "")
        requested = named.split() if isinstance(named, str) else []
        if isinstance(claims.get("scp"), list):
            requested += [str(s) for s in claims["scp"]]
        scopes = frozenset(Scope(s) for s in requested if s in Scope._value2member_map_)
        return Principal(self.kind, f"oidc:{claims['sub']}", scopes, HsaId(hsa.strip()))


class DevelopmentToken(Authenticator):
    """The single static token of earlier releases: every scope, the user from ``X-Acting-User``. Development only."""

    kind = "development"
    WARNING = ("DEVELOPMENT TOKEN: one shared internal_api_token lets its holder act as any user named in "
               "X-Acting-User; configure OIDC tokens and service tokens for production")  # fmt: skip

    def __init__(self, token: str) -> None:
        self._token = token.encode("utf-8")

    def authenticate(self, credential: str, headers: Mapping[str, str]) -> Principal | None:
        if not hmac.compare_digest(credential.encode("utf-8"), self._token):
            return None
        named = headers.get(USER_HEADER.lower(), "").strip()
        return Principal(self.kind, "development-token", frozenset(Scope), HsaId(named) if named else None)


class Credentials:
    """The configured authenticators, tried in order: what the operations API (and later endpoints) checks with."""

    def __init__(self, authenticators: Sequence[Authenticator]) -> None:
        self.authenticators = tuple(authenticators)

    @property
    def enabled(self) -> bool:
        return bool(self.authenticators)

    @property
    def development(self) -> bool:
        return any(isinstance(a, DevelopmentToken) for a in self.authenticators)

    def authenticate(self, authorization: str, headers: Mapping[str, str]) -> Principal:
        """The principal of an ``Authorization`` header value; ``AuthError`` 401 when there is none."""
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthError(401, "UNAUTHORIZED", "give a bearer token: Authorization: Bearer <token>")
        for authenticator in self.authenticators:
            principal = authenticator.authenticate(credential, headers)
            if principal is not None:
                return principal
        raise AuthError(401, "UNAUTHORIZED", "the bearer token is not known")

    def describe(self) -> dict[str, Any]:
        """What ``/readyz`` shows: the kinds configured, and the development token loudly."""
        described: dict[str, Any] = {"credentials": [a.kind for a in self.authenticators]}
        if self.development:
            described["warning"] = DevelopmentToken.WARNING
        return described


def authorize(principal: Principal, scope: Scope, needs_user: bool, headers: Mapping[str, str]) -> HsaId | None:
    """Check ``principal`` for a route; return the acting user (None for routes that need none)."""
    if scope not in principal.scopes:
        raise AuthError(403, "SCOPE_MISSING", f"the credential {principal.name} lacks the scope {scope.value}")
    named = headers.get(USER_HEADER.lower(), "").strip()
    if named and principal.user is not None and named.casefold() != principal.user.value.casefold():
        raise AuthError(403, "USER_MISMATCH", f"{USER_HEADER} names another user than the credential's")
    if (needs_user or scope in USER_BOUND_SCOPES) and principal.user is None:
        raise AuthError(403, "USER_REQUIRED", f"{scope.value} needs a credential bound to a user")
    return principal.user if needs_user or scope in USER_BOUND_SCOPES else None
