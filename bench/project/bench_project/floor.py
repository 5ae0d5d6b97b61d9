"""Floor views: a bare Django view doing only a scenario's cryptography, nothing else.

They read the same signing key and client key the real server uses (loaded once per process)
so the ratio oauth_token / floor is the cost of everything that is not cryptography.
"""

from __future__ import annotations

import secrets
import time
from functools import lru_cache
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bench_project import floor_db
from oauth_token.registry import keyring


@lru_cache(maxsize=1)
def _signing() -> tuple[str, Any]:
    return keyring.signing_key("RS256")


@lru_cache(maxsize=1)
def _client_key() -> Any:
    from oauth_token.models import Client

    jwks = Client.objects.get(name="bench-pkjwt").jwks
    return jwt.PyJWK(jwks["keys"][0]).key


def _proof_key(proof: str) -> Any:
    """A DPoP proof carries its own key in the header (RFC 9449 §4.2)."""
    return jwt.PyJWK(jwt.get_unverified_header(proof)["jwk"]).key


def _token() -> dict[str, Any]:
    kid, key = _signing()
    now = int(time.time())
    claims = {
        "iss": "http://127.0.0.1:8000/",
        "sub": "bench@clients",
        "aud": "https://api.example.com",
        "iat": now,
        "exp": now + 86400,
        "jti": secrets.token_urlsafe(16),
        "client_id": "bench",
        "scope": "read:things write:things",
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})
    return {"access_token": token, "token_type": "Bearer", "expires_in": 86400}


@csrf_exempt
def sign_only(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_token())


@csrf_exempt
def verify_and_sign(request: HttpRequest) -> JsonResponse:
    """Verify one JWT from the body (a client assertion or DPoP proof), then sign one."""
    assertion = request.POST.get("client_assertion")
    proof = assertion or request.headers.get("DPoP", "")
    key = _client_key() if assertion else _proof_key(proof)
    jwt.decode(proof, key, algorithms=["ES256", "RS256"], options={"verify_aud": False})
    return JsonResponse(_token())


@csrf_exempt
def sign_twice(request: HttpRequest) -> JsonResponse:
    """Code redemption with openid signs an access token and an ID token."""
    body = _token()
    body["id_token"] = _token()["access_token"]
    return JsonResponse(body)


def _consume(request: HttpRequest) -> JsonResponse | None:
    """The database floor's work; an error answer when the artefact was already used."""
    if not floor_db.consume_and_replace(request.POST["artefact"], secrets.token_urlsafe(32)):
        return JsonResponse({"error": "invalid_grant"}, status=400)
    return None


@csrf_exempt
def db_sign(request: HttpRequest) -> JsonResponse:
    """Refresh rotation's database floor: consume + replace, then sign one access token."""
    return _consume(request) or JsonResponse(_token())


@csrf_exempt
def db_sign_twice(request: HttpRequest) -> JsonResponse:
    """Code redemption's database floor: consume + replace, then sign two JWTs."""
    refused = _consume(request)
    if refused is not None:
        return refused
    body = _token()
    body["id_token"] = _token()["access_token"]
    return JsonResponse(body)


@csrf_exempt
def db_password_sign(request: HttpRequest) -> JsonResponse:
    """The password grant's database floor: the password check and signature of
    ``password_sign`` plus one INSERT of the refresh token it issues, in a transaction."""
    user = get_user_model().objects.get(username=request.POST["username"])
    if not user.check_password(request.POST["password"]):
        return JsonResponse({"error": "invalid_grant"}, status=400)
    refresh_token = secrets.token_urlsafe(32)
    floor_db.insert_one(refresh_token)
    return JsonResponse({**_token(), "refresh_token": refresh_token})


@csrf_exempt
def password_sign(request: HttpRequest) -> JsonResponse:
    """The password grant's floor: one password check (the project's hasher), one signature."""
    user = get_user_model().objects.get(username=request.POST["username"])
    if not user.check_password(request.POST["password"]):
        return JsonResponse({"error": "invalid_grant"}, status=400)
    return JsonResponse(_token())
