"""What watching costs: workers watched by the real ``hadrosaur-tui`` vs alone, and the drain.

Two measurements, each repeated in rounds that alternate the order:

- **workers watched vs alone**: two worker processes fetch N trivial
  resources into a fresh base, once alone and once while the real monitor
  (``python -m hadrosaur_tui BASE``, in a pseudo-terminal of 120x40, its
  output read and thrown away as a terminal would) shows the collection. The
  ratio of the workers' wall time watched / alone is taken within a round.
  Also reported: the monitor's CPU time while the workers ran (from
  /proc/PID/stat), the CPU ratio (workers' and monitor's CPU watched / the
  workers' alone: less sensitive to other load on the machine than wall
  time), and how long after the workers the monitor had drained every
  marker (``.updates/`` empty: the monitor is the only reader).
- **the drain**: the first ``stats`` after N fetches into a collection whose
  index exists, per change (children/drain_first_read.py).

``--python PATH`` (repeatable) measures other versions of the project side by
side, each with its own interpreter (e.g. ``/work/main/.venv/bin/python``):
the children import only the public API, from that interpreter's install.

``python -m benchmarks.watching ROOT [--n 6000] [--rounds 3] [--python PATH]``
prints the ratios and writes JSON (``--json``).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import resource
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path
from typing import Any

from .concurrency import _collect, _start_workers
from .figures import Row, spread
from .subprocesses import run_child

__all__ = ("PtyMonitor", "measure", "watching_rows")

_COLLECTION = "trivial"
_TIMEOUT = 120.0


class PtyMonitor:
    """The real ``hadrosaur-tui`` in a pseudo-terminal, its output drained by a thread."""

    def __init__(self, python: str, base: Path, cols: int = 120, rows: int = 40) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("HADROSAUR")}
        env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        self.proc = subprocess.Popen(
            [python, "-m", "hadrosaur_tui", str(base)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=tempfile.gettempdir(),  # never the project's tree: the interpreter's own install
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self._seen = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain_output, daemon=True)
        self._reader.start()

    def _drain_output(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            with self._lock:
                self._seen += chunk
                del self._seen[: max(0, len(self._seen) - 1_000_000)]

    def wait_for(self, text: bytes, timeout: float = _TIMEOUT) -> None:
        """Wait until ``text`` was written to the terminal since the last call."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if text in self._seen:
                    self._seen.clear()
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                with self._lock:
                    tail = bytes(self._seen[-2000:])
                raise RuntimeError(f"the monitor never showed {text!r}; its last output: {tail!r}")
            time.sleep(0.02)

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def cpu_seconds(self) -> float:
        """The monitor's user + system CPU time so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Quit as a user would (``q``), then SIGTERM, then SIGKILL."""
        try:
            self.send(b"q")
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if self.proc.poll() is None:
                    os.killpg(self.proc.pid, sig)
                    try:
                        self.proc.wait(5)
                    except subprocess.TimeoutExpired:
                        continue
        os.close(self.master)
        self._reader.join(5)


def _markers_left(coll_dir: Path) -> int:
    """Markers not yet drained: in .updates/, .claimed/ and .kept/."""
    left = 0
    for sub in ("", ".claimed", ".kept"):
        try:
            with os.scandir(coll_dir / ".updates" / sub) as entries:
                left += sum(1 for e in entries if not e.is_dir(follow_symlinks=False))
        except FileNotFoundError:
            pass
    return left


def _prepared_base(root: Path, label: str, python: str) -> Path:
    base = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=root))
    seed = (
        "from hadrosaur import Project\n"
        f"p = Project({str(base)!r}); p.resource({_COLLECTION!r})(lambda i, a, c: None)\n"
        f"p.fetch({_COLLECTION!r}, 'seed'); p.stats({_COLLECTION!r})\n"
    )
    subprocess.run([python, "-c", seed], check=True, cwd=tempfile.gettempdir())
    return base


