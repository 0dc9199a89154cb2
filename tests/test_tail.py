"""FileTail, the one tailer: rotation loses nothing, truncation and replacement restart.

The writers are real: the project's own rotating handler in a thread, and
renames and truncations done on the file system between reads.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

from hadrosaur._log_file import ResourceLogHandler
from hadrosaur.tail import FileTail, TailRead


def _rotate(path: Path, backups: int = 3) -> None:
    """What ResourceLogHandler does: shift the backups, move the file to .1."""
    for n in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
    os.replace(path, path.with_name(f"{path.name}.1"))


@pytest.mark.parametrize("hold", [False, True])
def test_lines_written_just_before_a_rotation_are_read(tmp_path: Path, hold: bool) -> None:
    log = tmp_path / "run.log"
    log.write_text("one\n")
    tail = FileTail(log, hold=hold)
    assert tail.read() == TailRead(data=b"one\n")
    with log.open("a") as f:
        f.write("the last line before the rotation\n")
    _rotate(log)
    log.write_text("first of the new file\n")
    got = tail.read()
    assert got.finished == b"the last line before the rotation\n"
    assert got.reset == "rotated" and got.start == 0
    assert got.data == b"first of the new file\n"


def test_a_read_between_the_rename_and_the_new_file_finishes_the_old_one(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("a\n")
    tail = FileTail(log)
    tail.read()
    with log.open("a") as f:
        f.write("b\n")
    _rotate(log)  # the handler has not created the new run.log yet
    assert tail.read() == TailRead(finished=b"b\n")
    log.write_text("c\n")
    assert tail.read() == TailRead(data=b"c\n", reset="rotated")


def test_a_deleted_file_held_open_is_finished_then_replaced(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("attempt 1\n")
    tail = FileTail(log, hold=True)
    tail.read()
    with log.open("a") as f:
        f.write("its last line\n")
    log.unlink()  # a recompute removes the log of the previous attempt
    log.write_text("attempt 2\n")
    got = tail.read()
    assert got == TailRead(b"its last line\n", b"attempt 2\n", 0, "replaced")


def test_truncation_restarts_from_the_top(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("0123456789\n" * 10)
    tail = FileTail(log)
    tail.read()
    with log.open("w") as f:
        f.write("short\n")
    assert tail.read() == TailRead(data=b"short\n", reset="truncated")


def test_a_limit_reads_in_chunks(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_bytes(b"x" * 2500)
    tail = FileTail(log)
    sizes = []
    while True:
        got = tail.read(limit=1000)
        sizes.append((got.start, len(got.data), got.more))
        if not got.more:
            break
    assert sizes == [(0, 1000, True), (1000, 1000, True), (2000, 500, False)]


def test_duplicate_reads_a_rotated_part_after_it_moved(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("old part\n")
    tail = FileTail(log, hold=True)
    tail.read()
    fd = tail.duplicate()
    assert fd is not None
    try:
        _rotate(log)
        log.write_text("new\n")
        tail.read()
        assert os.pread(fd, 100, 0) == b"old part\n"
    finally:
        os.close(fd)
        tail.close()


@pytest.mark.parametrize("hold", [False, True])
def test_a_rotating_handler_in_a_thread_loses_no_line(tmp_path: Path, hold: bool) -> None:
    """The project's handler rotates every ~40 lines while the tail reads; every line arrives once.

    The backups are many, so that a slow reader never sees a file dropped:
    any line missing is the tailer's loss.
    """
    log = tmp_path / "run.log"
    lines = 3000
    handler = ResourceLogHandler(str(log), max_bytes=1000, backups=200)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"tail-test-{hold}")
    logger.propagate = False
    logger.addHandler(handler)
    done = threading.Event()

    def write() -> None:
        for i in range(1, lines):
            logger.warning("line %05d", i)
        done.set()

    writer = threading.Thread(target=write)
    tail = FileTail(log, backups=200, hold=hold)
    logger.warning("line %05d", 0)
    received = bytearray(tail.read().data)  # following from here on
    resets = set()
    writer.start()
    try:
        while True:
            finished_writing = done.is_set()
            got = tail.read()
            received += got.finished + got.data
            resets.add(got.reset)
            if finished_writing and not got.finished and not got.data:
                break
    finally:
        writer.join()
        handler.close()
        logger.removeHandler(handler)
        tail.close()
    got_lines = received.decode().splitlines()
    expected = [f"line {i:05d}" for i in range(lines)]
    missing = sorted(set(expected) - set(got_lines))
    assert not missing, f"{len(missing)} lines lost, from {missing[0]}"
    assert got_lines == expected, f"{len(got_lines) - len(expected)} lines repeated"
    assert "rotated" in resets and "replaced" not in resets


def test_a_file_not_there_yet_is_one_look(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A log not written yet costs each read one look, not 20 searches of the backups."""
    import hadrosaur.tail as tail_module

    looks: list[Path] = []
    real = tail_module._identity

    def counted(path: Path) -> tuple[int, int] | None:
        looks.append(path)
        return real(path)

    monkeypatch.setattr(tail_module, "_identity", counted)
    log = tmp_path / "run.log"
    tail = FileTail(log, hold=True)
    for _ in range(3):
        assert tail.read() == TailRead()
    assert looks == []
    log.write_text("now it is\n")
    assert tail.read() == TailRead(data=b"now it is\n")
