"""LogFollower and ``hadrosaur log -f`` against a writer in another process.

The writer is a real child process that appends, truncates, rotates
(RotatingFileHandler-style: rename to run.log.1, start a new run.log) and
deletes the file on command, so the follower sees what it would see in use.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hadrosaur import DamagedResource, Project, RefusedPath
from hadrosaur.follow import FollowUpdate, LogFollower

from .helpers import REPO, wait_for

WRITER = r"""
import json, os, sys

for line in sys.stdin:
    cmd = json.loads(line)
    op, path = cmd["op"], cmd["path"]
    if op == "append":
        with open(path, "ab") as f:
            f.write(bytes.fromhex(cmd["hex"]))
    elif op == "burst":  # many small appends, each its own open, as a logger does
        for i in range(cmd["n"]):
            with open(path, "a") as f:
                f.write(f"line {i}\n")
    elif op == "truncate":
        with open(path, "wb") as f:
            f.write(bytes.fromhex(cmd["hex"]))
    elif op == "rotate":
        os.replace(path, path + ".1")
        with open(path, "wb") as f:
            f.write(bytes.fromhex(cmd["hex"]))
    elif op == "remove":
        os.unlink(path)
    print("ok", flush=True)
"""


class Writer:
    """A child process that changes a file on command and answers when done."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, op: str, path: Path, data: bytes | str = b"", **extra: object) -> None:
        raw = data.encode() if isinstance(data, str) else data
        cmd = {"op": op, "path": str(path), "hex": raw.hex(), **extra}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def wait(self) -> None:
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline() == "ok\n"

    def do(self, op: str, path: Path, data: bytes | str = b"", **extra: object) -> None:
        self.send(op, path, data, **extra)
        self.wait()

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


@pytest.fixture
def writer() -> Iterator[Writer]:
    w = Writer()
    yield w
    w.close()


def test_appends_from_another_process_arrive_once_and_in_order(
    tmp_path: Path, writer: Writer
) -> None:
    log = tmp_path / "run.log"
    follower = LogFollower(log)
    writer.send("burst", log, n=3000)  # the follower reads while the writer writes
    expected = "".join(f"line {i}\n" for i in range(3000))
    seen: list[str] = []

    def caught_up() -> bool:
        update = follower.read()
        assert not update.reset
        seen.append(update.text)
        return len("".join(seen)) >= len(expected)

    wait_for(caught_up, interval=0.005)
    writer.wait()
    assert "".join(seen) + follower.read().text == expected
    assert follower.position == len(expected)


def test_truncation_restarts_from_the_top(tmp_path: Path, writer: Writer) -> None:
    log = tmp_path / "run.log"
    writer.do("append", log, "one\ntwo\n")
    follower = LogFollower(log)
    assert follower.read() == FollowUpdate("one\ntwo\n", False)
    writer.do("truncate", log, "x\n")
    assert follower.read() == FollowUpdate("x\n", True)
    writer.do("append", log, "y\n")
    assert follower.read() == FollowUpdate("y\n", False)


def test_a_rewrite_longer_than_what_was_read_is_a_reset(tmp_path: Path, writer: Writer) -> None:
    log = tmp_path / "run.log"
    writer.do("append", log, "short\n")
    follower = LogFollower(log)
    assert follower.read().text == "short\n"
    writer.do("truncate", log, "a new, longer first line\n")
    assert follower.read() == FollowUpdate("a new, longer first line\n", True)


def test_rotation_switches_to_the_new_file(tmp_path: Path, writer: Writer) -> None:
    log = tmp_path / "run.log"
    writer.do("append", log, "old 1\n")
    follower = LogFollower(log)
    assert follower.read().text == "old 1\n"
    # The new file is longer than the old position: only the inode tells.
    writer.do("rotate", log, "new 1 and a longer line\n")
    assert follower.read() == FollowUpdate("new 1 and a longer line\n", True)
    assert (tmp_path / "run.log.1").read_text() == "old 1\n"
    writer.do("append", log, "new 2\n")
    assert follower.read() == FollowUpdate("new 2\n", False)
    assert follower.read() == FollowUpdate("", False)


def test_a_file_that_vanishes_and_reappears_is_a_reset(tmp_path: Path, writer: Writer) -> None:
    log = tmp_path / "run.log"
    writer.do("append", log, "attempt 1\n")
    follower = LogFollower(log)
    assert follower.read().text == "attempt 1\n"
    writer.do("remove", log)
    assert follower.read() == FollowUpdate("", False)
    writer.do("append", log, "attempt 2, much longer than the first\n")
    assert follower.read() == FollowUpdate("attempt 2, much longer than the first\n", True)


