"""The log pane: follows, pauses, keeps history through rotation, marks truncation, finds.

The logs are real files written by real writers: a child process with the
standard RotatingFileHandler, and the project's own handler in a thread.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from hadrosaur._log_file import ResourceLogHandler
from hadrosaur_tui.log_document import TAIL_BYTES
from hadrosaur_tui.widgets.log_pane import LogPane, status_text
from hadrosaur_tui.widgets.log_view import FIND_IN_THREAD_BYTES, LogView

from .harness import wait_until

pytestmark = pytest.mark.asyncio


class LogApp(App[None]):
    CSS_PATH = str(Path(__file__).parents[2] / "hadrosaur_tui" / "hadrosaur_tui.tcss")

    def compose(self) -> ComposeResult:
        yield LogPane()


WRITER = """
import logging, sys
from logging.handlers import RotatingFileHandler
path, lines = sys.argv[1], int(sys.argv[2])
handler = RotatingFileHandler(path, maxBytes=1000, backupCount=3)
log = logging.getLogger("w"); log.addHandler(handler); log.setLevel(logging.INFO)
for i in range(lines):
    log.info("line %04d %s", i, "x" * 20)
    sys.stdin.readline()  # one line per request: the test decides when rotations happen
    print("ok", flush=True)
handler.close()
"""


class ThreadWriter:
    """The project's rotating handler, writing ``lines`` numbered lines from a thread."""

    def __init__(self, path: Path, lines: int, max_bytes: int = 4000) -> None:
        self.handler = ResourceLogHandler(str(path), max_bytes=max_bytes, backups=3)
        self.handler.setFormatter(logging.Formatter("%(message)s"))
        self.logger = logging.getLogger(f"log-view-test-{id(self)}")
        self.logger.propagate = False
        self.logger.addHandler(self.handler)
        self.lines = lines
        self.written = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self.stop.is_set() and self.written < self.lines:
            self.logger.warning("line %05d", self.written)
            self.written += 1
            self.stop.wait(0.002)  # a log that grows while the view draws, not a flood

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()

    def __enter__(self) -> ThreadWriter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.handler.close()
        self.logger.removeHandler(self.handler)


