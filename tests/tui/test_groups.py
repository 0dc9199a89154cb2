"""The error groups view (g): one row per cause, enter filters the list to a group, R retries it.

Real bases whose functions fail for two causes, real fetches, Pilot keys.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Context, Project
from hadrosaur_tui.app import HadrosaurApp
from hadrosaur_tui.format import format_clock
from hadrosaur_tui.screens.confirm import ConfirmScreen
from hadrosaur_tui.screens.groups import GroupsScreen
from hadrosaur_tui.screens.resources import ResourcesScreen

from .harness import make_app, wait_until
from .test_app import open_first_collection
from .test_log_pane import drawn

pytestmark = pytest.mark.asyncio


def picky(ident: str, args: Any, ctx: Context) -> str:
    """KeyError for "k*" idents, ValueError (with markup-like text) for "v*" ones, else a result."""
    if ident.startswith("k"):
        raise KeyError(f"sample_{ident}")
    if ident.startswith("v"):
        raise ValueError(f"bad [bold]value[/bold] in {ident}")
    return ident


@pytest.fixture
def two_causes(tmp_path: Path) -> Project:
    """Collection p: 3 KeyErrors, 2 ValueErrors and 2 completed resources."""
    project = Project(tmp_path / "base")
    project.resource("p")(picky)
    for ident in ("k1", "k2", "k3", "ok1", "ok2", "v1", "v2"):
        project.fetch("p", ident)
    return project


def _groups_screen(app: HadrosaurApp) -> GroupsScreen:
    screen = app.screen
    assert isinstance(screen, GroupsScreen), screen
    return screen


def _cells(screen: GroupsScreen) -> list[list[str]]:
    table = screen.table
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def test_g_lists_the_groups_and_enter_filters_the_list_to_one(two_causes: Project) -> None:
    app = make_app(two_causes.base)
    async with app.run_test(size=(120, 30)) as pilot:
        resources = await open_first_collection(pilot)
        await pilot.press("g")
        groups = _groups_screen(app)
        await wait_until(pilot, lambda: groups.table.row_count == 2)
        rows = _cells(groups)
        assert [(r[0], r[1]) for r in rows] == [("3", "KeyError"), ("2", "ValueError")]
        assert "<ident>" in rows[0][5]
        assert "[bold]value[/bold]" in rows[1][5]  # shown as it is, never read as markup
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: resources.model.group_filter is not None)
        assert app.screen is resources
        assert [r.ident for r in resources.model.rows(0, 10)] == ["v1", "v2"]
        signature = two_causes.error_groups("p")[1].signature
        bar = str(resources.query_one("#filter-bar").render())
        assert f"group {signature} (ValueError)" in bar
        await pilot.press("escape")  # clears the group first, the screen stays
        assert app.screen is resources and resources.model.group_filter is None
        assert len(resources.model) == 7
        await pilot.press("g")
        groups = _groups_screen(app)
        await wait_until(pilot, lambda: groups.table.row_count == 2)
        await pilot.press("enter")
        await wait_until(pilot, lambda: resources.model.group_filter is not None)
        assert [r.ident for r in resources.model.rows(0, 10)] == ["k1", "k2", "k3"]
        await pilot.press("a")
        assert resources.model.group_filter is None and len(resources.model) == 7


async def test_a_group_shows_when_it_was_first_and_last_seen(tmp_path: Path) -> None:
    project = Project(tmp_path / "base")
    project.resource("p")(picky)
    project.fetch("p", "k1")
    time.sleep(1.1)  # the clock shows seconds: the two errors must fall in different ones
    project.fetch("p", "k2")
    [group] = project.error_groups("p")
    assert group.first_seen is not None and group.last_seen is not None
    app = make_app(project.base, clock=time.time)  # today: the clock shows seconds
    async with app.run_test(size=(120, 30)) as pilot:
        await open_first_collection(pilot)
        await pilot.press("g")
        groups = _groups_screen(app)
        await wait_until(pilot, lambda: groups.table.row_count == 1)
        headings = [str(column.label) for column in groups.table.columns.values()]
        assert headings[2:4] == ["First seen", "Last seen"]
        now_ms = int(groups.clock() * 1000)
        first, last = _cells(groups)[0][2:4]
        assert first == format_clock(group.first_seen, now_ms)
        assert last == format_clock(group.last_seen, now_ms)
        assert first != last


async def test_the_rows_follow_new_errors_while_open(two_causes: Project) -> None:
    app = make_app(two_causes.base)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_first_collection(pilot)
        await pilot.press("g")
        groups = _groups_screen(app)
        await wait_until(pilot, lambda: groups.table.row_count == 2)
        two_causes.fetch("p", "k4")
        await wait_until(pilot, lambda: _cells(groups)[0][0] == "4")
        await pilot.press("escape")
        assert not isinstance(app.screen, GroupsScreen)


async def test_R_on_a_group_asks_then_retries_only_its_idents(two_causes: Project) -> None:
    app = make_app(two_causes.base, jobs=2)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_first_collection(pilot)
        await pilot.press("g")
        groups = _groups_screen(app)
        await wait_until(pilot, lambda: groups.table.row_count == 2)
        await pilot.press("down", "R")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        assert "Recompute 2 resources of p" in screen.question
        await pilot.press("n")
        assert app.recompute_run is None
        await pilot.press("g")
        groups = _groups_screen(app)
        await wait_until(pilot, lambda: groups.table.row_count == 2)
        await pilot.press("down", "R", "y")
        await wait_until(pilot, lambda: app.recompute_run is None, timeout=60)
        attempts = {i: two_causes.load("p", i).attempt for i in ("k1", "v1", "v2")}
        assert attempts == {"k1": 1, "v1": 2, "v2": 2}


def three_kinds(ident: str, args: Any, ctx: Context) -> str:
    """KeyError for "k*", ValueError for "v*", TimeoutError for "t*", else a result."""
    if ident.startswith("k"):
        raise KeyError(f"sample_{ident}")
    if ident.startswith("v"):
        raise ValueError(f"bad value in {ident}")
    if ident.startswith("t"):
        raise TimeoutError(f"no answer from node{len(ident)} after 30 s")
    return ident


async def test_three_keys_from_the_collections_screen_to_a_groups_traceback_and_its_retry(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path / "base")
    project.resource("p")(three_kinds)
    idents = ("k1", "k2", "k3", "k4", "ok1", "ok2", "t1", "v1", "v2")
    for ident in idents:
        project.fetch("p", ident)
    app = make_app(project.base, jobs=2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.collections_screen.summaries.get("p") is not None)
        assert app.screen is app.collections_screen
        await pilot.press("g")  # 1: the causes of the selected collection, largest first
        groups = _groups_screen(app)
        await wait_until(pilot, lambda: groups.table.row_count == 3)
        assert [(r[0], r[1]) for r in _cells(groups)] == [
            ("4", "KeyError"),
            ("2", "ValueError"),
            ("1", "TimeoutError"),
        ]
        await pilot.press("enter")  # 2: that cause's resources, the first one's traceback
        await wait_until(pilot, lambda: isinstance(app.screen, ResourcesScreen))
        resources = app.screen
        assert isinstance(resources, ResourcesScreen)
        await wait_until(pilot, lambda: resources.model.group_filter is not None)
        assert [r.ident for r in resources.model.rows(0, 10)] == ["k1", "k2", "k3", "k4"]
        assert resources.detail.active_tab == "error"
        view = resources.detail.error_view
        await wait_until(
            pilot, lambda: any("KeyError: 'sample_k1'" in line for line in drawn(view))
        )
        await pilot.press("R")  # 3: retry the group, after a confirm
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "Recompute 4 resources of p" in confirm.question
        await pilot.press("y")
        await wait_until(pilot, lambda: app.recompute_run is None, timeout=60)
    attempts = {i: project.load("p", i).attempt for i in idents if not i.startswith("ok")}
    assert attempts == {"k1": 2, "k2": 2, "k3": 2, "k4": 2, "t1": 1, "v1": 1, "v2": 1}


async def test_a_narrow_terminal_keeps_the_message_and_leaves_out_the_sparkline(
    tmp_path: Path,
) -> None:
    """At 80 columns the message (what a cause is) shows; the sparkline and First seen go."""
    project = Project(tmp_path / "base")
    project.resource("p")(picky)
    project.fetch("p", "k1")
    app = make_app(project.base, clock=time.time)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first_collection(pilot)
        await pilot.press("g")
        groups = _groups_screen(app)
        await wait_until(pilot, lambda: groups.table.row_count == 1)
        headings = [str(column.label) for column in groups.table.columns.values()]
        assert headings == ["Count", "Exception", "Last seen", "Message"]
        assert "KeyError" in _cells(groups)[0][1]
        await pilot.resize_terminal(130, 30)
        await wait_until(pilot, lambda: len(groups.table.columns) == 6)
        await wait_until(pilot, lambda: groups.table.row_count == 1)
        assert [str(c.label) for c in groups.table.columns.values()][2:5] == [
            "First seen",
            "Last seen",
            "Last 60 min",
        ]