def test_a_file_that_appears_later_is_not_a_reset(tmp_path: Path, writer: Writer) -> None:
    log = tmp_path / "run.log"
    follower = LogFollower(log, from_start=False)
    assert follower.read() == FollowUpdate("", False)
    writer.do("append", log, "first\n")
    assert follower.read() == FollowUpdate("first\n", False)


def test_from_start_false_skips_existing_text(tmp_path: Path, writer: Writer) -> None:
    log = tmp_path / "run.log"
    writer.do("append", log, "before\n")
    follower = LogFollower(log, from_start=False)
    writer.do("append", log, "after\n")
    assert follower.read() == FollowUpdate("after\n", False)


def test_a_character_split_between_writes_is_held_back(tmp_path: Path, writer: Writer) -> None:
    log = tmp_path / "run.log"
    follower = LogFollower(log)
    writer.do("append", log, b"caf\xc3")
    assert follower.read().text == "caf"
    writer.do("append", log, b"\xa9 \xff\n")
    assert follower.read().text == "\u00e9 \ufffd\n"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_no_descriptor_is_held_between_reads(tmp_path: Path, writer: Writer) -> None:
    log = tmp_path / "run.log"
    writer.do("append", log, "text\n")
    follower = LogFollower(log)
    follower.read()
    writer.do("rotate", log, "new\n")
    follower.read()
    open_files = {os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")}
    assert str(log) not in open_files
    assert str(tmp_path / "run.log.1") not in open_files


# -- hadrosaur log -f ------------------------------------------------------------


def _quiet(ident: str, args: object, ctx: object) -> None:
    ctx.logger.info("first line")  # type: ignore[attr-defined]


def test_log_follow_survives_rotation_and_stops_on_ctrl_c(
    tmp_path: Path, base: Path, writer: Writer
) -> None:
    proj = Project(base)
    proj.resource("items")(_quiet)
    proj.fetch("items", "a")
    log = base / "items" / "a" / "run.log"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cli = subprocess.Popen(
        [sys.executable, "-m", "hadrosaur", "log", str(base), "items", "a", "-f"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    out: list[str] = []
    assert cli.stdout is not None and cli.stderr is not None
    reader = threading.Thread(target=lambda: out.extend(iter(cli.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        wait_for(lambda: "first line" in "".join(out))
        writer.do("append", log, "appended by another process\n")
        wait_for(lambda: "appended by another process" in "".join(out))
        writer.do("rotate", log, "after rotation\n")
        wait_for(lambda: "after rotation" in "".join(out))
        writer.do("truncate", log, "after truncation\n")
        wait_for(lambda: "after truncation" in "".join(out))
    finally:
        cli.send_signal(signal.SIGINT)
        returncode = cli.wait(timeout=20)
        reader.join()
        err = cli.stderr.read()
        cli.stdout.close()
        cli.stderr.close()
    assert returncode == 130, err  # as tail -f: 128 + SIGINT
    assert "Traceback" not in err
    assert err.count("truncated or replaced") == 2
    text = "".join(out)
    assert text.index("first line") < text.index("appended") < text.index("after rotation")


def test_a_linked_log_or_resource_directory_is_refused_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "run.log").write_text("SECRET-CONTENT\n")
    res = tmp_path / "res"
    res.mkdir()
    (res / "run.log").symlink_to(outside / "run.log")
    follower = LogFollower(res / "run.log")
    with pytest.raises(DamagedResource, match="symlink refused"):
        follower.read()
    (tmp_path / "linked-res").symlink_to(outside)
    with pytest.raises(RefusedPath, match="symbolic link"):
        LogFollower(tmp_path / "linked-res" / "run.log").read()
    (res / "run.log").unlink()
    (res / "run.log").write_text("own line\n")
    assert follower.read() == FollowUpdate("own line\n", False)


def test_lines_written_just_before_a_rotation_come_before_the_reset(
    tmp_path: Path, writer: Writer
) -> None:
    log = tmp_path / "run.log"
    writer.do("append", log, "one\n")
    follower = LogFollower(log)
    assert follower.read().text == "one\n"
    writer.do("append", log, "the last line of the old file\n")  # not read before the rotation
    writer.do("rotate", log, "first of the new file\n")
    assert follower.read() == FollowUpdate(
        "first of the new file\n", True, before="the last line of the old file\n"
    )
