"""LogView tails a file like tail -f, through appends, truncation and rotation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from hadrosaur_tui.widgets.log_view import LogView

from .harness import wait_until

pytestmark = pytest.mark.asyncio


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView()


WRITER = """
import logging, sys, time
from logging.handlers import RotatingFileHandler
path, lines = sys.argv[1], int(sys.argv[2])
handler = RotatingFileHandler(path, maxBytes=400, backupCount=2)
log = logging.getLogger("w"); log.addHandler(handler); log.setLevel(logging.INFO)
for i in range(lines):
    log.info("line %04d %s", i, "x" * 20)
    time.sleep(0.002)
handler.close()
"""


async def test_appends_partial_lines_and_follow(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        view.show(path, "nothing yet")
        assert view.line_count == 0
        path.write_text("first\nsecond\npart")
        view.poll()
        assert view.line_count == 3 and view.log_text() == "first\nsecond\npart"
        with open(path, "a") as f:
            f.write("ial\n" + "".join(f"more {i}\n" for i in range(30)))
        view.poll()
        await pilot.pause()
        assert view.log_text().splitlines()[2] == "partial"
        assert view.line_count == 33
        assert view.follow and view.scroll_y == view.max_scroll_y  # at the end, like tail -f
        view.jump(False)
        assert not view.follow and view.scroll_y == 0


async def test_truncation_restarts_from_the_top(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("".join(f"old {i}\n" for i in range(50)))
    app = LogApp()
    async with app.run_test(size=(60, 10)):
        view = app.query_one(LogView)
        view.show(path)
        assert view.line_count == 50
        with open(path, "w") as f:  # truncate in place (same inode)
            f.write("new 0\n")
        assert view.poll()
        assert view.log_text() == "new 0"


async def test_rotation_by_another_process_follows_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        view.show(path)
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "200"])
        inodes = set()
        while writer.poll() is None:
            view.poll()
            if path.exists():
                inodes.add(os.stat(path).st_ino)
            await pilot.pause(0.005)
        assert writer.returncode == 0
        await wait_until(pilot, lambda: view.poll() or True)
        assert len(inodes) > 1, "the writer rotated the file"
        # After the last poll the view holds exactly the current file, from its top.
        assert view.log_text() == path.read_text().rstrip("\n")
        assert (tmp_path / "run.log.1").exists()


async def test_missing_file_shows_the_empty_text(tmp_path: Path) -> None:
    app = LogApp()
    async with app.run_test(size=(60, 10)):
        view = app.query_one(LogView)
        view.show(tmp_path / "absent.log", "no log for this one")
        assert view.line_count == 0
        assert "no log for this one" in view.render_line(0).text


async def test_wrap_counts_visual_rows(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("a" * 130 + "\nshort\n")
    app = LogApp()
    async with app.run_test(size=(60, 10)):
        view = app.query_one(LogView)
        view.show(path)
        view.wrap = True
        width = view.scrollable_content_region.width
        assert view.virtual_size.height == -(-130 // width) + 1
        assert view.render_line(0).text.strip() == "a" * width
