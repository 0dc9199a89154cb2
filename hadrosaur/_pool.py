"""The process pool fetch_many creates itself: a dead worker is one task's problem.

``concurrent.futures.ProcessPoolExecutor`` breaks as a whole when one worker
dies (a segfault, ``os._exit``, the out-of-memory killer): every task in
flight fails with ``BrokenProcessPool``, which names no task, the other
workers are terminated mid-compute, and the executor cannot be used again.
Here each worker has its own pipe and runs one task at a time, so the parent
always knows which task a dead worker held; it reports that task
(:class:`Died`, with the exit code) and starts a new worker in its place. The
other workers carry on untouched.

Workers also die with the parent: if the process running fetch_many is
killed (SIGKILL, no cleanup), nothing is left computing or idling, reparented
to init (see :func:`_bind_to_parent`).

Example:
    >>> with WorkerPool(2) as pool:  # doctest: +SKIP
    ...     pool.submit(sum, ([1, 2],), tag="a")
    ...     pool.wait()
    [Done(tag='a', value=3)]
"""

from __future__ import annotations

import ctypes
import errno
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from ._store import now_ms
from .errors import HadrosaurError

__all__ = ("PIPE_LOST_EXIT", "Died", "Done", "Failed", "RemoteTraceback", "WorkerPool")

#: After SIGTERM, how long a worker may take to exit before it gets SIGKILL.
TERMINATE_GRACE = 2.0
#: How often (s) a wait also asks whether busy workers are still alive: their
#: pipe and sentinel do not tell when a process the function forked holds them.
LIVENESS_POLL = 0.5
#: The exit status of a worker that a Ctrl-C reached while it waited for work.
_INTERRUPTED_EXIT = 128 + signal.SIGINT
#: The exit status of a worker whose pipe to the parent the function closed.
PIPE_LOST_EXIT = 125
#: prctl(2) option: the signal this process gets when its parent (thread) dies.
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Done:
    """A task returned ``value``."""

    tag: Any
    value: Any


@dataclass(frozen=True)
class Failed:
    """A task raised ``error`` (its worker's traceback is the error's ``__cause__``)."""

    tag: Any
    error: BaseException


@dataclass(frozen=True)
class Died:
    """The worker running a task died; it has been replaced.

    ``exitcode`` is ``multiprocessing``'s: the exit status, or minus the
    number of the signal that killed it. ``started_ms`` is when the worker
    was started (epoch ms): what it wrote before that is not its work.
    """

    tag: Any
    pid: int
    exitcode: int | None
    started_ms: int


Event = Done | Failed | Died


class RemoteTraceback(Exception):
    """The traceback of an error raised in a worker, attached as its ``__cause__``."""

    def __str__(self) -> str:
        return f"\n{self.args[0]}"


@dataclass
class _Slot:
    """One worker process, its end of the pipe, and the task it holds (None: idle)."""

    process: BaseProcess
    conn: Connection
    started_ms: int
    task: Any = None
    busy: bool = False


