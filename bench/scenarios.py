"""Scenario preparation for bench/run.py: resets the database, creates keys, APIs and clients
for every contender, and writes the request files wrk replays (one request per line).

Runs in its own process (``python bench/scenarios.py PLAN.json``) because Django can be set up
only once per process and the harness prepares SQLite and PostgreSQL in turn.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
AUDIENCE = "https://api.example.com"
ISSUER = "http://127.0.0.1:8000/"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REDIRECT_URI = "http://127.0.0.1:9/callback"
BENCH_PASSWORD = "bench-password-0123456789"


@dataclass
class Contender:
    name: str
    path: str
    warmup_file: Path
    files: list[Path]


@dataclass
class Plan:
    name: str
    contenders: list[Contender] = field(default_factory=list)


SCENARIOS = [
    "cc_basic",
    "cc_private_key_jwt",
    "cc_dpop",
    "code_redemption",
    "refresh_rotation",
    "password",
    "mixed",
    "cc_overhead",
]


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def line(body: dict[str, str] | str, **headers: str) -> str:
    text = body if isinstance(body, str) else urlencode(body)
    return "|".join(f"{k}: {v}" for k, v in headers.items()) + "\t" + text


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# --- preparation, inside Django ----------------------------------------------------------


def reset_database() -> None:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        Path(db["NAME"]).unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


class World:
    """Everything the scenarios need, built through the same functions the commands use."""

    def __init__(self, work: Path, warm: int = 1000):
        from django.core.management import call_command

        from oauth_token.registry import keyring, provisioning

        self.work = work
        self.warm = warm
        call_command("migrate", verbosity=0)
        from bench_project import floor_db

        floor_db.create_tables()
        keyring.rotate("RS256")
        self.api = provisioning.create_api(
            identifier=AUDIENCE,
            name="Bench API",
            scopes=["read:things", "write:things"],
            allow_offline_access=True,
        )
        created = provisioning.create_client(name="bench-basic", grant_types=["client_credentials"])
        provisioning.grant(created.client, self.api)
        self.basic = (created.client.client_id, created.secret)
        self.es_key = self._es256_key()
        from oauth_token.core import jose

        jwk = jose.public_jwk(self.es_key, "bench-es", "ES256")
        refresh = provisioning.create_client(
            name="bench-refresh", grant_types=["refresh_token", "password"]
        )
        self.refresh_client = (refresh.client.client_id, refresh.secret)
        web = provisioning.create_client(
            name="bench-web",
            grant_types=["authorization_code", "refresh_token"],
            redirect_uris=[REDIRECT_URI],
        )
        self.web_client = (web.client.client_id, web.secret)
        self.dpop_key = self._es256_key()
        self.dpop_jwk = {
            k: v
            for k, v in jose.public_jwk(self.dpop_key, "x", "ES256").items()
            if k in ("kty", "crv", "x", "y")
        }
        pk = provisioning.create_client(
            name="bench-pkjwt",
            grant_types=["client_credentials"],
            auth_method="private_key_jwt",
            jwks={"keys": [jwk]},
        )
        provisioning.grant(pk.client, self.api)
        self.pkjwt_id = pk.client.client_id
        self.dot = self._dot_apps()
        self.user = self._user()
        self.dot_web = self._dot_app("dot-web", "authorization-code", [REDIRECT_URI])
        self.dot_password = self._dot_app("dot-password", "password", [])

    @staticmethod
    def _es256_key() -> Any:
        from cryptography.hazmat.primitives.asymmetric import ec

        return ec.generate_private_key(ec.SECP256R1())

    def _dot_apps(self) -> dict[str, tuple[str, str]]:
        from oauth2_provider.models import Application

        apps = {}
        for name, hashed in (("dot_hashed_secret", True), ("dot_plain_secret", False)):
            secret = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
            app = Application.objects.create(
                name=name,
                client_type="confidential",
                authorization_grant_type="client-credentials",
                client_secret=secret,
                hash_client_secret=hashed,
            )
            apps[name] = (app.client_id, secret)
        return apps

    @staticmethod
    def _user() -> Any:
        from django.contrib.auth import get_user_model

        user, _ = get_user_model().objects.get_or_create(username="bench-user")
        user.set_password(BENCH_PASSWORD)
        user.save()
        return user

    @staticmethod
    def _dot_app(name: str, grant: str, redirects: list[str]) -> tuple[Any, str]:
        """A django-oauth-toolkit application with a plain-text secret (its fastest set-up),
        signing ID tokens with RS256 like ours."""
        from oauth2_provider.models import Application

        secret = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        app = Application.objects.create(
            name=name,
            client_type="confidential",
            authorization_grant_type=grant,
            client_secret=secret,
            hash_client_secret=False,
            redirect_uris=" ".join(redirects),
            algorithm="RS256",
            skip_authorization=True,
        )
        return app, secret

    def assertion(self) -> str:
        import jwt

        now = int(time.time())
        claims = {
            "iss": self.pkjwt_id,
            "sub": self.pkjwt_id,
            "aud": ISSUER + "oauth/token",
            "iat": now,
            "exp": now + 3000,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.es_key, algorithm="ES256", headers={"kid": "bench-es"})

    def dpop_proof(self) -> str:
        import jwt

        claims = {
            "htm": "POST",
            "htu": ISSUER + "oauth/token",
            "iat": int(time.time()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims,
            self.dpop_key,
            algorithm="ES256",
            headers={"typ": "dpop+jwt", "jwk": self.dpop_jwk},
        )

    def files(
        self, scenario: str, contender: str, make: Any, n: int, rounds: int
    ) -> tuple[Path, list[Path]]:
        """A warm-up file and one file per round (spares included); ``n == 1``: a fixed
        request, cycled."""
        base = self.work / f"{scenario}.{contender}"
        warm_n = 1 if n == 1 else self.warm
        warm = write_lines(Path(f"{base}.warm"), [make() for _ in range(warm_n)])
        return warm, [
            write_lines(Path(f"{base}.r{i}"), [make() for _ in range(n)]) for i in range(rounds)
        ]

    def add(self, plan: Plan, name: str, path: str, make: Any, n: int, rounds: int) -> None:
        warm, files = self.files(plan.name, name, make, n, rounds)
        plan.contenders.append(Contender(name, path, warm, files))

    def pool_size(self, n: int, rounds: int) -> int:
        """Artefacts one single-use contender needs: its rounds plus the warm-up."""
        return n * rounds + self.warm


def plan_cc_basic(world: World, n: int, rounds: int) -> Plan:
    plan = Plan("cc_basic")
    body = {"grant_type": "client_credentials", "audience": AUDIENCE}
    # The floor is sent the very request oauth_token is sent (it ignores what it does not
    # need), so the load generator and gunicorn do the same work for both.
    ours = line(body, Authorization=basic(*world.basic))
    contenders = [
        ("floor", "/floor/sign", lambda: ours),
        ("oauth_token", "/oauth/token", lambda: ours),
    ]
    for name, (cid, secret) in world.dot.items():
        dot_line = line(
            {"grant_type": "client_credentials", "scope": "read:things"},
            Authorization=basic(cid, secret),
        )
        contenders.append((name, "/dot/token/", lambda dot_line=dot_line: dot_line))
    for name, path, make in contenders:
        # Fixed-body scenarios need only one line, cycled.
        warm, files = world.files(plan.name, name, make, 1, rounds)
        plan.contenders.append(Contender(name, path, warm, files))
    return plan


def plan_cc_private_key_jwt(world: World, n: int, rounds: int) -> Plan:
    plan = Plan("cc_private_key_jwt")

    def ours() -> str:
        return line(
            {
                "grant_type": "client_credentials",
                "audience": AUDIENCE,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": world.assertion(),
            }
        )

    def floor() -> str:
        return ours()

    for name, path, make, count in (
        ("floor", "/floor/verify-and-sign", floor, 1),
        ("oauth_token", "/oauth/token", ours, n),
    ):
        warm, files = world.files(plan.name, name, make, count, rounds)
        plan.contenders.append(Contender(name, path, warm, files))
    return plan


def refresh_tokens(world: World, count: int) -> list[str]:
    """Pre-issue ``count`` refresh tokens (one family each), as the password grant would."""
    from django.utils import timezone

    from oauth_token.core import secrets
    from oauth_token.models import Client
    from oauth_token.models.refresh import RefreshToken, RefreshTokenFamily

    user = world.user
    client = Client.objects.get(client_id=world.refresh_client[0])
    now = timezone.now()
    families = RefreshTokenFamily.objects.bulk_create(
        [
            RefreshTokenFamily(
                client=client,
                user=user,
                subject=str(user.pk),
                audience=AUDIENCE,
                scopes=["read:things", "offline_access"],
                grant_type="password",
                created_at=now,
                expires_at=now + timezone.timedelta(days=30),
            )
            for _ in range(count)
        ],
        batch_size=2000,
    )
    values = [secrets.new_secret(32) for _ in range(count)]
    RefreshToken.objects.bulk_create(
        [
            RefreshToken(
                family=f,
                token_digest=secrets.digest(v),
                created_at=now,
                idle_expires_at=now + timezone.timedelta(days=15),
            )
            for f, v in zip(families, values, strict=True)
        ],
        batch_size=2000,
    )
    return values


def dot_refresh_tokens(world: World, count: int) -> list[str]:
    """The same for django-oauth-toolkit: an access token and its refresh token each."""
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, RefreshToken

    app, _ = world.dot_password
    now = timezone.now()
    values = [base64.urlsafe_b64encode(os.urandom(24)).decode() for _ in range(count)]
    access = AccessToken.objects.bulk_create(
        [
            AccessToken(
                user=world.user,
                application=app,
                token=base64.urlsafe_b64encode(os.urandom(24)).decode(),
                expires=now + timezone.timedelta(hours=1),
                scope="read:things",
            )
            for _ in range(count)
        ],
        batch_size=2000,
    )
    RefreshToken.objects.bulk_create(
        [
            RefreshToken(user=world.user, application=app, token=v, access_token=a)
            for v, a in zip(values, access, strict=True)
        ],
        batch_size=2000,
    )
    return values


def floor_artefacts(count: int) -> list[str]:
    """Single-use values for the database floor (consumed by one conditional UPDATE)."""
    from bench_project import floor_db

    values = [base64.urlsafe_b64encode(os.urandom(32)).decode() for _ in range(count)]
    floor_db.store(values)
    return values


def plan_refresh_rotation(world: World, n: int, rounds: int) -> Plan:
    plan = Plan("refresh_rotation")
    size = world.pool_size(n, rounds)
    values = iter(refresh_tokens(world, size))
    dot_values = iter(dot_refresh_tokens(world, size))
    artefacts = iter(floor_artefacts(size))
    auth = basic(*world.refresh_client)
    dot_auth = basic(world.dot_password[0].client_id, world.dot_password[1])

    def ours() -> str:
        return line(
            {"grant_type": "refresh_token", "refresh_token": next(values)}, Authorization=auth
        )

    def dot() -> str:
        return line(
            {"grant_type": "refresh_token", "refresh_token": next(dot_values)},
            Authorization=dot_auth,
        )

    world.add(plan, "floor", "/floor/sign", lambda: line(""), 1, rounds)
    world.add(
        plan, "db_floor", "/floor/db/sign", lambda: line({"artefact": next(artefacts)}), n, rounds
    )
    world.add(plan, "oauth_token", "/oauth/token", ours, n, rounds)
    world.add(plan, "dot_plain_secret", "/dot/token/", dot, n, rounds)
    return plan


def authorization_codes(world: World, count: int) -> list[tuple[str, str]]:
    """Pre-issue ``count`` codes (with PKCE) as /authorize would; returns (code, verifier)."""
    from django.utils import timezone

    from oauth_token.core import jose, secrets
    from oauth_token.models import Client
    from oauth_token.models.codes import AuthorizationCode

    user = world.user
    client = Client.objects.get(client_id=world.web_client[0])
    now = timezone.now()
    pairs = [(secrets.new_secret(32), secrets.new_secret(32)) for _ in range(count)]
    AuthorizationCode.objects.bulk_create(
        [
            AuthorizationCode(
                code_digest=secrets.digest(code),
                client=client,
                user=user,
                redirect_uri=REDIRECT_URI,
                scopes=["openid", "profile", "read:things"],
                audience=AUDIENCE,
                code_challenge=jose.sha256_b64url(verifier),
                code_challenge_method="S256",
                auth_time=now,
                expires_at=now + timezone.timedelta(hours=1),
            )
            for code, verifier in pairs
        ],
        batch_size=2000,
    )
    return pairs


def dot_codes(world: World, count: int) -> list[tuple[str, str]]:
    """The same for django-oauth-toolkit (its Grant rows), scope ``openid read:things``."""
    from django.utils import timezone
    from oauth2_provider.models import Grant

    from oauth_token.core import jose, secrets

    app, _ = world.dot_web
    now = timezone.now()
    pairs = [(secrets.new_secret(32), secrets.new_secret(32)) for _ in range(count)]
    Grant.objects.bulk_create(
        [
            Grant(
                user=world.user,
                code=code,
                application=app,
                expires=now + timezone.timedelta(hours=1),
                redirect_uri=REDIRECT_URI,
                scope="openid read:things",
                code_challenge=jose.sha256_b64url(verifier),
                code_challenge_method="S256",
            )
            for code, verifier in pairs
        ],
        batch_size=2000,
    )
    return pairs


def plan_code_redemption(world: World, n: int, rounds: int) -> Plan:
    """Code + PKCE for an access token and an ID token: two signatures, so the floors sign
    two JWTs (django-oauth-toolkit signs one: its access tokens are opaque)."""
    plan = Plan("code_redemption")
    size = world.pool_size(n, rounds)
    pairs = iter(authorization_codes(world, size))
    dot_pairs = iter(dot_codes(world, size))
    artefacts = iter(floor_artefacts(size))
    auth = basic(*world.web_client)
    dot_auth = basic(world.dot_web[0].client_id, world.dot_web[1])

    def redeem(source: Any, authorization: str) -> str:
        code, verifier = next(source)
        return line(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            Authorization=authorization,
        )

    world.add(plan, "floor", "/floor/sign-twice", lambda: line(""), 1, rounds)
    world.add(
        plan,
        "db_floor",
        "/floor/db/sign-twice",
        lambda: line({"artefact": next(artefacts)}),
        n,
        rounds,
    )
    world.add(plan, "oauth_token", "/oauth/token", lambda: redeem(pairs, auth), n, rounds)
    world.add(
        plan, "dot_plain_secret", "/dot/token/", lambda: redeem(dot_pairs, dot_auth), n, rounds
    )
    return plan


def plan_password(world: World, n: int, rounds: int) -> Plan:
    """Resource-owner password grant with a refresh token (both servers issue one)."""
    plan = Plan("password")
    ours = line(
        {
            "grant_type": "password",
            "username": "bench-user",
            "password": BENCH_PASSWORD,
            "audience": AUDIENCE,
            "scope": "read:things offline_access",
        },
        Authorization=basic(*world.refresh_client),
    )
    dot = line(
        {
            "grant_type": "password",
            "username": "bench-user",
            "password": BENCH_PASSWORD,
            "scope": "read:things",
        },
        Authorization=basic(world.dot_password[0].client_id, world.dot_password[1]),
    )
    world.add(plan, "floor", "/floor/password-sign", lambda: ours, 1, rounds)
    world.add(plan, "db_floor", "/floor/db/password-sign", lambda: ours, 1, rounds)
    world.add(plan, "oauth_token", "/oauth/token", lambda: ours, 1, rounds)
    world.add(plan, "dot_plain_secret", "/dot/token/", lambda: dot, 1, rounds)
    return plan


def plan_cc_dpop(world: World, n: int, rounds: int) -> Plan:
    """client_credentials with a DPoP proof: verify one ES256 proof, sign one RS256 token."""
    plan = Plan("cc_dpop")
    auth = basic(*world.basic)

    def ours() -> str:
        return line(
            {"grant_type": "client_credentials", "audience": AUDIENCE},
            Authorization=auth,
            DPoP=world.dpop_proof(),
        )

    def floor() -> str:
        return line(
            {"grant_type": "client_credentials", "audience": AUDIENCE},
            Authorization=auth,
            DPoP=world.dpop_proof(),
        )

    for name, path, make, count in (
        ("floor", "/floor/verify-and-sign", floor, 1),
        ("oauth_token", "/oauth/token", ours, n),
    ):
        warm, files = world.files(plan.name, name, make, count, rounds)
        plan.contenders.append(Contender(name, path, warm, files))
    return plan


def plan_mixed(world: World, n: int, rounds: int) -> Plan:
    """A realistic blend on one endpoint: 50 % client_credentials (basic), 15 %
    private_key_jwt, 15 % DPoP-bound, 10 % code redemption, 10 % refresh rotation. The floor
    is the same blend of the floor views' cryptography, approximated by verify-and-sign for
    the proof-carrying 30 % and sign for the rest."""
    import random

    plan = Plan("mixed")
    rng = random.Random(7)
    total = world.pool_size(n, rounds)
    codes = iter(authorization_codes(world, total // 8 + 100))
    refresh = iter(refresh_tokens(world, total // 8 + 100))
    basic_auth = basic(*world.basic)
    web_auth = basic(*world.web_client)
    r_auth = basic(*world.refresh_client)
    cc = {"grant_type": "client_credentials", "audience": AUDIENCE}

    def ours() -> str:
        roll = rng.random()
        if roll < 0.5:
            return line(cc, Authorization=basic_auth)
        if roll < 0.65:
            return line(
                {
                    **cc,
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": world.assertion(),
                }
            )
        if roll < 0.8:
            return line(cc, Authorization=basic_auth, DPoP=world.dpop_proof())
        if roll < 0.9:
            code, verifier = next(codes)
            return line(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                },
                Authorization=web_auth,
            )
        return line(
            {"grant_type": "refresh_token", "refresh_token": next(refresh)}, Authorization=r_auth
        )

    warm, files = world.files(plan.name, "oauth_token", ours, n, rounds)
    plan.contenders.append(Contender("oauth_token", "/oauth/token", warm, files))
    return plan


def plan_cc_overhead(world: World, n: int, rounds: int) -> Plan:
    """cc_basic's request, to the token endpoint as configured (baseline) and with one
    feature on: an empty ACCESS_TOKEN_CLAIMS hook, the audit log (issue 14's budgets)."""
    plan = Plan("cc_overhead")
    body = {"grant_type": "client_credentials", "audience": AUDIENCE}
    request = line(body, Authorization=basic(*world.basic))
    for name, path in (
        ("oauth_token", "/oauth/token"),
        ("empty_claims_hook", "/variant/claims-hook/oauth/token"),
        ("audit_log", "/variant/audit-log/oauth/token"),
    ):
        warm, files = world.files(plan.name, name, lambda: request, 1, rounds)
        plan.contenders.append(Contender(name, path, warm, files))
    return plan


PLANNERS = {
    "cc_basic": plan_cc_basic,
    "cc_private_key_jwt": plan_cc_private_key_jwt,
    "refresh_rotation": plan_refresh_rotation,
    "code_redemption": plan_code_redemption,
    "cc_dpop": plan_cc_dpop,
    "password": plan_password,
    "mixed": plan_mixed,
    "cc_overhead": plan_cc_overhead,
}


def grow(clients: int, tokens: int) -> None:
    """The growth run's large data set: many clients and refresh tokens that the measured
    requests never touch, to show the cost per request does not grow with the tables."""
    from django.db import connection

    from oauth_token.models import Client
    from oauth_token.models.refresh import RefreshToken, RefreshTokenFamily

    Client.objects.bulk_create(
        [Client(name=f"filler-{i}", grant_types=["client_credentials"]) for i in range(clients)],
        batch_size=5000,
    )
    filler = Client.objects.filter(name__startswith="filler-").first()
    families = RefreshTokenFamily.objects.bulk_create(
        [
            RefreshTokenFamily(client=filler, subject=f"filler-{i}", scopes=["offline_access"])
            for i in range(tokens // 100)
        ],
        batch_size=5000,
    )
    table = RefreshToken._meta.db_table
    first, last = families[0].pk, families[-1].pk
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} "
                "(family_id, token_digest, created_at, used_at, access_token_jti) "
                "SELECT %s + (g %% (%s - %s + 1)), encode(sha256(('filler' || g)::bytea), 'hex'), "
                "now(), now(), '' FROM generate_series(1, %s) AS g",
                [first, last, first, tokens],
            )
            cursor.execute(f"ANALYZE {table}")
        else:
            import hashlib

            from django.utils import timezone

            now = timezone.now()
            RefreshToken.objects.bulk_create(
                [
                    RefreshToken(
                        family_id=first + i % (last - first + 1),
                        token_digest=hashlib.sha256(f"filler{i}".encode()).hexdigest(),
                        created_at=now,
                        used_at=now,
                    )
                    for i in range(tokens)
                ],
                batch_size=10000,
            )


