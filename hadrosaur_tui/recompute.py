"""Recomputing from the monitor: one ``hadrosaur recompute`` child process, followed and stoppable.

The monitor never computes in its own process: a resource's function may
take hours, crash, or need the pipeline's environment, and the monitor must
stay responsive. It runs ``hadrosaur recompute BASE COLL --idents-from -
--jsonl --log-output [--jobs N]`` in a child Python instead, which loads the
function from the collection's recorded reference, computes the resources
(on N worker processes with ``--jobs``), sends what they print to their logs,
and prints one JSON line per resource as it ends. The idents go through its
standard input, since thousands do not fit on a command line.

:class:`RecomputeRun` follows that child from a worker thread: each line
moves a :class:`~hadrosaur_tui.recompute_tally.RecomputeTally` on, posted as
:class:`RecomputeProgress`, and the end is posted as
:class:`RecomputeFinished`. The rows themselves change in the table through
the reader, like any other writer's. :meth:`RecomputeRun.stop` stops the
child as Ctrl-C in a terminal would: SIGINT to its process group (the child
and its workers), so what was computing ends ``interrupted`` and what
completed stays completed; SIGTERM, then SIGKILL, if it is still there
after a grace period each.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import IO

from textual.message import Message

from hadrosaur.children import python_command
from hadrosaur.display import last_line

from .messages import RecomputeFinished, RecomputeProgress
from .recompute_tally import RecomputeTally, Verb

__all__ = ("STOP_GRACE", "RecomputeRun", "recompute_command", "recompute_question")

#: Seconds a stopped child gets to exit after SIGINT, and again after SIGTERM.
STOP_GRACE = 5.0


#: ``python -m hadrosaur`` with SIGINT meaning KeyboardInterrupt again. A process started
#: with SIGINT ignored (``nohup``, ``cmd &`` in a script) passes that on to its children,
#: and Python then never turns SIGINT into KeyboardInterrupt: stop() would not reach it.
_CHILD = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from hadrosaur.cli import main; sys.exit(main(sys.argv[1:]))"
)


def recompute_command(base: Path, collection: str, jobs: int) -> list[str]:
    """The child that recomputes the idents of its standard input, one JSON line per resource."""
    # python_command: nothing is imported from the current directory (often the base).
    args = ["recompute", str(base), collection, "--idents-from", "-", "--jsonl", "--log-output"]
    command = python_command(_CHILD, args)
    return command + (["--jobs", str(jobs)] if jobs > 1 else [])


def recompute_question(collection: str, idents: Sequence[str], jobs: int) -> str:
    """What the confirm screen asks: which resources, how many, on how many workers."""
    if len(idents) == 1:
        question = f"Recompute {collection}/{idents[0]}?"
    else:
        workers = f"{jobs} worker process{'es' if jobs > 1 else ''}"
        question = (
            f"Recompute {len(idents):,} resources of {collection} "
            f"(every error or interrupted one in this view) on {workers}?"
        )
    return question + (
        "\n\nIt runs in the background (hadrosaur recompute); its progress shows "
        "here live, and ctrl+c stops it."
    )


class RecomputeRun:
    """One recompute child process: started and followed by :meth:`run`, ended by :meth:`stop`.

    :meth:`run` blocks until the child ends (call it from a worker thread);
    :meth:`stop` may be called from any thread, before or during :meth:`run`.
    """

    def __init__(
        self,
        base: Path,
        collection: str,
        idents: Sequence[str],
        *,
        jobs: int,
        verb: Verb,
        post: Callable[[Message], object],
        grace: float = STOP_GRACE,
    ) -> None:
        self.base = base
        self.collection = collection
        self.idents = tuple(idents)
        self.jobs = jobs
        self.grace = grace
        self._post = post
        self._lock = threading.Lock()  # tally: the reading thread and stop() both move it
        self._tally = RecomputeTally(verb, len(self.idents))
        self._process: subprocess.Popen[str] | None = None
        self._stop_requested = threading.Event()

    @property
    def tally(self) -> RecomputeTally:
        return self._tally

    def run(self) -> None:
        """Start the child, feed it the idents, follow its lines; post the end."""
        command = recompute_command(self.base, self.collection, self.jobs)
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errors:
            try:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=errors,  # a file: a chatty child can never block on a full pipe
                    text=True,
                    encoding="utf-8",
                    errors="replace",
                    # Its own process group, so stop() reaches its workers too,
                    # and a Ctrl-C meant for the terminal does not.
                    start_new_session=True,
                )
            except OSError as exc:
                self._finish(-1, f"could not start {command[0]}: {exc}")
                return
            with process:  # closes its pipes and waits for it, whatever happens here
                with self._lock:
                    self._process = process
                    stopped_early = self._stop_requested.is_set()
                if stopped_early:
                    self._interrupt()  # stop() came before the child existed
                self._feed(process)
                assert process.stdout is not None
                for line in process.stdout:
                    self._move(partial(RecomputeTally.with_line, line=line))
            self._finish(process.returncode, _last_line_of(errors))

    def stop(self) -> None:
        """Stop the child as Ctrl-C would; escalate to SIGTERM and SIGKILL if it lingers."""
        with self._lock:
            if self._stop_requested.is_set() or not self._tally.running:
                return
            self._stop_requested.set()
            started = self._process is not None
        self._move(lambda tally: replace(tally, state="stopping"))
        if started:
            self._interrupt()  # else run() does, once the child exists

    def wait_stopped(self, timeout: float) -> bool:
        """After :meth:`stop`: wait up to ``timeout`` s for the child to end; True if it did."""
        process = self._process
        if process is None:
            return True
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    # -- inside --------------------------------------------------------------------

    def _feed(self, process: subprocess.Popen[str]) -> None:
        """Write every ident to the child's stdin, one per line, then close it."""
        assert process.stdin is not None
        try:
            with process.stdin:
                process.stdin.writelines(f"{ident}\n" for ident in self.idents)
        except BrokenPipeError:
            pass  # it ended before reading them all (bad input, or stopped): its exit says why

    def _move(self, step: Callable[[RecomputeTally], RecomputeTally]) -> None:
        with self._lock:
            before = self._tally
            self._tally = step(before)
            tally = self._tally
        if tally != before:
            self._post(RecomputeProgress(tally))

    def _finish(self, returncode: int, error_line: str) -> None:
        stopped = self._stop_requested.is_set()

        def end(tally: RecomputeTally) -> RecomputeTally:
            if stopped and tally.done < tally.total:
                return replace(tally, state="stopped")
            if not stopped and returncode not in (0, 1):  # 2: bad input; else it crashed
                problem = error_line.removeprefix("hadrosaur: error: ") or (
                    f"hadrosaur recompute exited with {returncode}"
                )
                return replace(tally, state="finished", problem=problem)
            return replace(tally, state="finished")

        self._move(end)
        tally = self._tally
        summary = tally.problem or tally.describe()
        self._post(
            RecomputeFinished(self.collection, self.idents, returncode, summary, tally=tally)
        )

    def _interrupt(self) -> None:
        self._signal(signal.SIGINT)
        threading.Thread(target=self._escalate, name="recompute-stop", daemon=True).start()

    def _signal(self, signum: int) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)  # the child leads its group (start_new_session)

    def _escalate(self) -> None:
        process = self._process
        assert process is not None
        for signum in (signal.SIGTERM, signal.SIGKILL):
            try:
                process.wait(self.grace)
                return
            except subprocess.TimeoutExpired:
                self._signal(signum)


def _last_line_of(stream: IO[str]) -> str:
    stream.seek(0)
    return last_line(stream.read())