class WorkerPool:
    """``size`` worker processes that each run one task at a time; dead ones are replaced.

    Only one task per worker is ever in flight, so a task and its result never
    cross in the pipe (no deadlock with large payloads) and a death loses at
    most one task. Use from one thread (the one that created the pool: see
    :func:`_bind_to_parent`).
    """

    def __init__(self, size: int) -> None:
        self._context = multiprocessing.get_context()
        # With fork and spawn the worker's parent is this process, which the
        # worker checks; with forkserver it is the server (which dies with us).
        method = self._context.get_start_method()
        self._parent = os.getpid() if method in ("fork", "spawn") else None
        self._size = size
        self._slots: list[_Slot] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None or issubclass(kind, Exception):
            self.close()  # an error of one task: the others finish what they hold
        else:
            self.terminate()  # Ctrl-C (or SystemExit): stop now

    @property
    def busy(self) -> int:
        """How many tasks are in flight."""
        return sum(slot.busy for slot in self._slots)

    def has_idle(self) -> bool:
        """True when :meth:`submit` can start a task now."""
        return self.busy < self._size

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...], tag: Any) -> None:
        """Run ``fn(*args)`` on an idle worker (started if needed); ``tag`` names it in events."""
        # Pickled here, not in the worker's pipe: an unpicklable task is the
        # caller's error, raised before any worker holds it.
        payload = pickle.dumps((fn, args), pickle.HIGHEST_PROTOCOL)
        slot = next((slot for slot in self._slots if not slot.busy), None)
        if slot is not None and not slot.process.is_alive():
            self._forget(slot)  # died while idle (killed from outside): start another
            slot = None
        if slot is None:
            if len(self._slots) >= self._size:
                raise RuntimeError("no idle worker: check has_idle() before submit()")
            slot = self._start()
            self._slots.append(slot)
        slot.task, slot.busy = tag, True
        try:
            slot.conn.send_bytes(payload)
        except OSError:
            pass  # it died just now: wait() reports the task as Died, nothing lost

    def wait(self) -> list[Event]:
        """Block until at least one task has finished, failed or lost its worker."""
        if not self.busy:
            raise RuntimeError("wait() with no task in flight")
        while True:
            busy = [slot for slot in self._slots if slot.busy]
            ready = set(
                wait([s.conn for s in busy] + [s.process.sentinel for s in busy], LIVENESS_POLL)
            )
            events: list[Event] = []
            for slot in busy:
                # A child the function forked inherits the worker's pipe and sentinel
                # and keeps them open after the worker dies: so ask the kernel too.
                if (
                    slot.conn in ready
                    or slot.process.sentinel in ready
                    or not slot.process.is_alive()
                ):
                    event = self._collect(slot)
                    if event is not None:
                        events.append(event)
            if events:
                return events

    def close(self) -> None:
        """Let every worker finish its task, then stop them (what a normal end does)."""
        for slot in self._slots:
            try:
                slot.conn.send_bytes(b"")  # the stop request
            except OSError:
                pass  # already dead: nothing to stop
        for slot in self._slots:
            while slot.busy:
                ready = wait([slot.conn, slot.process.sentinel], LIVENESS_POLL)
                if slot.process.sentinel in ready or not slot.process.is_alive():
                    break
                if not ready:
                    continue
                try:
                    # A reply nobody wants any more, read so that the worker is
                    # not blocked sending it while we wait for it to exit.
                    slot.conn.recv_bytes()
                except (EOFError, OSError):
                    break
                slot.busy = False
            slot.process.join()
            slot.conn.close()
        self._slots.clear()

    def terminate(self) -> None:
        """Stop every worker now (Ctrl-C): SIGTERM, then SIGKILL after a grace period.

        What they were computing stays pending with its lock released by the
        kernel, which readers see as ``interrupted``.
        """
        for slot in self._slots:
            slot.process.terminate()
        deadline = time.monotonic() + TERMINATE_GRACE
        for slot in self._slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.exitcode is None:
                slot.process.kill()  # a function that handles SIGTERM must not keep us waiting
                slot.process.join()
            slot.conn.close()
        self._slots.clear()

    def _start(self) -> _Slot:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve, args=(theirs, self._parent), name="hadrosaur-worker"
        )
        started = now_ms()
        process.start()
        theirs.close()  # the worker holds its end; ours must not keep it open
        return _Slot(process=process, conn=ours, started_ms=started)

    def _collect(self, slot: _Slot) -> Event | None:
        """The event of a slot whose pipe or process is ready; None if nothing happened yet."""
        tag = slot.task
        try:
            # The reply may be in the pipe even if the worker died right after sending it.
            reply = slot.conn.recv_bytes() if slot.conn.poll() else None
        except (EOFError, OSError):
            reply = None  # died while sending: the task is lost with the worker
        if reply is not None:
            slot.task, slot.busy = None, False
            return _decode(tag, reply)
        if slot.process.is_alive():
            return None
        slot.process.join()
        died = Died(tag, slot.process.pid or 0, slot.process.exitcode, slot.started_ms)
        self._forget(slot)  # a new worker is started by the next submit()
        return died

    def _forget(self, slot: _Slot) -> None:
        slot.process.join()  # reaps it: no zombie, and exitcode is final
        slot.conn.close()
        self._slots.remove(slot)


def _decode(tag: Any, reply: bytes) -> Done | Failed:
    try:
        ok, value, text = pickle.loads(reply)
    except Exception as exc:  # a value whose class cannot be rebuilt here
        return Failed(tag, HadrosaurError(f"a worker's reply could not be read: {exc!r}"))
    if ok:
        return Done(tag, value)
    value.__cause__ = RemoteTraceback(text)
    return Failed(tag, value)


def _serve(conn: Connection, parent: int | None) -> None:
    """A worker's life: run tasks from ``conn`` one at a time until asked to stop."""
    try:
        _bind_to_parent(parent)
        while True:
            try:
                data = conn.recv_bytes()
            except EOFError:
                return  # the parent closed its end: nothing more will come
            if not data:
                return
            conn.send_bytes(_run_task(data))
    except (BrokenPipeError, ConnectionResetError):
        return  # the parent is gone: nobody wants the reply
    except OSError as exc:
        if exc.errno != errno.EBADF:
            raise
        # The function closed this worker's end of the pipe (os.closerange(3, ...)
        # is a common idiom): no reply can reach the parent, which sees the exit
        # status and records the resource (see _casualties.describe_exit).
        os._exit(PIPE_LOST_EXIT)
    except KeyboardInterrupt:
        # Ctrl-C in a terminal signals the whole process group, workers too;
        # the parent handles it (it stops the run), so exit without a traceback.
        sys.exit(_INTERRUPTED_EXIT)


def _run_task(data: bytes) -> bytes:
    """Run one pickled task; its pickled reply (ok, value or error, traceback text)."""
    try:
        fn, args = pickle.loads(data)
        reply: tuple[bool, Any, str] = (True, fn(*args), "")
    except Exception as exc:
        reply = (False, exc, traceback.format_exc())
    try:
        return pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a result or error that does not pickle
        error = HadrosaurError(f"a worker could not send back {reply[1]!r}: {exc!r}")
        return pickle.dumps((False, error, reply[2] or traceback.format_exc()))


def _bind_to_parent(parent: int | None) -> None:
    """Make this worker die with the process that started it, even on SIGKILL.

    On Linux, prctl(PR_SET_PDEATHSIG) has the kernel send SIGKILL when the
    parent dies. It fires when the parent *thread* that forked this process
    ends, not the whole process: the pool is used from the thread that created
    it, which stays in fetch_many until the pool is closed, so that thread
    ends only with the call or the process. The parent may have died before
    the prctl took effect; then this process is already reparented and exits.
    Elsewhere, a thread polls the parent's pid instead.
    """
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # the parent died while this worker started: nobody wants its work
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if parent is not None and os.getppid() != parent:
                os._exit(1)  # died between the check above and the prctl
            return
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)  # SIGKILL-like: the compute lock is released, the resource reads interrupted