def rows(view: LogView) -> list[str]:
    """The text drawn on each row of the view."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


def status(app: App[None]) -> str:
    return str(app.query_one(".log-pane--status").render())


async def shown(pilot: Pilot[None], path: Path, size: tuple[int, int] = (60, 10)) -> LogView:
    view = pilot.app.query_one(LogView)
    view.show(path, "nothing yet")
    await pilot.pause()
    return view


async def test_appends_partial_lines_and_follow(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = await shown(pilot, path)
        assert view.line_count == 0 and "nothing yet" in rows(view)[0]
        path.write_text("first\nsecond\npart")
        view.poll()
        assert view.line_count == 3 and view.log_text() == "first\nsecond\npart"
        with open(path, "a") as f:
            f.write("ial\n" + "".join(f"more {i}\n" for i in range(30)))
        view.poll()
        await pilot.pause()
        assert view.log_text().splitlines()[2] == "partial"
        assert view.line_count == 33
        assert view.follow and rows(view)[-1].startswith("more 29")  # at the end, like tail -f
        assert "following" in status(app)
        view.focus()
        await pilot.press("g")
        assert not view.follow and rows(view)[0].startswith("first")
        assert "paused — End to follow" in status(app)
        await pilot.press("end")
        assert view.follow and rows(view)[-1].startswith("more 29")


async def test_truncation_is_marked_and_read_again_from_the_top(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("".join(f"old {i}\n" for i in range(50)))
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = await shown(pilot, path)
        assert view.line_count == 50
        with open(path, "w") as f:  # truncated in place (the same inode)
            f.write("new 0\n")
        assert view.poll()
        assert view.log_text() == "── run.log was truncated: from its start again ──\nnew 0"


async def test_rotation_keeps_every_line_in_order(tmp_path: Path) -> None:
    """A writer in another process rotates every ~30 lines; the pane holds them all, once."""
    path = tmp_path / "run.log"
    lines = 150
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = await shown(pilot, path)
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(lines)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdin is not None and writer.stdout is not None
        for i in range(lines):
            writer.stdin.write("\n")
            writer.stdin.flush()
            assert writer.stdout.readline() == "ok\n"
            if i % 7 == 0:  # several lines, and sometimes a rotation, between two polls
                view.poll()
        writer.stdin.close()
        assert writer.wait(timeout=30) == 0
        writer.stdout.close()
        view.poll()
        expected = [f"line {i:04d} {'x' * 20}" for i in range(lines)]
        assert view.log_text().splitlines() == expected
        assert (tmp_path / "run.log.3").exists(), "the writer rotated more than once"


async def test_a_log_opened_after_rotations_reads_its_backups_first(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    for n, text in ((3, "oldest\n"), (2, "older\n"), (1, "old\n")):
        (tmp_path / f"run.log.{n}").write_text(text)
    path.write_text("current\n")
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = await shown(pilot, path)
        assert view.log_text() == "oldest\nolder\nold\ncurrent"


async def test_wrapping_counts_cells_so_wide_characters_leave_no_blank_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.log"
    wide = "漢" * 280  # 560 cells
    path.write_text(f"{wide}\nafter\n")
    app = LogApp()
    async with app.run_test(size=(61, 30)) as pilot:
        view = await shown(pilot, path)
        view.wrap = True
        await pilot.pause()
        width = view.scrollable_content_region.width
        drawn = rows(view)
        wide_rows = -(-560 // (width - width % 2))  # whole characters per row
        assert view.virtual_size.height == wide_rows + 1
        assert "".join(r.rstrip() for r in drawn[:wide_rows]) == wide
        assert all(r.strip() for r in drawn[:wide_rows]), drawn
        assert drawn[wide_rows].startswith("after")


async def test_long_lines_scroll_sideways_when_not_wrapping(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("0123456789" * 30 + "\n")
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = await shown(pilot, path)
        view.focus()
        assert rows(view)[0].startswith("0123456789")
        await pilot.press("right")
        assert rows(view)[0].startswith("89012345")
        assert view.scroll_x == 8


async def test_line_numbers_toggle(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("".join(f"text {i}\n" for i in range(12)))
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = await shown(pilot, path)
        view.focus()
        await pilot.press("g", "ctrl+l")
        assert rows(view)[0].startswith(" 1 │ text 0")
        await pilot.press("ctrl+l")
        assert rows(view)[0].startswith("text 0")


async def test_find_marks_matches_and_n_and_shift_n_move_between_them(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("".join(f"{'Needle' if i % 40 == 5 else 'hay'} {i}\n" for i in range(200)))
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = await shown(pilot, path)
        view.focus()
        await pilot.press("g", "ctrl+f")
        pane = app.query_one(LogPane)
        assert pane.find_box.display and pane.find_box.has_focus
        await pilot.press(*"needle")  # lower case: any case
        assert view.match_line == 5
        drawn = view.render_line(view.match_line - int(view.scroll_y))
        marked = [s for s in drawn if s.text == "Needle"]
        assert marked and marked[0].style is not None and marked[0].style.bgcolor is not None
        await pilot.press("escape")
        assert not pane.find_box.display and view.has_focus
        await pilot.press("n")
        assert view.match_line == 45
        assert 45 in range(int(view.scroll_y), int(view.scroll_y) + 10)
        await pilot.press("N", "N")  # back to 5, then around to the last one
        assert view.match_line == 165
        assert "find “needle”: match at line 166" in status(app)
        await pilot.press("slash", *"NEEDLE")  # upper case: exact case, found nowhere
        assert view.match_line == -1 and "no match" in status(app)


async def test_scrolling_up_pauses_a_growing_log_and_end_resumes(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    app = LogApp()
    with ThreadWriter(path, lines=1000) as writer:
        async with app.run_test(size=(60, 12)) as pilot:
            await wait_until(pilot, lambda: writer.written > 100)
            view = await shown(pilot, path)
            view.focus()
            await pilot.press("up")
            assert not view.follow
            before = rows(view)
            await wait_until(pilot, lambda: view.poll() or writer.done)
            await wait_until(pilot, lambda: view.poll() or writer.done)
            assert view.line_count > len(before) + 100
            after = rows(view)
            assert after[: len(before)] == before, "a paused view does not move"
            assert "paused — End to follow" in status(app)
            await pilot.press("end")
            view.poll()
            await pilot.pause()
            last = view.log_text().splitlines()[-1]
            assert view.follow and rows(view)[-1].rstrip() == last


async def test_following_never_draws_the_top_of_the_file(tmp_path: Path) -> None:
    """The old view cleared and re-read the file and scrolled later: frames of line 0.

    Between two frames the project's handler writes a burst of lines from a
    thread (rotating every ~270 lines), so that every frame follows growth;
    now and then the log is shown again, as the app does when it reads the
    resource's detail again, and drawn at once, without waiting for a refresh.
    """
    path = tmp_path / "run.log"
    handler = ResourceLogHandler(str(path), max_bytes=3000, backups=3)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("log-view-test-bursts")
    logger.propagate = False
    logger.addHandler(handler)
    written = 0

    def burst(n: int) -> None:
        nonlocal written
        for _ in range(n):
            logger.warning("line %05d", written)
            written += 1

    def burst_in_a_thread(n: int) -> None:
        thread = threading.Thread(target=burst, args=(n,))
        thread.start()
        thread.join()

    app = LogApp()
    try:
        async with app.run_test(size=(60, 12)) as pilot:
            burst_in_a_thread(50)
            view = await shown(pilot, path)
            for frame in range(60):
                burst_in_a_thread(10)
                if frame % 5 == 0:
                    view.show(path)  # what the app does when the resource's detail is read again
                else:
                    view.poll()
                    await pilot.pause()
                drawn = rows(view)
                assert "line 00000" not in drawn[0], f"frame {frame} shows the top: {drawn}"
                assert drawn[-1].rstrip() == f"line {written - 1:05d}", "not at the end"
            assert view.follow and (tmp_path / "run.log.2").exists()  # it rotated meanwhile
            assert view.log_text().splitlines() == [f"line {i:05d}" for i in range(written)]
    finally:
        handler.close()
        logger.removeHandler(handler)


@pytest.fixture
def big_log(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    path = tmp_path / "run.log"
    lines = (3 * TAIL_BYTES) // 20
    with path.open("w") as f:
        f.writelines(f"numbered {i:010d}\n" for i in range(lines))
    yield path, lines


async def test_a_big_log_opens_at_its_end_and_indexes_the_rest_behind(
    big_log: tuple[Path, int],
) -> None:
    path, lines = big_log
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(LogView)
        view.show(path)
        # Before the background index is done: the end is there, the rest is on its way.
        assert view.document.indexing
        assert view.document.line(0).startswith("… 2.1 MB above, indexing")
        assert view.line_count < lines // 2
        assert view.document.line(view.line_count - 1) == f"numbered {lines - 1:010d}"
        await wait_until(pilot, lambda: not view.document.indexing)
        assert view.line_count == lines
        assert view.document.line(0) == "numbered 0000000000"
        assert view.document.line(lines // 2) == f"numbered {lines // 2:010d}"
        assert view.follow and rows(view)[-1].rstrip() == f"numbered {lines - 1:010d}"


async def test_a_text_in_memory_opens_at_its_end(tmp_path: Path) -> None:
    app = LogApp()
    async with app.run_test(size=(60, 8)) as pilot:
        view = app.query_one(LogView)
        view.live = False
        text = "Traceback (most recent call last):\n" + "".join(
            f'  File "f.py", line {i}, in g\n    x()\n' for i in range(20)
        )
        view.show_text(text + "ValueError: the reason")
        await pilot.pause()
        assert rows(view)[-1].startswith("ValueError: the reason")


async def test_a_find_in_a_huge_log_runs_behind_and_shows_its_match(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    block = b"".join(b"filler line %05d\n" % i for i in range(2000))
    with path.open("wb") as f:
        for _ in range(FIND_IN_THREAD_BYTES // len(block) + 1):
            f.write(block)
        f.write(b"the only needle\n")
        f.write(block)
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = await shown(pilot, path)
        await wait_until(pilot, lambda: not view.document.indexing)
        view.focus()
        await pilot.press("g")
        assert view.find("only needle")  # started: the screen does not wait for it
        assert view.searching and "searching…" in status_text(view)
        await wait_until(pilot, lambda: not view.searching)
        assert view.document.line(view.match_line) == "the only needle"
        assert "match at line" in status(app)
