"""Capturing what a function prints into its resource's run.log (``--log-output``).

The capture works at the file-descriptor level as well as on ``sys.stdout``
and ``sys.stderr``, so output from C extensions and child processes lands
in the log too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

__all__ = ("output_to_log",)


@contextmanager
def output_to_log(path: Path) -> Iterator[None]:
    """Append this process's stdout and stderr to ``path`` during the block.

    Both levels are redirected: ``sys.stdout``/``sys.stderr`` (a line-buffered
    stream, so printed lines interleave with ``ctx.logger`` lines in order),
    and file descriptors 1 and 2, for C extensions and child processes. The
    file is opened with O_APPEND, as the log handler's is, so neither
    overwrites the other. If the log handler rotates the file during the
    block, the rest of the output lands in the rotated file. An empty file is
    removed afterwards, so that "no run.log" still means "nothing was logged".
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    # O_NOFOLLOW: a run.log that is a symlink is refused (ELOOP), never written through.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        with (
            open(fd, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False) as out,
            redirect_stdout(out),
            redirect_stderr(out),
        ):
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for saved_fd in saved:
            os.close(saved_fd)
        try:
            st = os.fstat(fd)
            if st.st_size == 0 and os.stat(path).st_ino == st.st_ino:
                os.unlink(path)
        except FileNotFoundError:
            pass  # rotated away
        finally:
            os.close(fd)
