"""How busy the machine was with work that is not ours, while a round ran.

A round's numbers mean something only if the benchmark had the machine to itself: another
process taking CPU lowers every contender's throughput, and not by the same amount. Linux
counts CPU time per process and for the whole machine (``/proc``); the *foreign share* of a
round is the machine's busy time minus that of the server's processes (the gunicorn session),
of the database and cache servers, and of the load generator (children of this process), over
the round's wall time times the cores.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    """Seconds of CPU the whole machine spent not idle (all cores), since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


# The database and cache servers the contenders talk to: their CPU serves the benchmark, so it
# is counted as ours (on a busy machine this under-states the foreign share a little, since
# other users of the same servers are counted too; it never refuses a quiet round for it).
SERVICES = ("postgres", "redis-server")


def _session_cpu(sid: int) -> float:
    """Seconds of CPU used by every live process of session ``sid`` (gunicorn started with
    ``start_new_session``: its master and workers), including reaped children, and by the
    database and cache server processes (``SERVICES``)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        # after "pid (comm) ": state ppid pgrp session ... utime(11) stime(12) cutime cstime
        if int(rest[3]) != sid and comm not in SERVICES:
            continue
        total += int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
    return total / TICK


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Sample:
    wall: float
    machine: float
    server: float
    children: float


def sample(server_sid: int) -> Sample:
    return Sample(time.monotonic(), _machine_busy(), _session_cpu(server_sid), _children_cpu())


def foreign_share(before: Sample, after: Sample) -> float:
    """Share (0 to 1) of the machine's capacity used by others between two samples."""
    wall = after.wall - before.wall
    if wall <= 0:
        return 0.0
    ours = (after.server - before.server) + (after.children - before.children)
    foreign = (after.machine - before.machine) - ours
    return max(0.0, foreign) / (wall * (os.cpu_count() or 1))


def load_average() -> float:
    return os.getloadavg()[0]