def prepare_in_process(spec: dict[str, Any]) -> list[dict[str, Any]]:
    import django

    reset_database()
    django.setup()
    work = Path(spec["work"])
    work.mkdir(exist_ok=True)
    world = World(work, warm=spec.get("warm", 1000))
    if spec.get("grow"):
        grow(spec["grow"]["clients"], spec["grow"]["tokens"])
    plans = []
    for name in spec["scenarios"]:
        planner = PLANNERS.get(name)
        if planner is None:
            print(f"scenario {name}: not available yet, skipped", file=sys.stderr)
            continue
        plans.append(planner(world, spec["pool"], spec["rounds"]))
    return [asdict(p) for p in plans]


def prepare(
    db: str,
    wanted: list[str],
    pool: int,
    work: Path,
    rounds: int = 2,
    grow_to: dict[str, int] | None = None,
    warm: int = 1000,
) -> list[Plan]:
    """Run the preparation in a child process with the db's environment; return the plans."""
    import subprocess

    spec = {
        "db": db,
        "scenarios": wanted,
        "pool": pool,
        "work": str(work),
        "rounds": rounds,
        "grow": grow_to,
        "warm": warm,
    }
    out = subprocess.run(
        [sys.executable, str(HERE / "scenarios.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE / "project")])),
    )
    if out.returncode != 0:
        raise RuntimeError(f"preparation failed:\n{out.stderr}")
    sys.stderr.write(out.stderr)
    plans = []
    for raw in json.loads(out.stdout.splitlines()[-1]):
        plan = Plan(raw["name"])
        for c in raw["contenders"]:
            plan.contenders.append(
                Contender(
                    c["name"], c["path"], Path(c["warmup_file"]), [Path(f) for f in c["files"]]
                )
            )
        plans.append(plan)
    return plans


if __name__ == "__main__":
    print(json.dumps(prepare_in_process(json.loads(sys.argv[1])), default=str))
