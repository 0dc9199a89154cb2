"""Helpers for tests that use real child processes and real directories.

Child processes run small scripts written to the test's directory, so that
collections are defined in an importable module exactly as a user's pipeline
would define them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: A pipeline module that child processes import. Its functions record each
#: run in ``storage/runs`` so tests can count computes, and behave according
#: to the ident: "fail-*" raises, "slow-*" sleeps args["sleep"] seconds.
PIPELINE = """
import os, time
from hadrosaur import Project

proj = Project(os.environ["HADROSAUR_TEST_BASE"])


@proj.resource("items")
def compute(ident, args, ctx):
    with open(ctx.subdir / "runs", "a") as f:
        f.write(f"{os.getpid()}\\n")
    ctx.logger.info("computing %s", ident)
    if ident.startswith("slow"):
        time.sleep(args.get("sleep", 1.0))
    if ident.startswith("fail"):
        raise RuntimeError(f"failing on purpose: {ident}")
    return {"ident": ident, "pid": os.getpid()}
"""


def child_env(pipeline_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(pipeline_dir), str(REPO)])
    return env


def spawn(pipeline_dir: Path, code: str, **kwargs: object) -> subprocess.Popen[str]:
    """Start a Python child that runs ``code`` with the pipeline importable."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=child_env(pipeline_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )


def run_child(pipeline_dir: Path, code: str, timeout: float = 120) -> str:
    """Run a child to completion; fail the test with its stderr if it fails."""
    child = spawn(pipeline_dir, code)
    out, err = child.communicate(timeout=timeout)
    assert child.returncode == 0, f"child failed ({child.returncode}):\n{err}"
    return out


def wait_for(
    predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.02
) -> None:
    """Poll until ``predicate()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(interval)


def scan_counts(coll_dir: Path) -> dict[str, int]:
    """Count statuses by reading every status file directly (the truth)."""
    counts: dict[str, int] = {}
    for entry in coll_dir.iterdir():
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        status_file = entry / "status"
        if status_file.exists():
            word = status_file.read_text().strip()
            word = "completed" if word == "complete" else word
            counts[word] = counts.get(word, 0) + 1
    return counts


def unshare_works() -> bool:
    """True when ``unshare --uts`` may give a child its own host name (root, CAP_SYS_ADMIN)."""
    if shutil.which("unshare") is None or shutil.which("hostname") is None:
        return False
    try:
        out = subprocess.run(
            ["unshare", "--uts", "sh", "-c", "hostname nodeb && hostname"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "nodeb"


def on_host(host: str, pipeline_dir: Path, code: str) -> subprocess.Popen[str]:
    """A Python child running ``code`` on this machine, in a UTS namespace named ``host``.

    It shares the filesystem, clocks and flocks; only its host name differs,
    which is what hadrosaur decides "another host" by (meta.json's host).
    """
    return subprocess.Popen(
        [
            "unshare",
            "--uts",
            "sh",
            "-c",
            f'hostname {host} && exec "$0" -c "$1"',
            sys.executable,
            textwrap.dedent(code),
        ],
        env=child_env(pipeline_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
