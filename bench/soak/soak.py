#!/usr/bin/env python3
"""Load soak: the example project under gunicorn (several workers) on PostgreSQL + Redis, a
mixed workload for a bounded time against 127.0.0.1 only. Not part of the test run.

    REDIS_URL=redis://127.0.0.1:6379/8 python bench/soak/soak.py --duration 60 --workers 4

Workload: client_credentials with client_secret_basic, client_credentials with
private_key_jwt (a fresh assertion each time), the password grant with offline_access and then
refresh-token rotation chains, DPoP-bound client_credentials when the server advertises DPoP,
and deliberately wrong secrets. Pass criteria (exit status 1 otherwise): zero 5xx responses,
no access-token ``jti`` or refresh token issued twice, every worker's RSS growth after warm-up
within --max-rss-growth-mib. Prints a summary table.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "example_project"
AUDIENCE = "https://soak.example.com"
KEK = "soak-key-encryption-key-0123456789abcdef"
MAX_DURATION = 900


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- setup through the operator's own commands --------------------------------------------


class Project:
    def __init__(self, database_url: str, cache_url: str, port: int) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            "PYTHONPATH": os.pathsep.join([str(REPO), str(EXAMPLE)]),
            "DATABASE_URL": database_url,
            "CACHE_URL": cache_url,
            "OAUTH_ISSUER": f"http://127.0.0.1:{port}/",
            "OAUTH_KEY_ENCRYPTION_KEY": KEK,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1",
        }

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, str(EXAMPLE / "manage.py"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(args[:2])} failed: {result.stderr.strip()}")
        return result.stdout

    def manage_json(self, *args: str) -> dict:
        return json.loads(self.manage(*args, "--json"))


def create_database(admin_url: str, name: str) -> str:
    import psycopg

    parts = urlsplit(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{parts.scheme}://{parts.netloc}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def provision(project: Project, workdir: Path) -> dict:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    project.manage("migrate", "--noinput")
    project.manage_json("oauth_keys", "rotate")
    project.manage_json(
        "oauth_api",
        "create",
        "--identifier",
        AUDIENCE,
        "--name",
        "Soak API",
        "--scope",
        "read:things",
        "--scope",
        "write:things",
        "--allow-offline-access",
    )
    basic = project.manage_json(
        "oauth_client", "create", "--name", "soak-basic", "--grant-type", "client_credentials"
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True) | {"kid": "soak", "use": "sig"}
    jwks_file = workdir / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [jwk]}))
    pkjwt = project.manage_json(
        "oauth_client",
        "create",
        "--name",
        "soak-pkjwt",
        "--grant-type",
        "client_credentials",
        "--auth-method",
        "private_key_jwt",
        "--jwks-file",
        str(jwks_file),
    )
    ropc = project.manage_json(
        "oauth_client",
        "create",
        "--name",
        "soak-ropc",
        "--grant-type",
        "password",
        "--grant-type",
        "refresh_token",
        "--first-party",
    )
    for client in (basic, pkjwt):
        project.manage_json(
            "oauth_grant",
            "--client",
            client["client_id"],
            "--audience",
            AUDIENCE,
            "--scope",
            "read:things",
            "--scope",
            "write:things",
        )
    password = secrets.token_urlsafe(16)
    project.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model;"
        f"get_user_model().objects.create_user('soak', 'soak@example.com', {password!r})",
    )
    return {
        "basic": basic,
        "pkjwt": pkjwt,
        "pkjwt_key": key,
        "ropc": ropc,
        "username": "soak",
        "password": password,
    }


# --- the server ----------------------------------------------------------------------------


def start_gunicorn(project: Project, port: int, workers: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "example_project.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        env=project.env,
        cwd=EXAMPLE,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/.well-known/openid-configuration")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"gunicorn did not start; see {log}")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- the workload --------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.jtis: Counter = Counter()
        self.refresh_tokens: Counter = Counter()
        self.server_errors: list[str] = []

    def record(self, op: str, status: int, seconds: float, body: dict) -> None:
        with self.lock:
            self.latency[op].append(seconds)
            self.statuses[op][status] += 1
            if status >= 500:
                self.server_errors.append(f"{op}: {status} {json.dumps(body)[:200]}")
            token = body.get("access_token") if status == 200 else None
            if isinstance(token, str):
                payload = token.split(".")[1]
                claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                self.jtis[claims["jti"]] += 1
            if status == 200 and isinstance(body.get("refresh_token"), str):
                self.refresh_tokens[body["refresh_token"]] += 1


class Driver(threading.Thread):
    def __init__(
        self, port: int, setup: dict, recorder: Recorder, stop_at: float, dpop: bool, seed: int
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.setup, self.recorder, self.stop_at = port, setup, recorder, stop_at
        self.dpop = dpop
        self.random = random.Random(seed)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.refresh_token: str | None = None
        self.dpop_key = None
        self.dpop_nonce: str | None = None

    def post(self, op: str, form: dict, headers: dict | None = None) -> tuple[int, dict, dict]:
        body = urlencode(form)
        hdrs = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        started = time.perf_counter()
        for attempt in range(2):
            try:
                self.conn.request("POST", "/oauth/token", body, hdrs)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        elapsed = time.perf_counter() - started
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"unparsed": raw[:200].decode("latin-1")}
        self.recorder.record(op, response.status, elapsed, parsed)
        return response.status, parsed, dict(response.getheaders())

    def basic(self, client: dict) -> str:
        raw = f"{client['client_id']}:{client['client_secret']}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def op_cc_basic(self) -> None:
        self.post(
            "cc_basic",
            {"grant_type": "client_credentials", "audience": AUDIENCE},
            {"Authorization": self.basic(self.setup["basic"])},
        )

    def op_cc_private_key_jwt(self) -> None:
        import jwt

        client_id = self.setup["pkjwt"]["client_id"]
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": client_id,
                "sub": client_id,
                "aud": f"http://127.0.0.1:{self.port}/oauth/token",
                "iat": now,
                "exp": now + 60,
                "jti": uuid.uuid4().hex,
            },
            self.setup["pkjwt_key"],
            "RS256",
            headers={"kid": "soak"},
        )
        self.post(
            "cc_private_key_jwt",
            {
                "grant_type": "client_credentials",
                "audience": AUDIENCE,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            },
        )

    def op_refresh(self) -> None:
        ropc = self.setup["ropc"]
        if self.refresh_token is None:
            status, body, _ = self.post(
                "password",
                {
                    "grant_type": "password",
                    "username": self.setup["username"],
                    "password": self.setup["password"],
                    "audience": AUDIENCE,
                    "scope": "read:things offline_access",
                },
                {"Authorization": self.basic(ropc)},
            )
            self.refresh_token = body.get("refresh_token") if status == 200 else None
            return
        status, body, _ = self.post(
            "refresh_rotation",
            {"grant_type": "refresh_token", "refresh_token": self.refresh_token},
            {"Authorization": self.basic(ropc)},
        )
        self.refresh_token = body.get("refresh_token") if status == 200 else None

    def op_dpop(self) -> None:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import ec
        from jwt.algorithms import ECAlgorithm

        if self.dpop_key is None:
            self.dpop_key = ec.generate_private_key(ec.SECP256R1())
        jwk = ECAlgorithm.to_jwk(self.dpop_key.public_key(), as_dict=True)
        for _ in range(2):
            claims = {
                "jti": uuid.uuid4().hex,
                "htm": "POST",
                "iat": int(time.time()),
                "htu": f"http://127.0.0.1:{self.port}/oauth/token",
            }
            if self.dpop_nonce:
                claims["nonce"] = self.dpop_nonce
            proof = jwt.encode(
                claims, self.dpop_key, "ES256", headers={"typ": "dpop+jwt", "jwk": jwk}
            )
            status, body, headers = self.post(
                "cc_dpop",
                {"grant_type": "client_credentials", "audience": AUDIENCE},
                {"Authorization": self.basic(self.setup["basic"]), "DPoP": proof},
            )
            nonce = headers.get("DPoP-Nonce") or headers.get("dpop-nonce")
            if nonce:
                self.dpop_nonce = nonce
            if not (status == 400 and body.get("error") == "use_dpop_nonce"):
                return

    def op_wrong_secret(self) -> None:
        client = {**self.setup["basic"], "client_secret": "wrong-" + secrets.token_hex(4)}
        self.post(
            "wrong_secret",
            {"grant_type": "client_credentials", "audience": AUDIENCE},
            {"Authorization": self.basic(client)},
        )

    def run(self) -> None:
        ops = [
            (self.op_cc_basic, 30),
            (self.op_cc_private_key_jwt, 20),
            (self.op_refresh, 35),
            (self.op_wrong_secret, 5),
        ]
        if self.dpop:
            ops.append((self.op_dpop, 10))
        funcs, weights = zip(*ops, strict=True)
        while time.monotonic() < self.stop_at:
            self.random.choices(funcs, weights)[0]()


# --- report --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def report(
    recorder: Recorder,
    elapsed: float,
    rss: dict[int, list[float]],
    warmup_samples: int,
    max_growth: float,
) -> bool:
    print(f"\nSoak: {elapsed:.0f} s against 127.0.0.1\n")
    print(
        f"| {'operation':<20} | {'requests':>8} | {'req/s':>7} | {'p50 ms':>7} | "
        f"{'p95 ms':>7} | statuses"
    )
    print(f"|{'-' * 22}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 20}")
    for op in sorted(recorder.latency):
        lat = recorder.latency[op]
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(recorder.statuses[op].items()))
        print(
            f"| {op:<20} | {len(lat):>8} | {len(lat) / elapsed:>7.1f} | "
            f"{percentile(lat, 0.5) * 1000:>7.1f} | {percentile(lat, 0.95) * 1000:>7.1f} | "
            f"{statuses}"
        )
    total = sum(len(v) for v in recorder.latency.values())
    five_xx = len(recorder.server_errors)
    dup_jti = sum(1 for n in recorder.jtis.values() if n > 1)
    dup_rt = sum(1 for n in recorder.refresh_tokens.values() if n > 1)
    print(
        f"\ntotal requests: {total} ({total / elapsed:.1f}/s); 5xx: {five_xx}; "
        f"access tokens: {sum(recorder.jtis.values())} (duplicate jti: {dup_jti}); "
        f"refresh tokens: {sum(recorder.refresh_tokens.values())} (duplicates: {dup_rt})"
    )
    print("\n| worker pid | RSS after warm-up MiB | RSS at end MiB | growth MiB |")
    print("|---|---|---|---|")
    worst = 0.0
    for pid, samples in sorted(rss.items()):
        if len(samples) <= warmup_samples + 2:
            continue
        tail = samples[warmup_samples:]
        start = statistics.median(tail[:3])
        end = statistics.median(tail[-3:])
        worst = max(worst, end - start)
        print(f"| {pid} | {start:.1f} | {end:.1f} | {end - start:+.1f} |")
    ok = five_xx == 0 and dup_jti == 0 and dup_rt == 0 and worst <= max_growth
    for line in recorder.server_errors[:5]:
        print("5xx:", line)
    print(
        f"\nresult: {'PASS' if ok else 'FAIL'} (max RSS growth allowed {max_growth} MiB, "
        f"worst {worst:.1f} MiB)"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (max 900)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--clients", type=int, default=12, help="concurrent client threads")
    parser.add_argument("--warmup", type=int, default=10, help="seconds before RSS baseline")
    parser.add_argument("--max-rss-growth-mib", type=float, default=5.0)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL the soak may create and drop its own database through",
    )
    parser.add_argument(
        "--cache-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    duration = max(5, min(args.duration, MAX_DURATION))
    port = free_port()
    name = f"oauth_soak_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="oauth-soak-"))
    database = create_database(args.database_url, name)
    server = None
    try:
        project = Project(database, args.cache_url, port)
        setup = provision(project, workdir)
        server = start_gunicorn(project, port, args.workers, workdir / "gunicorn.log")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/.well-known/openid-configuration")
        metadata = json.loads(conn.getresponse().read())
        dpop = bool(metadata.get("dpop_signing_alg_values_supported"))
        recorder = Recorder()
        started = time.monotonic()
        stop_at = started + duration
        drivers = [
            Driver(port, setup, recorder, stop_at, dpop, seed=i) for i in range(args.clients)
        ]
        for d in drivers:
            d.start()
        rss: dict[int, list[float]] = defaultdict(list)
        samples_before_warm = 0
        while any(d.is_alive() for d in drivers):
            for pid in worker_pids(server.pid):
                value = rss_mib(pid)
                if value is not None:
                    rss[pid].append(value)
            if time.monotonic() - started < args.warmup:
                samples_before_warm += 1
            time.sleep(1)
        for d in drivers:
            d.join()
        elapsed = time.monotonic() - started
        print(
            f"workload: cc_basic, cc_private_key_jwt, password + refresh_rotation, "
            f"wrong_secret{', cc_dpop' if dpop else ''}; {args.workers} gunicorn workers x 4 "
            f"threads; {args.clients} client threads; cache {args.cache_url}"
        )
        return (
            0 if report(recorder, elapsed, rss, samples_before_warm, args.max_rss_growth_mib) else 1
        )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        drop_database(args.database_url, name)


if __name__ == "__main__":
    sys.exit(main())
