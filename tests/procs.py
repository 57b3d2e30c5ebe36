"""Process helpers for tests that start, kill and count server, worker and reader processes (Linux /proc)."""

from __future__ import annotations

import os
import subprocess


def alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _table(columns: str) -> list[list[str]]:
    out = subprocess.run(["ps", "-ww", "-o", columns, "-A"], capture_output=True, text=True).stdout
    n = columns.count(",") + 1
    return [line.split(None, n - 1) for line in out.splitlines() if line.strip()]


def children(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    return [int(row[0]) for row in _table("pid=,ppid=") if int(row[1]) == pid]


def spawned_children(pid: int) -> list[int]:
    """Children of ``pid`` started by multiprocessing's spawn (workers, API processes), not its resource tracker."""
    return [int(r[0]) for r in _table("pid=,ppid=,args=") if len(r) == 3 and int(r[1]) == pid and "spawn_main" in r[2]]


def descendants(pid: int) -> set[int]:
    """``pid`` and every process below it."""
    kids: dict[int, list[int]] = {}
    for a, b in _table("pid=,ppid="):
        kids.setdefault(int(b), []).append(int(a))
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        found.add(p)
        todo.extend(kids.get(p, []))
    return found


def named_children(pid: int, comm: str) -> list[int]:
    """Live children of ``pid`` whose process name (/proc/PID/stat comm) is ``comm``."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        name, rest = stat.split("(", 1)[1].rsplit(")", 1)
        fields = rest.split()
        if name == comm and int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(d))
    return out
