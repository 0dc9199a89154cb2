"""End to end: the real hadrosaur-tui in a real terminal (tmux) while a worker changes the base."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..helpers import REPO
from .sample import CLICK, build_hostile_base

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

WORKER = """
import sys, time
from pathlib import Path
from hadrosaur import Project
proj = Project(sys.argv[1])

@proj.resource("tmuxed")
def compute(ident, args, ctx):
    ctx.logger.info("working on %s", ident)
    if ident == "r07":
        raise RuntimeError("seven failed")
    return ident

proj.plan("tmuxed", [f"r{i:02d}" for i in range(12)])
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.05)
for i in range(12):
    proj.fetch("tmuxed", f"r{i:02d}")
"""


@pytest.fixture
def session() -> Iterator[str]:
    name = f"hadrosaur-test-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def capture(session: str) -> str:
    done = subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
    )
    return done.stdout


def wait_for_screen(session: str, *needles: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(session)
        if all(n in screen for n in needles):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{needles} never appeared; the screen was:\n{screen}")


def wait_for_row(session: str, name: str, *fields: str, timeout: float = 30) -> str:
    """Wait until the row of collection `name` shows `fields` right after its name.

    The collection's name appears before its counts are read (the cells show "…"),
    so waiting for the name alone would race the reader on a loaded machine.
    """
    deadline = time.monotonic() + timeout
    row = ""
    while time.monotonic() < deadline:
        rows = [line for line in capture(session).splitlines() if name in line]
        row = rows[0] if rows else ""
        if row.split()[1 : 1 + len(fields)] == list(fields):
            return row
        time.sleep(0.1)
    raise AssertionError(f"row {name} never showed {fields}; it was: {row!r}")


def test_real_app_in_tmux_follows_a_worker(tmp_path: Path, session: str) -> None:
    base = tmp_path / "base"
    go = tmp_path / "go"
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(base), str(go)])
    try:
        command = f"cd {REPO} && {sys.executable} -m hadrosaur_tui {base}; sleep 30"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command],
            check=True,
        )
        wait_for_screen(session, "Collection", "tmuxed")
        wait_for_row(session, "tmuxed", "12", "0")  # total, none done: all waiting
        go.touch()
        wait_for_screen(session, "100%")
        wait_for_row(session, "tmuxed", "12", "11")  # total, done
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        wait_for_screen(session, "r07", "RuntimeError: seven failed")
        subprocess.run(["tmux", "send-keys", "-t", session, "x"], check=True)
        screen = wait_for_screen(session, "1 shown")
        assert "r06" not in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 10
        while "Collection" in capture(session) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "Collection" not in capture(session), "q must quit the app"
    finally:
        worker.kill()
        worker.wait()


def test_hostile_text_never_reaches_the_real_terminal(tmp_path: Path) -> None:
    """The escape sequences of a log, a traceback and a result, through a real terminal.

    A private tmux server (its own socket) that takes OSC 52 clipboard writes
    from programs: had any sequence got through, the pane title would read
    "pwned", a paste buffer would hold "hi", and the screen would be wiped.
    """
    base = build_hostile_base(tmp_path / "base")
    tmux = ["tmux", "-L", f"hadrosaur-test-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    # Without COLUMNS/LINES from the test's environment, the app takes the pane's size.
    command = (
        f"cd {REPO} && env -u COLUMNS -u LINES {sys.executable} -m hadrosaur_tui {base}; sleep 30"
    )
    subprocess.run([*tmux, "new-session", "-d", "-x", "160", "-y", "40", command], check=True)
    try:
        subprocess.run([*tmux, "set-option", "-g", "set-clipboard", "on"], check=True)

        def pane_title() -> str:
            done = subprocess.run([*tmux, "display", "-p", "#{pane_title}"], capture_output=True)
            return done.stdout.decode().strip()

        def buffers() -> str:
            done = subprocess.run([*tmux, "list-buffers"], capture_output=True)
            return done.stdout.decode()

        title = pane_title()  # tmux's own (the host name): nothing the app drew set it

        def screen(*needles: str) -> str:
            """Wait for the needles; at every look, nothing may be retitled or copied."""
            deadline = time.monotonic() + 30
            shown = ""
            while time.monotonic() < deadline:
                shown = subprocess.run(
                    [*tmux, "capture-pane", "-p"], capture_output=True, text=True
                ).stdout
                assert pane_title() == title, f"the pane title became {pane_title()!r}"
                assert buffers() == "", f"a clipboard write got through: {buffers()}"
                if all(n in shown for n in needles):
                    return shown
                time.sleep(0.1)
            raise AssertionError(f"{needles} never appeared; the screen was:\n{shown}")

        def keys(*names: str) -> None:
            subprocess.run([*tmux, "send-keys", *names], check=True)

        # c[ is read; the directory it cannot be is skipped, named with its ESC escaped
        screen("Collection", "'dir\\x1b]0;pwned\\x07coll'", "c[", "100%")
        keys("Enter")
        screen("hadrosaur · c[", "x]", CLICK)
        keys("x")  # errors only: x] is selected, its log below
        screen("^[]0;pwned^G ^[[2J ^[]52;c;aGk=^G <U+009B>31m <U+202E>evil", "progress 10%^M")
        keys("2")
        screen("ValueError: ^[]0;pwned^G", "hadrosaur · c[")
        keys("a", "Home")
        keys("3")
        shown = screen('"\\u001b]0;pwned\\u0007', "<U+202E>evil")
        # Nothing was wiped: the header, the table and the status line are all there.
        assert "hadrosaur · c[" in shown and "live" in shown and "x]" in shown
        keys("q")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
