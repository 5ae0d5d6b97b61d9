"""Writes bench results: a markdown table with ratios and the issue-16 targets, JSON, and
charts (grouped bars per scenario, one colour per contender, the ratio printed on each bar)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
from dataclasses import asdict
from pathlib import Path
from typing import Any

CONTENDERS = ["floor", "db_floor", "oauth_token", "dot_plain_secret", "dot_hashed_secret"]
COLOURS = {
    "floor": "#9e9e9e",
    "db_floor": "#616161",
    "oauth_token": "#1f77b4",
    "dot_plain_secret": "#ff7f0e",
    "dot_hashed_secret": "#d62728",
}
# (scenario, what oauth_token is compared with, the least ratio wanted) — issue 16, item 2.
TARGETS = [
    ("cc_basic", "floor", 0.85),
    ("cc_private_key_jwt", "floor", 0.75),
    ("cc_dpop", "floor", 0.75),
    ("code_redemption", "db_floor", 0.6),
    ("refresh_rotation", "db_floor", 0.6),
    ("cc_basic", "dot_plain_secret", 2.0),
    ("code_redemption", "dot_plain_secret", 2.0),
    ("refresh_rotation", "dot_plain_secret", 2.0),
    ("password", "dot_plain_secret", 2.0),
]


def machine_facts(generator: str, args: Any) -> dict[str, str]:
    import django

    facts = {
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "django": django.get_version(),
        "platform": platform.platform(),
        "load generator": generator,
        "gunicorn workers": str(args.workers),
        "wrk threads": str(args.threads),
        "connections": str(args.connections),
        "duration per contender (s)": str(args.duration),
        "rounds": str(args.rounds),
        "refused above foreign CPU share": f"{args.max_foreign:.0%}",
        "busy rounds reported anyway": "yes" if args.allow_busy else "no",
    }
    try:
        import oauth2_provider

        facts["django-oauth-toolkit"] = oauth2_provider.__version__
    except Exception:
        pass
    with contextlib.suppress(OSError, StopIteration):
        facts["cpu"] = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return facts


HEADER = (
    "| db | scenario | contender | req/s | p50 ms | p99 ms | x floor | x db floor "
    "| x DOT plain | x DOT hashed | non-2xx | foreign CPU (max) | rounds kept |"
)


def _ratio(mine: Any, other: Any) -> str:
    if other is None or other is mine or not other.rps:
        return ""
    if mine.refused or other.refused:
        return "busy"
    return f"{mine.rps / other.rps:.2f}"


def _index(results: list[Any]) -> dict[tuple[str, str, str], Any]:
    return {(r.db, r.scenario, r.contender): r for r in results}


def table(results: list[Any]) -> str:
    rows = [HEADER, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by = _index(results)
    for r in results:
        ours = r.contender == "oauth_token"

        def other(name: str, r: Any = r, ours: bool = ours) -> Any:
            return by.get((r.db, r.scenario, name)) if ours or name.endswith("floor") else None

        foreign = max(r.foreign_cpu) if r.foreign_cpu else 0.0
        rows.append(
            f"| {r.db} | {r.scenario} | {r.contender} | {r.rps:.0f} | {r.p50_ms:.2f} "
            f"| {r.p99_ms:.2f} | {_ratio(r, other('floor'))} | {_ratio(r, other('db_floor'))} "
            f"| {_ratio(r, other('dot_plain_secret'))} | {_ratio(r, other('dot_hashed_secret'))} "
            f"| {r.non2xx} | {foreign:.0%} | {r.clean_rounds}/{r.rounds} |"
        )
    return "\n".join(rows)


def targets(results: list[Any]) -> str:
    """Each issue-16 target, per database: met, not met, or not measurable (busy machine)."""
    by = _index(results)
    rows = ["| db | target | measured | verdict |", "|---|---|---:|---|"]
    for db in sorted({r.db for r in results if "growth" not in r.db}):
        for scenario, against, wanted in TARGETS:
            ours, other = by.get((db, scenario, "oauth_token")), by.get((db, scenario, against))
            if ours is None or other is None:
                continue
            measured = _ratio(ours, other)
            verdict = (
                "not verified (busy machine)"
                if measured == "busy"
                else ("met" if float(measured) >= wanted else "NOT met")
            )
            rows.append(f"| {db} | {scenario} ≥ {wanted} x {against} | {measured} | {verdict} |")
        for r in results:
            if r.db == db and r.contender == "oauth_token" and db.startswith("postgres"):
                ok = r.p99_ms <= 4 * r.p50_ms
                rows.append(
                    f"| {db} | {r.scenario} p99 ≤ 4 x p50 | {r.p99_ms / r.p50_ms:.1f} x "
                    f"| {'met' if ok else 'NOT met'}{' (busy)' if r.refused else ''} |"
                )
    return "\n".join(["## Targets (issue 16)", "", *rows, ""])


def growth(results: list[Any]) -> str:
    """p50 of the largest data set relative to the smallest, per scenario (target ±15 %)."""
    small = {(r.scenario, r.contender): r for r in results if "growth 10 clients" in r.db}
    large = {(r.scenario, r.contender): r for r in results if "growth 100k" in r.db}
    if not small or not large:
        return ""
    rows = [
        "| scenario | contender | p50 small ms | p50 large ms | change | within ±15 % |",
        "|---|---|---:|---:|---:|---|",
    ]
    for key, s in small.items():
        big = large.get(key)
        if big is None:
            continue
        change = (big.p50_ms - s.p50_ms) / s.p50_ms * 100 if s.p50_ms else 0.0
        busy = " (busy)" if s.refused or big.refused else ""
        rows.append(
            f"| {key[0]} | {key[1]} | {s.p50_ms:.2f} | {big.p50_ms:.2f} | {change:+.1f} % "
            f"| {'yes' if abs(change) <= 15 else 'no'}{busy} |"
        )
    return "\n".join(["## Growth run", "", *rows, ""])


def chart(results: list[Any], path: Path) -> None:
    """One panel per database; per scenario a group of bars, one colour per contender, each
    labelled with its throughput relative to the scenario's crypto-only floor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dbs = [d for d in dict.fromkeys(r.db for r in results) if "growth" not in d]
    if not dbs:
        return
    by = _index(results)
    fig, axes = plt.subplots(len(dbs), 1, figsize=(12, 4.5 * len(dbs)), squeeze=False)
    for ax, db in zip(axes[:, 0], dbs, strict=True):
        scenarios = list(dict.fromkeys(r.scenario for r in results if r.db == db))
        present = [c for c in CONTENDERS if any((db, s, c) in by for s in scenarios)]
        width = 0.8 / max(1, len(present))
        for i, contender in enumerate(present):
            for j, scenario in enumerate(scenarios):
                r = by.get((db, scenario, contender))
                if r is None:
                    continue
                x = j + (i - (len(present) - 1) / 2) * width
                ax.bar(
                    x,
                    r.rps,
                    width,
                    color=COLOURS[contender],
                    hatch="//" if r.refused or r.extra.get("busy_rounds") else None,
                    label=contender
                    if j == 0 or not ax.get_legend_handles_labels()[1].count(contender)
                    else None,
                )
                floor = by.get((db, scenario, "floor"))
                label = f"{r.rps / floor.rps:.2f}x" if floor and floor.rps else f"{r.rps:.0f}"
                ax.text(x, r.rps, label, ha="center", va="bottom", fontsize=7, rotation=90)
        ax.set_xticks(range(len(scenarios)), scenarios)
        ax.set_ylabel("requests / second")
        ax.set_title(
            f"{db}: throughput (label: x the crypto-only floor; "
            "hatched: rounds taken on a busy machine)"
        )
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=False))
        ax.legend(unique.values(), unique.keys(), fontsize=8, ncol=len(unique))
        ax.margins(y=0.2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def growth_chart(results: list[Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = [d for d in dict.fromkeys(r.db for r in results) if "growth" in d]
    ours = [r for r in results if r.db in sets and r.contender == "oauth_token"]
    if len(sets) < 2 or not ours:
        return
    scenarios = list(dict.fromkeys(r.scenario for r in ours))
    by = {(r.db, r.scenario): r for r in ours}
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(sets)
    for i, label in enumerate(sets):
        xs = [j + (i - (len(sets) - 1) / 2) * width for j in range(len(scenarios))]
        values = [by[(label, s)].p50_ms if (label, s) in by else 0 for s in scenarios]
        ax.bar(xs, values, width, label=label)
        for x, v in zip(xs, values, strict=True):
            ax.text(x, v, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.set_ylabel("p50 latency, ms (lower is better)")
    ax.set_title("Growth: p50 with 10 clients vs 100,000 clients and 1 M refresh tokens")
    ax.legend(fontsize=8)
    ax.margins(y=0.2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: list[Any], out: Path, args: Any, generator: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    facts = machine_facts(generator, args)
    md = [
        "# Token endpoint benchmark",
        "",
        "Generated by `bench/run.py`; ratios are from one run, all contenders served by the",
        "same gunicorn, interleaved. A round is refused (and retried) when other processes used",
        "more than the stated share of the CPU while it ran; `rounds kept` counts the others.",
        "",
        "| fact | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in facts.items()],
        "",
        table(results),
        "",
        targets(results),
        growth(results),
    ]
    (out / "RESULTS.md").write_text("\n".join(md))
    (out / "results.json").write_text(
        json.dumps(
            {
                "facts": facts,
                "results": [{**asdict(r), "refused": r.refused} for r in results],
            },
            indent=2,
        )
    )
    try:
        chart(results, out / "chart.png")
        growth_chart(results, out / "growth.png")
    except ImportError:
        print("matplotlib not installed: no chart")
    print("\n" + table(results) + "\n\n" + targets(results) + "\n" + growth(results))
