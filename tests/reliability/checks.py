"""What the reliability suites verify, and the child processes they drive.

The survey reads every resource directory with plain ``open`` and ``flock``
calls, not through hadrosaur, so that a bug in the library's readers cannot
hide a bug in its writers.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hadrosaur import Project

from ..helpers import REPO
from .workload import COLLECTION, expected_result

TMP_NAME = re.compile(r"^\..+\.\d+\.[0-9a-f]+\.tmp$")


@dataclass
class Survey:
    """The states of a collection's resources as found on disk."""

    states: dict[str, str] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    tmp_files: int = 0
    claimed: int = 0


def _locked(path: Path) -> bool:
    # The same probe as hadrosaur._locks.is_locked, written again on purpose (see above).
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            return True
        raise
    finally:
        os.close(fd)
    return False


def survey(
    coll_dir: Path, quiescent: bool, expected: Callable[[str], Any] = expected_result
) -> Survey:
    """Check every resource directory; with ``quiescent``, nothing may be live any more.

    Allowed: no status (never started), completed with a valid result.json that
    is this ident's result, error with an error.log, pending (interrupted when
    nobody holds its lock).
    """
    out = Survey()
    claimed = coll_dir / ".updates" / ".claimed"
    out.claimed = len(os.listdir(claimed)) if claimed.is_dir() else 0
    for entry in sorted(os.scandir(coll_dir), key=lambda e: e.name):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        ident, res_dir = entry.name, Path(entry.path)
        out.tmp_files += sum(1 for name in os.listdir(res_dir) if TMP_NAME.match(name))
        try:
            word: str | None = (res_dir / "status").read_text()
        except FileNotFoundError:
            word = None
        if word is None:
            state = "none"
        elif word == "completed":
            state = word
            try:
                result = json.loads((res_dir / "result.json").read_bytes())
            except (OSError, ValueError) as exc:
                # A live recompute may have begun since the status was read: only
                # a status that still says completed makes this a violation.
                if (res_dir / "status").read_text() == "completed":
                    out.violations.append(f"{ident}: completed but result.json unreadable: {exc}")
            else:
                if result != expected(ident):
                    out.violations.append(f"{ident}: result.json holds another result")
        elif word == "error":
            state = word
            if (
                not (res_dir / "error.log").is_file()
                and (res_dir / "status").read_text() == "error"
            ):
                out.violations.append(f"{ident}: error without error.log")
        elif word == "pending":
            state = "pending" if _locked(res_dir / ".lock") else "interrupted"
            if quiescent and state == "pending":
                out.violations.append(f"{ident}: locked although every process is gone")
        else:
            state = "torn"
            out.violations.append(f"{ident}: status file holds {word!r}")
        out.states[ident] = state
    return out


def library_agrees(proj: Project, found: Survey) -> list[str]:
    """Differences between what hadrosaur reports and the survey (quiescent base)."""
    problems = list(proj.check(COLLECTION))  # drains first, then compares with a scan
    if problems:
        with proj.view(COLLECTION) as v:
            problems.extend(f"  in detail: {m}" for m in v.mismatches())
    counts = proj.stats(COLLECTION)["counts"]
    truth = Counter(found.states.values())
    for status in ("completed", "error", "interrupted", "pending"):
        if counts[status] != truth[status]:
            problems.append(f"stats {status}={counts[status]}, disk has {truth[status]}")
    rebuilt = proj.reindex(COLLECTION)[COLLECTION]
    if rebuilt != counts:
        problems.append(f"drained counts {counts} != rebuilt counts {rebuilt}")
    if (proj.base / COLLECTION / ".index.deleting").exists():
        problems.append("a half-deleted index was left behind")
    if (proj.base / COLLECTION / ".index.building").exists():
        problems.append("a killed rebuild's directory was left behind")
    for ident, state in found.states.items():
        status = proj.status(COLLECTION, ident)
        if status != ("unavailable" if state == "none" else state):
            problems.append(f"{ident}: status() says {status}, disk says {state}")
        res = proj.load(COLLECTION, ident)
        if res.status == "completed" and res.result != expected_result(ident):
            problems.append(f"{ident}: load() returned another result")
        if state == "error" and not proj.fetch_error(COLLECTION, ident):
            problems.append(f"{ident}: fetch_error() is empty")
    return problems


class Child:
    """A workload child process; its stdout lines are read without blocking."""

    def __init__(
        self,
        role: str,
        base: Path,
        seed: int,
        logs: Path,
        window: str | None = None,
        config: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.role, self.window, self.seed = role, window, seed
        self.stderr_path = logs / f"{seed}-{role}-{window or 'any'}.err"
        self._stderr: IO[bytes] = open(self.stderr_path, "wb")  # noqa: SIM115
        child_env = dict(os.environ if env is None else env)
        child_env["PYTHONPATH"] = str(REPO)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reliability.workload",
                role,
                str(base),
                str(seed),
                window or "-",
                json.dumps(config or {}),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=child_env,
        )
        assert self.proc.stdout is not None
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self._buf = b""
        self.lines: list[str] = []
        self.ready_at: float | None = None
        self.killed = False

    def read(self) -> bool:
        """Take whatever the child printed; note when it became ready. False at end of file."""
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        self._buf += data
        *complete, self._buf = self._buf.split(b"\n")
        for line in complete:
            text = line.decode()
            self.lines.append(text)
            if text == "ready" and self.ready_at is None:
                self.ready_at = time.monotonic()
        return True

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.killed = True
        self.close()

    def close(self) -> None:
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-4000:]


def wait_readable(children: list[Child], timeout: float) -> None:
    """Read the output of every child that printed within ``timeout`` seconds."""
    fds = {c.fd: c for c in children if c.proc.stdout is not None and not c.proc.stdout.closed}
    if not fds:
        time.sleep(timeout)
        return
    ready, _, _ = select.select(list(fds), [], [], timeout)
    for fd in ready:
        fds[fd].read()


def finish(child: Child, timeout: float) -> dict[str, Any]:
    """Wait for a child that stops by itself; return the JSON summary it printed."""
    deadline = time.monotonic() + timeout
    while child.proc.poll() is None and time.monotonic() < deadline:
        wait_readable([child], 0.1)
    if child.proc.poll() is None:
        child.kill()
        raise AssertionError(f"{child.role} child did not stop:\n{child.stderr()}")
    os.set_blocking(child.fd, True)
    while child.read():
        pass
    child.close()
    if child.proc.returncode != 0:
        raise AssertionError(f"{child.role} child failed:\n{child.stderr()}")
    return dict(json.loads(child.lines[-1]))
