#!/usr/bin/env python3
"""In-process CPU driver: the token endpoint and its floor views through Django's WSGI handler,
in this process, no server and no load generator (the machine may be shared).

    python bench/inprocess.py [--db sqlite|postgres] [--scenarios cc_basic,cc_private_key_jwt]
                              [--blocks 40] [--block 50] [--warm 300] [--callgrind 300]

Reports **process CPU time per request** (``time.process_time``: user + system of this
process, so a PostgreSQL or Redis round trip counts only its system calls, not the wait),
the median over ``--blocks`` interleaved blocks of ``--block`` requests per contender (A B,
then B A), and the ratio floor / oauth_token (the same ratio wrk's req/s gives when the
server is CPU-bound). ``--callgrind N`` also counts **user-space instructions per request**:
each contender runs again under ``valgrind --tool=callgrind --instr-atstart=no``, warmed up,
then instrumented for N requests only (a client request switches it on and off), which is
deterministic even on a busy machine but blind to kernel time.

The world is the bench's (``scenarios.World``: keys, API, clients, on a fresh database): with
``--db postgres`` the database is ``BENCH_DATABASE_URL`` (dropped and re-created) and the
cache ``BENCH_CACHE_URL`` (Redis), as ``run.py`` uses them; with ``--db sqlite`` a file in
``bench/.work`` and the local-memory cache. Scenarios: ``cc_basic`` (client_credentials,
client_secret_basic; floor ``/floor/sign``) and ``cc_private_key_jwt`` (a fresh ES256 client
assertion per request, unique ``jti``; floor ``/floor/verify-and-sign``), each request the
one ``scenarios.py`` writes for wrk.
"""

from __future__ import annotations

import argparse
import ctypes
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
sys.path[:0] = [str(HERE.parent), str(HERE / "project"), str(HERE)]

SCENARIOS = {
    # scenario: (floor path, oauth_token path)
    "cc_basic": "/floor/sign",
    "cc_private_key_jwt": "/floor/verify-and-sign",
}


def configure(db: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_project.settings"
    WORK.mkdir(exist_ok=True)
    if db == "postgres":
        os.environ["DATABASE_URL"] = os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_oauth_token"
        )
        os.environ["CACHE_URL"] = os.environ.get(
            "BENCH_CACHE_URL", "rediscache://127.0.0.1:6379/12"
        )
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'inprocess.sqlite3'}"
        os.environ["CACHE_URL"] = "locmemcache://bench"


def state_file(db: str) -> Path:
    return WORK / f"inprocess-{db}.json"


def prepare(db: str) -> None:
    """A fresh database with the bench's world; what the requests need goes to a state file
    (so a process under valgrind only sets Django up and signs its assertions)."""
    import django
    import scenarios as sc
    from cryptography.hazmat.primitives import serialization

    sc.reset_database()
    django.setup()
    world = sc.World(WORK, warm=1)
    pem = world.es_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    state = {"basic": list(world.basic), "pkjwt_id": world.pkjwt_id, "es_key": pem}
    state_file(db).write_text(json.dumps(state))


class Requests:
    """WSGI environs, built before the clock starts (only ``wsgi.input`` is made per call)."""

    def __init__(self, state: dict[str, Any]):
        import scenarios as sc

        self.sc = sc
        self.state = state
        self.basic = sc.basic(*state["basic"])
        self._es_key: Any = None

    def assertion(self) -> str:
        import uuid

        import jwt
        from cryptography.hazmat.primitives import serialization

        if self._es_key is None:
            self._es_key = serialization.load_pem_private_key(
                self.state["es_key"].encode(), password=None
            )
        now = int(time.time())
        client_id = self.state["pkjwt_id"]
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": self.sc.ISSUER + "oauth/token",
            "iat": now,
            "exp": now + 3000,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._es_key, algorithm="ES256", headers={"kid": "bench-es"})

    def body(self, scenario: str) -> tuple[bytes, dict[str, str]]:
        from urllib.parse import urlencode

        form = {"grant_type": "client_credentials", "audience": self.sc.AUDIENCE}
        if scenario == "cc_basic":
            return urlencode(form).encode(), {"HTTP_AUTHORIZATION": self.basic}
        form["client_assertion_type"] = self.sc.ASSERTION_TYPE
        form["client_assertion"] = self.assertion()
        return urlencode(form).encode(), {}

    def contenders(self, scenario: str, count: int) -> dict[str, list[dict[str, Any]]]:
        """``count`` environs per contender. The floor is sent the very request oauth_token is
        sent (fixed: one assertion, cycled; it keeps no replay cache); oauth_token gets a
        fresh assertion (unique ``jti``) per request."""
        fixed = environ(SCENARIOS[scenario], *self.body(scenario))
        if scenario == "cc_basic":
            ours = [environ("/oauth/token", *self.body(scenario))] * count
        else:
            ours = [environ("/oauth/token", *self.body(scenario)) for _ in range(count)]
        return {"floor": [fixed] * count, "oauth_token": ours}


def environ(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "_body": body,
        **headers,
    }


