"""Probing many compute locks: one read of /proc/locks answers for the held ones.

A real process holds half of the locks; the probe must find exactly those
busy, and probe (open and flock) only the others, which it may not call
free on the strength of a listing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hadrosaur import _locks, _markers

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="Linux only")

HOLDER = """
import fcntl, os, sys, time
fds = []
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    fds.append(fd)
print("holding", flush=True)
time.sleep(600)
"""


def test_held_locks_are_read_from_proc_locks_and_only_free_ones_probed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    idents = [f"r{i:02d}" for i in range(20)]
    for ident in idents:
        (tmp_path / ident).mkdir()
        (tmp_path / ident / ".lock").touch()
    held = idents[::2]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, *(str(tmp_path / i / ".lock") for i in held)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        probed: list[str] = []
        real = _locks.lock_held

        def counted(path: str | os.PathLike[str], dir_fd: int | None = None) -> bool:
            probed.append(Path(path).parent.name)
            return real(path, dir_fd)

        monkeypatch.setattr(_locks, "lock_held", counted)
        found = _markers.probe(tmp_path, idents)
        assert found.busy == set(held)
        assert found.directories == set(idents)
        assert sorted(probed) == sorted(set(idents) - set(held))  # the free ones, by flock
    finally:
        holder.kill()
        holder.communicate()
    probed.clear()
    assert _markers.probe(tmp_path, idents).busy == set()  # the holder is gone: all free
    assert sorted(probed) == idents
