"""Operations API callers bound to credentials: a forged X-Acting-User, stolen scopes and bad tokens fail.

Keys and tokens are made here: an RSA and an EC key, a JWKS file, and a JWKS URL served on loopback
(with a key rotation the URL must pick up). The routes are stand-ins that echo the acting user, so
each refusal is the authentication layer's own; the real routes carry the same scopes.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import gateway.internal_api as internal_api
from cli.settings import Settings
from cli.wiring import api_credentials
from gateway.internal_api import ApiRoute, InternalApi, Request, Response
from gateway.internal_api.auth import (
    Credentials,
    DevelopmentToken,
    JwksSource,
    OidcTokens,
    Scope,
    ServiceTokens,
    token_hash,
)
from tests.unit.gateway.test_internal_api import call

ISSUER, AUDIENCE = "https://idp.region.example/realms/care", "intygsgateway-ops"
DOCTOR, OTHER = "SE2321000016-P001", "SE2321000016-P999"


def _echo(request: Request) -> Response:
    return Response(
        200, {"user": request.acting_user().value, "caller": request.principal.name if request.principal else None}
    )


def _plain(request: Request) -> Response:
    return Response(200, {"ok": True})


ROUTES = [
    ApiRoute("GET", "/certificates/{certificate_id}", _echo, "read", "t", acting_user=True),
    ApiRoute("POST", "/certificates/{certificate_id}/sign", _echo, "sign", "t", acting_user=True, scope=Scope.SIGN),
    ApiRoute("POST", "/outbox/resend", _plain, "resend", "t", scope=Scope.RESEND),
    ApiRoute("GET", "/outbox/status", _plain, "status", "t"),
]


class Keys:
    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())

    def jwks(self, *which: str) -> str:
        keys = []
        for kid in which or ("rsa-1", "ec-1"):
            key = self.rsa if kid.startswith("rsa") else self.ec
            public = key.public_key()
            if isinstance(public, rsa.RSAPublicKey):
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
            else:
                jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
            keys.append({**jwk, "kid": kid, "use": "sig"})
        return json.dumps({"keys": keys})

    def token(self, kid: str = "rsa-1", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "hsa_id": DOCTOR, "exp": now + 300, "nbf": now - 5,
                "iat": now, "scope": "read edit sign", **claims}  # fmt: skip
        key, alg = (self.rsa, "RS256") if kid.startswith("rsa") else (self.ec, "ES256")
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture
def api(keys: Keys, tmp_path: Path) -> InternalApi:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(keys.jwks())
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(f"""
[[token]]
name = "batch-resender"
sha256 = "{token_hash("machine-secret-1")}"
scopes = ["resend", "read", "sign"]

[[token]]
name = "bound-signer"
sha256 = "{token_hash("machine-secret-2")}"
scopes = ["read", "sign"]
user = "{DOCTOR}"
""")
    oidc = OidcTokens(ISSUER, AUDIENCE, JwksSource(str(jwks)), ["RS256", "ES256"], "hsa_id")
    return InternalApi(ROUTES, credentials=Credentials([ServiceTokens.from_file(str(tokens)), oidc]))


def test_a_forged_acting_user_header_is_refused(api: InternalApi, keys: Keys) -> None:
    """The review's attack: a valid credential plus X-Acting-User naming someone else."""
    status, _, body = call(api, "GET", "/certificates/c-1", token=keys.token(), headers={"X-Acting-User": OTHER})
    assert (status, body["code"]) == (403, "USER_MISMATCH")
    status, _, body = call(api, "GET", "/certificates/c-1", token="machine-secret-2", headers={"X-Acting-User": OTHER})
    assert (status, body["code"]) == (403, "USER_MISMATCH")
    # An unbound machine credential cannot borrow a user by naming one.
    status, _, body = call(api, "GET", "/certificates/c-1", token="machine-secret-1", headers={"X-Acting-User": DOCTOR})
    assert (status, body["code"]) == (403, "USER_REQUIRED")


def test_the_acting_user_is_the_credentials(api: InternalApi, keys: Keys) -> None:
    assert call(api, "GET", "/certificates/c-1", token=keys.token())[2] == {"user": DOCTOR, "caller": "oidc:user-1"}
    assert (
        call(api, "GET", "/certificates/c-1", token=keys.token("ec-1"), headers={"X-Acting-User": DOCTOR.lower()})[0]
        == 200
    )
    assert call(api, "POST", "/certificates/c-1/sign", token="machine-secret-2")[2]["user"] == DOCTOR