def runner(app: Callable[..., Any]) -> Callable[[list[dict[str, Any]]], None]:
    """Call the handler as a WSGI server would: start_response, read the body, close() (which
    sends ``request_finished``). Any non-200 answer stops the run."""
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    def run(environs: list[dict[str, Any]]) -> None:
        for env in environs:
            env = dict(env, **{"wsgi.input": io.BytesIO(env["_body"])})
            result = app(env, start_response)
            body = b"".join(result)
            result.close()
            if statuses.pop() != "200 OK":
                raise SystemExit(f"{env['PATH_INFO']}: not 200: {body[:300]!r}")

    return run


def cpu(args: argparse.Namespace, requests: Requests, run: Callable[..., None]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for scenario in args.scenarios:
        per = requests.contenders(scenario, args.warm + args.blocks * args.block)
        for environs in per.values():
            run(environs[: args.warm])
        samples: dict[str, list[float]] = {name: [] for name in per}
        order = list(per)
        for b in range(args.blocks):
            start = args.warm + b * args.block
            for name in order if b % 2 == 0 else order[::-1]:
                chunk = per[name][start : start + args.block]
                before = time.process_time()
                run(chunk)
                samples[name].append((time.process_time() - before) / len(chunk))
        med = {name: statistics.median(values) for name, values in samples.items()}
        results[scenario] = {
            "floor_us": med["floor"] * 1e6,
            "oauth_token_us": med["oauth_token"] * 1e6,
            "ratio": med["floor"] / med["oauth_token"],
        }
        print(
            f"{args.db:8} {scenario:20} floor {med['floor'] * 1e6:7.0f} us  "
            f"oauth_token {med['oauth_token'] * 1e6:7.0f} us  "
            f"ratio {results[scenario]['ratio']:.3f}",
            flush=True,
        )
    return results


# --- callgrind ------------------------------------------------------------------------------

_TOGGLE_C = """
#include <valgrind/callgrind.h>
void bench_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void bench_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
"""


def _toggle_library() -> ctypes.CDLL:
    """Callgrind's client requests are inline machine code: a two-function library compiled
    once (needs a C compiler and valgrind's headers)."""
    lib = WORK / "callgrind_toggle.so"
    if not lib.exists():
        source = WORK / "callgrind_toggle.c"
        source.write_text(_TOGGLE_C)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(lib), str(source)], check=True)
    return ctypes.CDLL(str(lib))


def instrumented(args: argparse.Namespace, requests: Requests, run: Callable[..., None]) -> None:
    """Inside valgrind: warm up, then instrument ``args.count`` requests of one contender."""
    scenario, name = args.instrument.split(":")
    environs = requests.contenders(scenario, args.warm + args.count)[name]
    lib = _toggle_library()
    run(environs[: args.warm])
    lib.bench_start()
    run(environs[args.warm :])
    lib.bench_stop()


def callgrind(args: argparse.Namespace) -> dict[str, Any]:
    _toggle_library()
    results: dict[str, Any] = {}
    for scenario in args.scenarios:
        counts = {}
        for name in ("floor", "oauth_token"):
            with tempfile.NamedTemporaryFile(dir=WORK, suffix=".callgrind") as out:
                subprocess.run(
                    [
                        "valgrind",
                        "--tool=callgrind",
                        "--instr-atstart=no",
                        f"--callgrind-out-file={out.name}",
                        sys.executable,
                        __file__,
                        "--db",
                        args.db,
                        "--no-prepare",
                        "--warm",
                        str(args.warm),
                        "--count",
                        str(args.callgrind),
                        "--instrument",
                        f"{scenario}:{name}",
                    ],
                    check=True,
                    stderr=subprocess.DEVNULL,
                )
                totals = [
                    line
                    for line in Path(out.name).read_text().splitlines()
                    if line.startswith(("summary:", "totals:"))
                ]
                counts[name] = int(totals[-1].split()[1]) / args.callgrind
        results[scenario] = {
            "floor_instructions": counts["floor"],
            "oauth_token_instructions": counts["oauth_token"],
            "ratio": counts["floor"] / counts["oauth_token"],
        }
        print(
            f"{args.db:8} {scenario:20} floor {counts['floor'] / 1e6:6.2f} M instr  "
            f"oauth_token {counts['oauth_token'] / 1e6:6.2f} M instr  "
            f"ratio {results[scenario]['ratio']:.3f}",
            flush=True,
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--blocks", type=int, default=40)
    parser.add_argument("--block", type=int, default=50)
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--callgrind", type=int, default=0, metavar="N")
    parser.add_argument("--no-cpu", action="store_true", help="callgrind counts only")
    parser.add_argument("--no-prepare", action="store_true", help="reuse the last world")
    parser.add_argument("--json", type=Path, help="also write the results here")
    # Internal: one instrumented contender, in a process valgrind runs.
    parser.add_argument("--instrument", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    configure(args.db)
    if not args.no_prepare or not state_file(args.db).exists():
        prepare(args.db)
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    requests = Requests(json.loads(state_file(args.db).read_text()))
    run = runner(get_wsgi_application())
    if args.instrument:
        instrumented(args, requests, run)
        return 0
    results: dict[str, Any] = {}
    if not args.no_cpu:
        results["cpu"] = cpu(args, requests, run)
    if args.callgrind:
        results["callgrind"] = callgrind(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
