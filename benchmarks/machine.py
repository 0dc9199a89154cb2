"""Where the benchmark runs: the machine, and the two filesystems it compares.

Every comparison runs on a disk and on a memory filesystem (tmpfs), because
the disk of a shared or virtual machine can slow down several-fold from one
run to the next while memory stays steady; the results name both, with the
mount each one lives on.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ("Where", "describe_machine", "mount_of")


@dataclass(frozen=True)
class Where:
    """A filesystem to measure on: ``label`` is "memory" or "disk", ``root`` a writable dir."""

    label: str
    root: Path


def mount_of(path: Path) -> dict[str, str]:
    """The mount holding ``path``: its mount point, device and filesystem type."""
    path = path.resolve()
    best = {"mount_point": "/", "device": "?", "type": "?"}
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return best
    longest = -1
    for line in lines:
        device, point, fstype, *_ = line.split()
        point = point.replace("\\040", " ")
        inside = path == Path(point) or Path(point) in path.parents
        if inside and len(point) > longest:
            longest = len(point)
            best = {"mount_point": point, "device": device, "type": fstype}
    return best


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=Path(__file__).parent, check=False
        )
    except OSError:
        return ""
    return done.stdout.strip()


def describe_machine(places: list[Where]) -> dict[str, Any]:
    """Cores, memory, CPU, Python, load, and the filesystem of each place measured."""
    import hadrosaur

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "hadrosaur": hadrosaur.__version__,
        "git_commit": _git("rev-parse", "--short", "HEAD") or "?",
        # Uncommitted changes to the library measured (others may be editing it).
        "library_changes_not_committed": bool(
            _git("status", "--porcelain", "--", "hadrosaur", "hadrosaur_tui")
        ),
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
        "filesystems": {w.label: {"root": str(w.root), **mount_of(w.root)} for w in places},
    }
