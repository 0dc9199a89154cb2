"""Snapshots of what a person sees (pytest-textual-snapshot). Fixed clock, size and data.

Update them after an intended change with ``scripts/test tests/tui --snapshot-update``
and look at the report before committing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from hadrosaur_tui.messages import RecomputeProgress
from hadrosaur_tui.recompute import RecomputeRun
from hadrosaur_tui.recompute_tally import RecomputeTally
from hadrosaur_tui.screens.groups import GroupsScreen

from .harness import make_app, settle, wait_until

SIZE = (100, 30)


def prepare(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Settle, press ``keys`` (settling after each), settle again."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        pilot.app.screen.set_focus(pilot.app.screen.focused)  # no blinking cursor difference

    return run_before


def test_collections_view(snap_compare: Any, sample_base: Path) -> None:
    assert snap_compare(make_app(sample_base), run_before=prepare(), terminal_size=SIZE)


def test_filtered_error_list(snap_compare: Any, sample_base: Path) -> None:
    app = make_app(sample_base)
    assert snap_compare(app, run_before=prepare("enter", "x"), terminal_size=SIZE)


def test_error_tab(snap_compare: Any, sample_base: Path) -> None:
    app = make_app(sample_base)
    assert snap_compare(app, run_before=prepare("enter", "x", "2"), terminal_size=SIZE)


def test_log_tab(snap_compare: Any, sample_base: Path) -> None:
    app = make_app(sample_base)
    assert snap_compare(app, run_before=prepare("enter", "down"), terminal_size=SIZE)


def test_help(snap_compare: Any, sample_base: Path) -> None:
    app = make_app(sample_base)
    assert snap_compare(app, run_before=prepare("enter", "question_mark"), terminal_size=(100, 44))


def test_error_groups(snap_compare: Any, sample_base: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await prepare("enter")(pilot)
        await pilot.press("g")
        screen = pilot.app.screen
        assert isinstance(screen, GroupsScreen)
        await wait_until(pilot, lambda: screen.groups is not None)

    app = make_app(sample_base)
    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


def test_empty_base(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("empty").mkdir()
    assert snap_compare(make_app(Path("empty")), run_before=prepare(), terminal_size=SIZE)


def test_missing_base(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert snap_compare(make_app(Path("missing")), run_before=prepare(), terminal_size=SIZE)


def test_collections_80x24(snap_compare: Any, sample_base: Path) -> None:
    """Every column whole at 80 columns, the ETA too ('stalled', 'done')."""
    assert snap_compare(make_app(sample_base), run_before=prepare(), terminal_size=(80, 24))


def test_resources_80x24(snap_compare: Any, sample_base: Path) -> None:
    app = make_app(sample_base)
    assert snap_compare(app, run_before=prepare("enter"), terminal_size=(80, 24))


def test_resources_40x12(snap_compare: Any, sample_base: Path) -> None:
    """Too short for the detail pane: it is hidden, and a line says so."""
    app = make_app(sample_base)
    assert snap_compare(app, run_before=prepare("enter"), terminal_size=(40, 12))


def test_retry_confirm(snap_compare: Any, sample_base: Path) -> None:
    app = make_app(sample_base, jobs=2)
    assert snap_compare(app, run_before=prepare("enter", "x", "R"), terminal_size=SIZE)


def test_retry_in_progress(snap_compare: Any, sample_base: Path) -> None:
    """The status line and footer while a retry runs (a tally as its child's lines make it)."""
    app = make_app(sample_base, jobs=2)
    tally = RecomputeTally("retry", 230, done=17, completed=14, failed=3)

    async def run_before(pilot: Pilot[Any]) -> None:
        await prepare("enter", "x")(pilot)
        # Not started: no child runs; the app shows it as it shows a running one.
        app.recompute_run = RecomputeRun(
            app.base, "genomes", ["x"] * 230, jobs=2, verb="retry", post=app.post_message
        )
        app.post_message(RecomputeProgress(tally))
        app.refresh_bindings()
        await settle(pilot)

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
