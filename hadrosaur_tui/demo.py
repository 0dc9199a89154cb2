"""``hadrosaur-tui --demo``: a live demo pipeline in a temporary base, watched by the app.

The pipeline (``python -m hadrosaur.demo``) runs in a child process, exactly
as a user's pipeline would, so the app is shown doing its real job: reading
a base directory that another process writes.
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
from pathlib import Path

from hadrosaur.children import python_module_command

__all__ = ("demo_base", "run_with_demo", "start_demo_pipeline", "stop_demo_pipeline")


def demo_base() -> Path:
    """A new, empty base directory in a temporary directory of its own (kept afterwards)."""
    base = Path(tempfile.mkdtemp(prefix="hadrosaur-demo-")) / "base"
    base.mkdir()
    return base


def start_demo_pipeline(
    base: Path, *, workers: int = 4, speed: float = 1.0
) -> subprocess.Popen[bytes]:
    """Start the demo pipeline writing into ``base``; its output goes to ``base``'s parent."""
    log = open(base.parent / "demo-pipeline.log", "ab")  # noqa: SIM115 (handed to the child)
    try:
        return subprocess.Popen(
            python_module_command(
                "hadrosaur.demo", [str(base), "--workers", str(workers), "--speed", str(speed)]
            ),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def stop_demo_pipeline(child: subprocess.Popen[bytes]) -> None:
    """Ctrl-C the pipeline (running resources become interrupted), then make sure it ends."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def run_with_demo(*, poll_interval: float = 2.0, watch: bool = True) -> int:
    """Create a temporary base, start the demo pipeline in it, and monitor it."""
    from .app import run

    base = demo_base()
    child = start_demo_pipeline(base)
    try:
        code = run(base, poll_interval=poll_interval, watch=watch)
    finally:
        stop_demo_pipeline(child)
    print(f"The demo base directory stays in {base} (delete it when done).")
    return code
