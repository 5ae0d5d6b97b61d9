#!/usr/bin/env python3
"""Side-by-side benchmark of the token endpoint: floor view vs oauth_token vs
django-oauth-toolkit, all served by one gunicorn in the same run, driven by wrk.

    python bench/run.py [--db sqlite|postgres|both] [--duration 8] [--scenarios cc_basic,...]

Prints a markdown table of throughput, p50/p99 latency and ratios, and writes
bench/results/{RESULTS.md,results.json,chart.png}. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
RESULTS = HERE / "results"
sys.path[:0] = [str(REPO), str(HERE / "project"), str(HERE)]


@dataclass
class Measurement:
    scenario: str
    contender: str
    db: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    extra: dict = field(default_factory=dict)
    # Rounds measured / kept (a round is refused when the machine was busy with foreign work
    # or a single-use pool ran out), and the foreign CPU share of each round measured.
    rounds: int = 0
    clean_rounds: int = 0
    foreign_cpu: list[float] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return self.clean_rounds == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def configure_env(db: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bench_project.settings"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HERE / "project")])
    WORK.mkdir(exist_ok=True)
    if db == "postgres":
        env["DATABASE_URL"] = os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_oauth_token"
        )
        env["CACHE_URL"] = os.environ.get("BENCH_CACHE_URL", "rediscache://127.0.0.1:6379/12")
    else:
        env["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
        env["CACHE_URL"] = "locmemcache://bench"
    return env


def start_server(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    proc = subprocess.Popen(
        [
            gunicorn,
            "bench_project.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--worker-class",
            "sync",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
            "--chdir",
            str(HERE / "project"),
        ],
        env=env,
        start_new_session=True,
    )
    # Ready means every worker answers, not just that the master's socket accepts.
    deadline = time.time() + 60
    answered = 0
    while time.time() < deadline and answered < 4 * workers:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/.well-known/jwks.json")
            if conn.getresponse().status == 200:
                answered += 1
            conn.close()
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
    if answered:
        return proc, port
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def drive(
    port: int, path: str, lines_file: Path, duration: float, threads: int, connections: int
) -> dict:
    if shutil.which("wrk"):
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(duration))}s",
                "--latency",
                "--timeout",
                "10s",
                "-s",
                str(HERE / "wrk" / "requests.lua"),
                f"http://127.0.0.1:{port}{path}",
                "--",
                str(lines_file),
                str(threads),
                path,
            ],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"wrk failed: {out.stderr.strip()} {out.stdout.strip()}")
        line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON "))
        if os.environ.get("BENCH_DEBUG"):
            print(path, lines_file.name, out.stdout, out.stderr)
        return json.loads(line[len("BENCH_JSON ") :])
    from pyload import run_load  # fallback: a Python client, slower but dependency-free

    return run_load(port, path, lines_file, duration, connections)


def drain(port: int, limit: float = 60.0) -> None:
    """Wait until the server is idle again: a slow contender (DOT hashing its secret with
    PBKDF2) leaves requests in flight that would otherwise be charged to the next contender.
    Idle = three consecutive cheap requests answered in under 50 ms."""
    deadline = time.time() + limit
    fast = 0
    while time.time() < deadline and fast < 3:
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/.well-known/jwks.json")
            conn.getresponse().read()
            conn.close()
        except (OSError, http.client.HTTPException):
            fast = 0
            time.sleep(0.2)
            continue
        fast = fast + 1 if time.perf_counter() - started < 0.05 else 0
    time.sleep(0.3)


GROWTH_SCENARIOS = ["cc_basic", "code_redemption", "refresh_rotation"]


def lines_in(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def run_round(port: int, server_sid: int, contender, files: list, args: argparse.Namespace) -> dict:
    """One round of one contender, retried (with a fresh request file when its artefacts are
    single-use) while the machine was busy with foreign work or a pool ran out."""
    import cpu

    result: dict = {}
    single_use = lines_in(contender.files[0]) > 1
    for attempt in range(args.retries + 1):
        if single_use and not files:
            raise RuntimeError(f"{contender.name}: no unused request file left")
        lines_file = files.pop(0) if single_use else files[0]
        before = cpu.sample(server_sid)
        result = drive(
            port,
            contender.path,
            lines_file,
            args.duration / args.rounds,
            args.threads,
            args.connections,
        )
        after = cpu.sample(server_sid)
        result["foreign_cpu"] = cpu.foreign_share(before, after)
        result["busy"] = result["foreign_cpu"] > args.max_foreign
        result["pool_ran_out"] = single_use and result.get("wrapped", 0) > 0
        drain(port)
        retry = result["pool_ran_out"] or (result["busy"] and not args.allow_busy)
        if not retry or attempt == args.retries or (single_use and not files):
            break
        why = "pool ran out" if result["pool_ran_out"] else "machine busy"
        print(
            f"  round of {contender.name} refused ({why}, foreign CPU "
            f"{result['foreign_cpu']:.0%}); retrying",
            file=sys.stderr,
            flush=True,
        )
    return result


def summarise(plan_name: str, name: str, label: str, runs: list[dict], allow_busy: bool):
    kept = [r for r in runs if not r["pool_ran_out"] and (allow_busy or not r["busy"])]
    clean = [r for r in runs if not r["busy"] and not r["pool_ran_out"]]
    used = kept or runs
    requests = sum(r["requests"] for r in used)
    seconds = sum(r["duration_us"] for r in used) / 1e6
    return Measurement(
        plan_name,
        name,
        label,
        requests / seconds if seconds else 0.0,
        sorted(r["p50_us"] for r in used)[len(used) // 2] / 1000,
        max(r["p99_us"] for r in used) / 1000,
        requests,
        sum(r["non2xx"] + r["errors"] for r in used),
        extra={"busy_rounds": sum(1 for r in runs if r["busy"])},
        rounds=len(runs),
        clean_rounds=len(kept) if allow_busy else len(clean),
        foreign_cpu=[round(r["foreign_cpu"], 3) for r in runs],
    )


def measure(
    db: str,
    label: str,
    wanted: list[str],
    args: argparse.Namespace,
    grow_to: dict[str, int] | None = None,
) -> list[Measurement]:
    """Prepare a fresh database, start gunicorn, and measure every contender of every
    scenario, interleaved round by round."""
    import scenarios as sc

    env = configure_env(db)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL")})
    # Single-use pools sized per round (a round lasts duration / rounds), plus spare files
    # for rounds that are retried; a pool that runs out is detected, never silently reused.
    per_round = int(args.duration / args.rounds * args.max_rate * 1.2) + 200
    warm = int(args.warmup * args.max_rate * 1.2) + 200
    plans = sc.prepare(
        db,
        wanted,
        per_round,
        WORK,
        rounds=args.rounds + args.retries,
        grow_to=grow_to,
        warm=warm,
    )
    results: list[Measurement] = []
    proc, port = start_server(env, args.workers)
    try:
        for plan in plans:
            for contender in plan.contenders:
                drive(
                    port,
                    contender.path,
                    contender.warmup_file,
                    args.warmup,
                    args.threads,
                    args.connections,
                )
                drain(port)
            samples: dict[str, list[dict]] = {c.name: [] for c in plan.contenders}
            spare = {c.name: list(c.files) for c in plan.contenders}
            # The slow contender (PBKDF2) runs after the interleaved ones, so its backlog never
            # lands on another contender's measurement.
            fast = [c for c in plan.contenders if c.name != "dot_hashed_secret"]
            slow = [c for c in plan.contenders if c.name == "dot_hashed_secret"]
            for round_no in range(args.rounds):
                order = (fast if round_no % 2 == 0 else fast[::-1]) + slow
                for contender in order:
                    samples[contender.name].append(
                        run_round(port, proc.pid, contender, spare[contender.name], args)
                    )
            for contender in plan.contenders:
                m = summarise(
                    plan.name, contender.name, label, samples[contender.name], args.allow_busy
                )
                results.append(m)
                flag = " REFUSED (busy)" if m.refused else ""
                print(
                    f"{label:12} {plan.name:18} {contender.name:18} {m.rps:8.1f} req/s  "
                    f"p50 {m.p50_ms:6.2f} ms  p99 {m.p99_ms:6.2f} ms  non2xx {m.non2xx}  "
                    f"foreign CPU {max(m.foreign_cpu):.0%}{flag}",
                    flush=True,
                )
    finally:
        stop_server(proc)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repetitions")
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=0.10,
        help="refuse a round when other processes used more than this share of the CPU",
    )
    parser.add_argument("--retries", type=int, default=2, help="retries of a refused round")
    parser.add_argument(
        "--allow-busy",
        action="store_true",
        help="report rounds taken on a busy machine anyway (marked as such)",
    )
    parser.add_argument(
        "--max-rate",
        type=float,
        default=2500.0,
        help="highest req/s a single-use pool is sized for (a pool that runs out is refused)",
    )
    parser.add_argument("--scenarios", default="")
    parser.add_argument("--growth", action="store_true", help="also run the data-growth run")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()

    import scenarios as sc

    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    wanted = [s for s in args.scenarios.split(",") if s] or list(sc.SCENARIOS)
    results: list[Measurement] = []
    generator = (
        "wrk " + subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
        if shutil.which("wrk")
        else "python threads (wrk not found)"
    )
    for db in dbs:
        results += measure(db, db, wanted, args)
    if args.growth:
        db = "postgres" if "postgres" in dbs else dbs[0]
        small = measure(db, f"{db} growth 10 clients", GROWTH_SCENARIOS, args)
        large = measure(
            db,
            f"{db} growth 100k clients, 1M refresh tokens",
            GROWTH_SCENARIOS,
            args,
            grow_to={"clients": 100_000, "tokens": 1_000_000},
        )
        results += small + large
    import report

    report.write(results, Path(args.output), args, generator)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
