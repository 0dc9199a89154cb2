"""Bulk retry in the app (R): asked first, run by a child process, followed in the status line,
stopped with ctrl+c. Real bases, the real ``hadrosaur recompute`` child, Pilot keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from hadrosaur import COMPLETED, INTERRUPTED, PENDING, Project
from hadrosaur_tui.app import HadrosaurApp
from hadrosaur_tui.screens.confirm import ConfirmScreen
from hadrosaur_tui.widgets.status_line import StatusLine

from .harness import make_app, settle, wait_until
from .test_app import open_first_collection

pytestmark = pytest.mark.asyncio


def _status_text(app: HadrosaurApp) -> str:
    return app.screen.query_one(StatusLine).render().plain


def _question(app: HadrosaurApp) -> str:
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    return screen.question


async def test_R_asks_with_the_count_and_workers_then_shows_progress_and_the_end(
    held: Project, tmp_path: Path
) -> None:
    for ident in ("gate1", "gate2"):
        (tmp_path / "gates").mkdir(exist_ok=True)
        (tmp_path / "gates" / ident).touch()  # nothing waits: every one completes
    app = make_app(held.base, jobs=2)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_first_collection(pilot)
        assert screen.model.counts()["error"] == 3
        await pilot.press("R")
        assert "Recompute 3 resources of g" in _question(app)
        assert "on 2 worker processes" in _question(app)
        await pilot.press("n")
        assert app.recompute_run is None and held.load("g", "quick").attempt == 1
        await pilot.press("R", "y")
        await wait_until(pilot, lambda: app.recompute_run is None, timeout=60)
        assert "✓ retried 3 · 3 completed" in _status_text(app)
        await wait_until(pilot, lambda: screen.model.counts()["completed"] == 3)
        assert [held.load("g", i).attempt for i in ("quick", "gate1", "gate2")] == [2, 2, 2]


async def test_ctrl_c_stops_the_retry_and_is_shown_only_while_it_runs(
    held: Project,
) -> None:
    app = make_app(held.base, jobs=3)  # all three at once: "quick" is not queued behind gates
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_first_collection(pilot)
        assert not app.check_action("stop_recompute", ())
        await pilot.press("R", "y")
        await wait_until(pilot, lambda: held.status("g", "quick") == COMPLETED, timeout=60)
        await wait_until(pilot, lambda: held.status("g", "gate1") == PENDING, timeout=60)
        await wait_until(pilot, lambda: "⟳ retrying" in _status_text(app))
        assert "ctrl+c stops" in _status_text(app)
        assert app.check_action("stop_recompute", ())
        await pilot.press("r")  # one at a time: a second recompute is refused, with the way out
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("stop it with ctrl+c" in n.message for n in app._notifications)
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: app.recompute_run is None, timeout=60)
        assert "retry stopped after" in _status_text(app)
        assert not app.check_action("stop_recompute", ())
        assert held.status("g", "quick") == COMPLETED
        assert held.load("g", "gate1").status == INTERRUPTED
        await wait_until(pilot, lambda: screen.model.counts()["interrupted"] >= 1)
        await settle(pilot)
        assert app.is_running  # ctrl+c stopped the retry, not the app
