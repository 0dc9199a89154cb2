"""The log and traceback panes inside the app: keys, a running resource, the Error tab."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from hadrosaur import Project
from hadrosaur_tui.screens.help import HelpScreen
from hadrosaur_tui.screens.resources import ResourcesScreen
from hadrosaur_tui.widgets.log_view import LogView

from .harness import make_app, settle, wait_until

pytestmark = pytest.mark.asyncio

STOP = threading.Event()


def _chatty(ident: str, args: Any, ctx: Any) -> dict[str, int]:
    """Logs a numbered line every 2 ms until the test is done with it."""
    n = 0
    while not STOP.is_set():
        ctx.logger.info("chatty line %05d", n)
        n += 1
        STOP.wait(0.002)
    return {"lines": n}


def _deep(ident: str, args: Any, ctx: Any) -> None:
    def down(depth: int) -> None:
        if depth == 0:
            raise KeyError(f"the reason at the bottom of {ident}")
        down(depth - 1)

    down(30)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Path]:
    """A base whose resource c/live is being computed (logging) in a thread meanwhile."""
    base = tmp_path / "base"
    project = Project(base)
    project.resource("c")(_chatty)
    STOP.clear()
    thread = threading.Thread(target=project.fetch, args=("c", "live"))
    thread.start()
    try:
        yield base
    finally:
        STOP.set()
        thread.join()


@pytest.fixture
def deep_base(tmp_path: Path) -> Path:
    """A base whose resource c/deep failed with a traceback longer than the pane."""
    project = Project(tmp_path / "base")
    project.resource("c")(_deep)
    project.fetch("c", "deep")
    return tmp_path / "base"


async def open_collection(pilot: Pilot[Any]) -> ResourcesScreen:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ResourcesScreen)
    return screen


def drawn(view: LogView) -> list[str]:
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


async def test_f_stops_and_starts_following_a_running_resource(running: Path) -> None:
    app = make_app(running)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_collection(pilot)
        log = screen.detail.log_view
        await wait_until(pilot, lambda: log.line_count > 50)
        await pilot.press("f")  # from the table: the log stops where it is
        assert not log.follow
        before = drawn(log)
        count = log.line_count
        # The app polls the log once a second (watch=False here): several polls pass.
        await wait_until(pilot, lambda: log.line_count > count + 300)
        assert drawn(log)[: len(before)] == before, "it kept advancing"
        assert "paused — End to follow" in str(screen.query_one(".log-pane--status").render())
        await pilot.press("f")
        assert log.follow
        log.poll()
        await pilot.pause()
        assert drawn(log)[-1].rstrip() == log.log_text().splitlines()[-1]
        assert "following" in str(screen.query_one(".log-pane--status").render())
        await pilot.press("g")  # on the table, g is not the log's (it is free for the screen)
        assert log.follow


async def test_the_error_tab_opens_at_the_exception_and_find_works_there(deep_base: Path) -> None:
    app = make_app(deep_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_collection(pilot)
        await pilot.press("2")
        await pilot.pause()
        view = screen.detail.error_view
        # Longer than the pane: opened at its top, the exception would be out of sight.
        assert view.line_count > view.scrollable_content_region.height + 5
        assert drawn(view)[-1].startswith("KeyError: 'the reason at the bottom of deep'")
        await pilot.press("ctrl+f", *"in down")
        assert view.match_line >= 0
        assert "in down" in view.document.line(view.match_line)
        first = view.match_line
        await pilot.press("enter")
        assert view.match_line > first
        await pilot.press("escape")
        assert view.has_focus and isinstance(app.screen, ResourcesScreen)
        await pilot.press("N")
        assert view.match_line == first
        await pilot.press("G")
        assert drawn(view)[-1].startswith("KeyError")


async def test_help_lists_the_log_keys_as_they_are_bound(deep_base: Path) -> None:
    app = make_app(deep_base)
    async with app.run_test(size=(100, 44)) as pilot:
        await open_collection(pilot)
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        sections = dict(help_screen.sections())
        screen_keys = {b.key for b in sections["This screen"]}
        assert "G" not in screen_keys  # the log's, not the screen's
        assert "g" in screen_keys  # the screen's g (error groups) acts off the log pane
        assert {"f", "w", "ctrl+f"} <= screen_keys
        log_keys = {b.key for b in sections["Log and traceback (tab moves there)"]}
        assert {"g,home", "G,end", "n", "N", "ctrl+l", "ctrl+f,slash"} <= log_keys
        bound = {b.key for b in LogView.BINDINGS if not isinstance(b, tuple)}
        assert bound <= log_keys
