"""Fallback load generator when wrk is absent: threads with keep-alive http.client
connections replaying the same request files. Slower than wrk (it shares the CPU with the
server under test), so results say which generator produced them."""

from __future__ import annotations

import http.client
import threading
import time
from pathlib import Path


def _parse(line: str) -> tuple[dict[str, str], bytes]:
    head, _, body = line.rstrip("\n").partition("\t")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for pair in filter(None, head.split("|")):
        name, _, value = pair.partition(":")
        headers[name.strip()] = value.strip()
    return headers, body.encode()


def run_load(port: int, path: str, lines_file: Path, duration: float, connections: int) -> dict:
    requests = [_parse(x) for x in lines_file.read_text().splitlines() if x]
    latencies: list[float] = []
    non2xx = errors = 0
    lock = threading.Lock()
    stop = time.perf_counter() + duration

    def worker(offset: int) -> None:
        nonlocal non2xx, errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = offset
        mine: list[float] = []
        bad = failed = 0
        while time.perf_counter() < stop:
            headers, body = requests[i % len(requests)]
            i += connections
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if not 200 <= response.status < 300:
                    bad += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            non2xx += bad
            errors += failed

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> int:
        return (
            int(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1e6)
            if latencies
            else 0
        )

    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "non2xx": non2xx,
        "errors": errors,
        "p50_us": pct(0.5),
        "p99_us": pct(0.99),
        "mean_us": sum(latencies) / max(1, len(latencies)) * 1e6,
    }