def test_scopes_limit_what_a_credential_may_do(api: InternalApi, keys: Keys) -> None:
    status, _, body = call(api, "POST", "/outbox/resend", token=keys.token())  # a user token without resend
    assert (status, body["code"]) == (403, "SCOPE_MISSING")
    assert call(api, "POST", "/outbox/resend", token="machine-secret-1")[0] == 200
    status, _, body = call(api, "POST", "/certificates/c-1/sign", token="machine-secret-1")  # sign needs a user
    assert (status, body["code"]) == (403, "USER_REQUIRED")
    status, _, body = call(api, "POST", "/certificates/c-1/sign", token=keys.token(scope="read edit"))
    assert (status, body["code"]) == (403, "SCOPE_MISSING")


@pytest.mark.parametrize(
    ("change", "code"),
    [  # each a function of the time the test runs (not of when the suite was collected, minutes before)
        (lambda now: {"exp": now - 120}, "TOKEN_EXPIRED"),
        (lambda now: {"nbf": now + 600}, "TOKEN_INVALID"),
        (lambda now: {"aud": "another-service"}, "TOKEN_INVALID"),
        (lambda now: {"iss": "https://evil.example"}, "TOKEN_INVALID"),
        (lambda now: {"exp": None}, "TOKEN_INVALID"),
    ],
)
def test_tokens_with_wrong_claims_are_401(api: InternalApi, keys: Keys, change: Callable[[int], dict[str, Any]],
                                          code: str) -> None:
    status, headers, body = call(api, "GET", "/outbox/status", token=keys.token(**change(int(time.time()))))
    assert (status, body["code"]) == (401, code)
    assert headers["WWW-Authenticate"].startswith("Bearer")


def test_forged_signatures_and_algorithms_are_401(api: InternalApi, keys: Keys) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "hsa_id": DOCTOR, "exp": now + 60, "scope": "read"}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "rsa-1"})  # type: ignore[arg-type]
    other_key = jwt.encode(claims, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256",
                           headers={"kid": "rsa-1"})  # fmt: skip
    public_pem = keys.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    confused = _hs256(claims, public_pem)  # the public key used as an HMAC secret
    for token in (unsigned, other_key, confused, "not.a.jwt", "garbage"):
        status, _, body = call(api, "GET", "/outbox/status", token=token)
        assert status == 401 and body["code"] in ("TOKEN_INVALID", "UNAUTHORIZED"), token


def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
        + b"."
        + b64(json.dumps(claims).encode())
    )
    return (signing + b"." + b64(hmac.new(secret, signing, hashlib.sha256).digest())).decode()


def test_hmac_and_none_are_never_allowed() -> None:
    with pytest.raises(ValueError):
        OidcTokens(ISSUER, AUDIENCE, None, ["HS256"], "hsa_id")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        OidcTokens(ISSUER, AUDIENCE, None, ["none", "RS256"], "hsa_id")  # type: ignore[arg-type]


@pytest.fixture
def jwks_url(keys: Keys) -> Iterator[tuple[str, list[str]]]:
    """A JWKS URL on loopback whose content the test can change (a key rotation)."""
    current = [keys.jwks("rsa-1")]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = current[0].encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/jwks", current
    finally:
        server.shutdown()
        server.server_close()


def test_a_jwks_url_is_fetched_and_refetched_for_a_rotated_key(keys: Keys, jwks_url: tuple[str, list[str]]) -> None:
    url, current = jwks_url
    api = InternalApi(
        ROUTES,
        credentials=Credentials(
            [OidcTokens(ISSUER, AUDIENCE, JwksSource(url, refetch_seconds=0), ["RS256", "ES256"], "hsa_id")]
        ),
    )
    assert call(api, "GET", "/certificates/c-1", token=keys.token("rsa-1"))[0] == 200
    assert call(api, "GET", "/certificates/c-1", token=keys.token("ec-1"))[0] == 401  # not published yet
    current[0] = keys.jwks("rsa-1", "ec-1")
    assert call(api, "GET", "/certificates/c-1", token=keys.token("ec-1"))[0] == 200


def test_the_development_token_is_flagged_and_every_call_is_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(internal_api_token="dev")
    credentials = api_credentials(settings)
    assert credentials.development and "DEVELOPMENT TOKEN" in credentials.describe()["warning"]
    api = InternalApi(ROUTES, credentials=credentials)
    assert "DEVELOPMENT TOKEN" in api.describe()["warning"]
    with structlog.testing.capture_logs() as logs:
        # A fresh logger: another test's configuration may have cached the module's one.
        monkeypatch.setattr(internal_api, "log", structlog.get_logger("gateway.internal_api"))
        call(api, "GET", "/certificates/c-1", token="dev", headers={"X-Acting-User": DOCTOR})
        call(api, "POST", "/outbox/resend", token="wrong")
    calls = [entry for entry in logs if entry["event"] == "internal_api_call"]
    assert calls[0]["caller"] == "development-token" and calls[0]["scope"] == "read" and calls[0]["user"] == DOCTOR
    assert calls[1]["status"] == 401 and calls[1]["code"] == "UNAUTHORIZED"
    assert DevelopmentToken("x").kind == "development"