def _workers(python: str, base: Path, n: int) -> dict[str, Any]:
    """Two workers' fetches; with their CPU time (children waited for meanwhile: only them)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = _collect(_start_workers(base, n, python))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["workers_cpu_s"] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return result


def _watched(python: str, base: Path, n: int) -> dict[str, Any]:
    monitor = PtyMonitor(python, base)
    try:
        monitor.wait_for(_COLLECTION.encode())
        monitor.send(b"\r")  # open the collection: its rows are on screen, live
        monitor.wait_for(b"seed")
        time.sleep(1.0)  # the rows are loaded and the screen settled
        cpu_before = monitor.cpu_seconds()
        result = _workers(python, base, n)
        result["monitor_cpu_s"] = monitor.cpu_seconds() - cpu_before
        finished = time.monotonic()
        while _markers_left(base / _COLLECTION):
            if time.monotonic() - finished > _TIMEOUT:
                raise RuntimeError("the monitor did not drain every marker")
            time.sleep(0.01)
        result["monitor_caught_up_s"] = time.monotonic() - finished
        result["monitor_cpu_total_s"] = monitor.cpu_seconds() - cpu_before
    finally:
        monitor.stop()
    return result


def measure(root: Path, n: int, rounds: int, drain_n: int, pythons: list[str]) -> dict[str, Any]:
    """Both measurements for each interpreter, alternating (see the module docstring)."""
    out: dict[str, Any] = {"n": n, "drain_n": drain_n, "rounds": []}
    for r in range(rounds):
        order = pythons[r % len(pythons) :] + pythons[: r % len(pythons)]
        modes = ("alone", "watched") if r % 2 == 0 else ("watched", "alone")
        this_round: dict[str, Any] = {}
        for python in order:
            got: dict[str, Any] = {}
            for mode in modes:
                base = _prepared_base(root, mode, python)
                try:
                    got[mode] = (_workers if mode == "alone" else _watched)(python, base, n)
                finally:
                    shutil.rmtree(base, ignore_errors=True)
            drain_base = Path(tempfile.mkdtemp(prefix="drain-", dir=root))
            try:
                got["drain"] = run_child(python, "drain_first_read.py", drain_base, drain_n, 1)
            finally:
                shutil.rmtree(drain_base, ignore_errors=True)
            got["ratio"] = got["watched"]["seconds"] / got["alone"]["seconds"]
            this_round[python] = got
            print(
                f"  round {r + 1}, {python}: watched/alone {got['ratio']:.2f}x "
                f"({got['watched']['seconds']:.2f} / {got['alone']['seconds']:.2f} s), "
                f"monitor CPU {got['watched']['monitor_cpu_s']:.2f} s, caught up "
                f"{got['watched']['monitor_caught_up_s']:.2f} s after; drain "
                f"{got['drain']['first_s'][0] / drain_n * 1e6:.1f} µs/change",
                file=sys.stderr,
                flush=True,
            )
        out["rounds"].append(this_round)
    out["summary"] = {python: _summary(out["rounds"], python, drain_n) for python in pythons}
    out["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return out


def _summary(rounds: list[dict[str, Any]], python: str, drain_n: int) -> dict[str, Any]:
    mine = [r[python] for r in rounds]
    return {
        "ratio_median": statistics.median(g["ratio"] for g in mine),
        "ratios": [g["ratio"] for g in mine],
        # CPU of the workers and the monitor watched / the workers' alone: what
        # watching costs in CPU, less sensitive than wall time to other load.
        "cpu_ratio_median": statistics.median(
            (g["watched"]["workers_cpu_s"] + g["watched"]["monitor_cpu_s"])
            / g["alone"]["workers_cpu_s"]
            for g in mine
        ),
        "alone_s": spread([g["alone"]["seconds"] for g in mine]).as_dict(),
        "watched_s": spread([g["watched"]["seconds"] for g in mine]).as_dict(),
        "monitor_cpu_s": spread([g["watched"]["monitor_cpu_s"] for g in mine]).as_dict(),
        "caught_up_s": spread([g["watched"]["monitor_caught_up_s"] for g in mine]).as_dict(),
        "drain_us_per_change": spread(
            [g["drain"]["first_s"][0] / drain_n * 1e6 for g in mine]
        ).as_dict(),
    }


def watching_rows(result: dict[str, Any], where: str, python: str | None = None) -> list[Row]:
    """Rows: the workers' time watched vs alone, and the drain per change."""
    s = result["summary"][python or next(iter(result["summary"]))]
    n = result["n"]
    return [
        Row(
            f"2 workers watched by hadrosaur-tui vs alone, N={n:,}, {where}: time",
            f"{s['watched_s']['median']:.2f} s",
            f"{s['alone_s']['median']:.2f} s",
            s["ratio_median"],
            target="≤ 1.15",
            passed=s["ratio_median"] <= 1.15,
            detail={
                k: s[k] for k in ("ratios", "cpu_ratio_median", "monitor_cpu_s", "caught_up_s")
            },
        ),
        Row(
            f"drain, first read after {result['drain_n']:,} fetches, {where}: per change",
            f"{s['drain_us_per_change']['median']:.1f} µs",
            target="≤ 25 µs",
            passed=s["drain_us_per_change"]["median"] <= 25,
            detail={"us_per_change": s["drain_us_per_change"]},
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a directory for the bases (tmpfs to compare)")
    parser.add_argument("--n", type=int, default=6000, help="resources the two workers fetch")
    parser.add_argument("--drain-n", type=int, default=2000, help="fetches before the drain")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python", action="append", default=[], help="another interpreter")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    opts = parser.parse_args(argv)
    opts.root.mkdir(parents=True, exist_ok=True)
    pythons = [sys.executable, *opts.python]
    result = measure(opts.root, opts.n, opts.rounds, opts.drain_n, pythons)
    for python in pythons:
        print(f"{python}:", file=sys.stderr)
        for row in watching_rows(result, "here", python):
            ratio = "" if row.ratio is None else f" ({row.ratio:.2f}x)"
            print(f"  {row.metric}: {row.ours}{ratio}", file=sys.stderr)
    text = json.dumps(result)
    if opts.json is not None:
        opts.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
