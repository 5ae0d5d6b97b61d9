#!/usr/bin/env python3
"""In-process driver for the write scenarios (refresh rotation, code redemption) and their
database floors: process CPU per request, without gunicorn, wrk or the network.

    python bench/inprocess_writes.py --db postgres --database-url postgres://…/wt_x_bench \
        --cache-url rediscache://127.0.0.1:6379/5 [--blocks 30] [--block-size 40]
    python bench/inprocess_writes.py --db sqlite [--scenarios refresh_rotation]
    python bench/inprocess_writes.py … --profile refresh_rotation   # cProfile, sorted by tottime
    valgrind --tool=callgrind --instr-atstart=no python bench/inprocess_writes.py … \
        --callgrind refresh_rotation                       # instructions of the warm requests

The database named by ``--database-url`` is dropped and created again (SQLite: the file), and
prepared as bench/run.py prepares it (``scenarios.World``: keys, API, clients, user), with one
pre-issued refresh token, code or floor artefact per request. Requests go through Django's
WSGI handler exactly as gunicorn hands them over (same settings, middleware, URL
configuration, persistent database connection), one at a time.

What is reported is **process CPU time** per request (``time.process_time``: user + system of
this process), which leaves out the time spent waiting for PostgreSQL or Redis and is far less
disturbed by other work on a shared machine than wall time. The contenders of a scenario run
in interleaved blocks (oauth_token, then its floor, then oauth_token, …) so that drift in the
machine's speed reaches both alike; the figure is the median over blocks of each block's CPU
per request. Database and cache servers' own CPU is not counted, for either contender.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE / "project"), str(HERE)]

import inprocess  # noqa: E402  (bench/, on the path just above)

Request = tuple[str, str, dict[str, str]]  # path, body, headers


def configure(args: argparse.Namespace) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_project.settings"
    if args.db == "postgres":
        os.environ["DATABASE_URL"] = args.database_url
        os.environ["CACHE_URL"] = args.cache_url
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{args.sqlite_path}"
        os.environ["CACHE_URL"] = "locmemcache://inprocess"
    os.environ.setdefault("BENCH_CACHE_KEY_PREFIX", f"inprocess-{os.getpid()}")


def environ_for(path: str, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """What gunicorn hands Django (``inprocess.environ``), with the body ready to read."""
    raw = body.encode()
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    environ = inprocess.environ(path, raw, meta)
    environ["wsgi.input"] = io.BytesIO(raw)
    return environ


class Contender:
    """One kind of request, built from a supply of single-use artefacts."""

    def __init__(self, name: str, make: Callable[[], Request]) -> None:
        self.name = name
        self.make = make
        self.failures = 0
        self.per_request: list[float] = []
        self.backend_per_request: list[float] = []

    def prepared(self, n: int) -> list[dict[str, Any]]:
        return [environ_for(*self.make()) for _ in range(n)]

    def run(self, app: Any, environs: list[dict[str, Any]]) -> float:
        """Serve ``environs``; return the CPU seconds they took (and record the database
        server's, PostgreSQL only)."""
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
            statuses.append(status)

        backend = backend_pid()
        backend_started = backend_cpu(backend)
        started = time.process_time()
        for environ in environs:
            response = app(environ, start_response)
            for _ in response:
                pass
            response.close()
        spent = time.process_time() - started
        if backend is not None and backend_pid() == backend:
            self.backend_per_request.append(
                (backend_cpu(backend) - backend_started) / len(environs)
            )
        self.failures += sum(1 for s in statuses if not s.startswith("200"))
        if self.failures and not getattr(self, "_warned", False):
            self._warned = True
            print(f"{self.name}: non-200 answers: {statuses[:3]}", file=sys.stderr)
        return spent


def backend_pid() -> int | None:
    """The PostgreSQL server process serving this process's (persistent) connection."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def backend_cpu(pid: int | None) -> float:
    """CPU seconds the server process ``pid`` has run (``/proc/PID/schedstat``, ns)."""
    if pid is None:
        return 0.0
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def contenders(scenario: str, world: Any, count: int) -> list[Contender]:
    import scenarios as sc

    if scenario == "refresh_rotation":
        values: Iterator[str] = iter(sc.refresh_tokens(world, count))
        artefacts = iter(sc.floor_artefacts(count))
        auth = sc.basic(*world.refresh_client)
        return [
            Contender(
                "oauth_token",
                lambda: (
                    "/oauth/token",
                    urlencode({"grant_type": "refresh_token", "refresh_token": next(values)}),
                    {"Authorization": auth},
                ),
            ),
            Contender(
                "db_floor",
                lambda: ("/floor/db/sign", urlencode({"artefact": next(artefacts)}), {}),
            ),
        ]
    if scenario == "code_redemption":
        pairs = iter(sc.authorization_codes(world, count))
        artefacts = iter(sc.floor_artefacts(count))
        auth = sc.basic(*world.web_client)

        def redeem() -> Request:
            code, verifier = next(pairs)
            body = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": sc.REDIRECT_URI,
                "code_verifier": verifier,
            }
            return "/oauth/token", urlencode(body), {"Authorization": auth}

        return [
            Contender("oauth_token", redeem),
            Contender(
                "db_floor",
                lambda: ("/floor/db/sign-twice", urlencode({"artefact": next(artefacts)}), {}),
            ),
        ]
    raise SystemExit(f"unknown scenario {scenario}")


def callgrind(on: bool) -> None:
    subprocess.run(
        ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
        check=True,
        capture_output=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inprocess_bench"
        ),
    )
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("INPROCESS_CACHE_URL", "rediscache://127.0.0.1:6379/5"),
    )
    parser.add_argument("--sqlite-path", default=str(HERE / ".work" / "inprocess.sqlite3"))
    parser.add_argument("--scenarios", default="refresh_rotation,code_redemption")
    parser.add_argument("--blocks", type=int, default=30)
    parser.add_argument("--block-size", type=int, default=40)
    parser.add_argument("--warm", type=int, default=100)
    parser.add_argument(
        "--show-queries", action="store_true", help="print the statements of one request each"
    )
    parser.add_argument("--profile", metavar="SCENARIO", help="cProfile oauth_token's requests")
    parser.add_argument(
        "--callgrind",
        metavar="SCENARIO[:CONTENDER]",
        help="under valgrind --instr-atstart=no: instrument only the measured requests",
    )
    parser.add_argument(
        "--no-instrument",
        action="store_true",
        help="with --callgrind: just serve the requests (for an outside sampling profiler)",
    )
    args = parser.parse_args()
    configure(args)
    (HERE / ".work").mkdir(exist_ok=True)

    import django
    import scenarios as sc

    sc.reset_database()
    django.setup()
    from django.core.wsgi import get_wsgi_application

    world = sc.World(HERE / ".work", warm=0)
    app = get_wsgi_application()
    per_contender = args.blocks * args.block_size + args.warm + 5
    wanted = args.scenarios.split(",")
    if args.profile:
        wanted = [args.profile]
    if args.callgrind:
        wanted = [args.callgrind.split(":")[0]]
    for scenario in wanted:
        group = contenders(scenario, world, per_contender)
        for contender in group:  # warm: statements compiled, keys loaded, memos filled
            contender.run(app, contender.prepared(args.warm))
        if args.show_queries:
            show_queries(app, group)
        if args.profile:
            profile(app, group[0], args.blocks * args.block_size)
            continue
        if args.callgrind:
            name = args.callgrind.split(":")[1] if ":" in args.callgrind else "oauth_token"
            chosen = next(c for c in group if c.name == name)
            environs = chosen.prepared(args.blocks * args.block_size)
            if not args.no_instrument:
                callgrind(True)
            chosen.run(app, environs)
            if not args.no_instrument:
                callgrind(False)
            print(f"{scenario}/{name}: {len(environs)} requests instrumented")
            continue
        for _ in range(args.blocks):
            for contender in group:
                environs = contender.prepared(args.block_size)
                contender.per_request.append(contender.run(app, environs) / len(environs))
        report(scenario, group, args.db)


def show_queries(app: Any, group: list[Contender]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for contender in group:
        with CaptureQueriesContext(connection) as captured:
            contender.run(app, contender.prepared(1))
        print(f"--- {contender.name}: {len(captured.captured_queries)} statements")
        for query in captured.captured_queries:
            print("   ", query["sql"][:300])


def profile(app: Any, contender: Contender, n: int) -> None:
    import cProfile
    import pstats

    environs = contender.prepared(n)
    profiler = cProfile.Profile()
    profiler.enable()
    contender.run(app, environs)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(45)
    stats.sort_stats("cumulative").print_stats(70)


def report(scenario: str, group: list[Contender], db: str) -> None:
    medians = {c.name: statistics.median(c.per_request) for c in group}
    ours = medians["oauth_token"]
    for contender in group:
        ms = medians[contender.name] * 1e3
        q = statistics.quantiles(contender.per_request, n=4)
        print(
            f"{db} {scenario:17s} {contender.name:12s} {ms:6.3f} ms CPU/request "
            f"(IQR {q[0] * 1e3:.3f}-{q[2] * 1e3:.3f}, {len(contender.per_request)} blocks, "
            f"{contender.failures} non-200)"
        )
    if all(c.backend_per_request for c in group):
        for contender in group:
            server = statistics.median(contender.backend_per_request) * 1e3
            total = medians[contender.name] * 1e3 + server
            print(
                f"{db} {scenario:17s} {contender.name:12s} + PostgreSQL server {server:.3f} ms "
                f"= {total:.3f} ms CPU/request"
            )
        both = {c.name: medians[c.name] + statistics.median(c.backend_per_request) for c in group}
        print(
            f"{db} {scenario:17s} ratio floor/ours with the server's CPU = "
            f"{both['db_floor'] / both['oauth_token']:.3f}"
        )
    floor = medians["db_floor"]
    print(f"{db} {scenario:17s} ratio floor/ours = {floor / ours:.3f} (this process only)")
    ratios = [f / o for f, o in zip(group[1].per_request, group[0].per_request, strict=True)]
    print(f"{db} {scenario:17s} median of per-block ratios = {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
