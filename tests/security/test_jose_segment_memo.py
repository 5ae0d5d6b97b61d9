"""jose's PyJWS remembers the decoding of recent base64url segments (a token is parsed by the
peek that chooses its key, then by the verifying decode). The memo must answer exactly what
PyJWT answers, failures included, and must never let a token through on the strength of an
earlier parse of another."""

from __future__ import annotations

import base64
import random
import time

import jwt
import pytest

from oauth_token.core import jose
from tests import kit

SEGMENTS = [
    b"",
    b"e30",
    b"eyJhbGciOiJFUzI1NiJ9",
    b"eyJhbGciOiJFUzI1NiJ9=",
    b"e30==",
    b"e30===",
    b"e3",
    b"e",
    b"e3!0",
    b"e3 0",
    b"e3+/",
    b"e3_-",
    b"YQ",
    b"YR",
    b"YQ==",
    b"Y===",
    "é30".encode(),
]


def _outcome(decode, segment: bytes) -> tuple[str, object]:
    try:
        return ("ok", decode(segment, "payload"))
    except Exception as exc:  # the comparison is the point
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("segment", SEGMENTS)
def test_memo_answers_what_pyjwt_answers(segment):
    pyjwt = jwt.api_jws.PyJWS._decode_base64url_segment
    ours = jose._JWT._jws._decode_base64url_segment
    assert _outcome(ours, segment) == _outcome(pyjwt, segment)
    # Asked again (a hit, or a failure that was not remembered): the same answer.
    assert _outcome(ours, segment) == _outcome(pyjwt, segment)


def test_fast_path_answers_what_pyjwt_answers_on_random_segments():
    """The alphabet check without PyJWT's per-character generator: same bytes on success,
    PyJWT's own error otherwise (a seeded sample of valid, padded, truncated, non-canonical
    and foreign-character segments)."""
    rng = random.Random(16)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    noise = alphabet + b"=+/ !.\x00\xff"
    pyjwt = jwt.api_jws.PyJWS._decode_base64url_segment
    for _ in range(3000):
        raw = rng.randbytes(rng.randrange(0, 40))
        segment = base64.urlsafe_b64encode(raw)
        choice = rng.randrange(5)
        if choice == 1:
            segment = segment.rstrip(b"=")
        elif choice == 2:
            segment = segment.rstrip(b"=")[: rng.randrange(0, len(segment) + 1)]
        elif choice == 3:
            segment = bytes(rng.choice(noise) for _ in range(rng.randrange(0, 12)))
        elif choice == 4 and segment:
            i = rng.randrange(len(segment))
            segment = segment[:i] + bytes([rng.choice(noise)]) + segment[i + 1 :]
        expected = _outcome(pyjwt, segment)
        assert _outcome(jose._decoded_segment.__wrapped__, segment) == expected, segment


def _assertion(key, **claims):
    now = int(time.time())
    body = {"iss": "c", "sub": "c", "aud": "a", "iat": now, "exp": now + 60, "jti": "j"}
    return jwt.encode({**body, **claims}, key, algorithm="ES256", headers={"kid": "k"})


def test_a_peeked_token_with_another_signature_is_refused():
    key = kit.generate_key("ES256")
    token = _assertion(key)
    jose.peek(token)
    jose.verify(token, key.public_key(), ["ES256"], audience="a", peeked=True)
    forged = token.rsplit(".", 1)[0] + "." + _assertion(kit.generate_key("ES256")).rsplit(".")[2]
    jose.peek(forged)
    with pytest.raises(jose.JoseError, match="signature"):
        jose.verify(forged, key.public_key(), ["ES256"], audience="a", peeked=True)


def test_a_malformed_segment_fails_every_time():
    key = kit.generate_key("ES256")
    header, payload, signature = _assertion(key).split(".")
    broken = f"{header}.{payload}!.{signature}"
    for _ in range(2):
        with pytest.raises(jose.JoseError):
            jose.peek(broken)
        with pytest.raises(jose.JoseError):
            jose.verify(broken, key.public_key(), ["ES256"], audience="a", peeked=True)
