"""Honest, stable screens: a busy index said on every screen, the selection kept through
live changes, whole columns at 80x24, small terminals, sort marks, dates of other years."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.widget import Widget

from hadrosaur import COMPLETED, PENDING, Project
from hadrosaur_tui.app import HadrosaurApp
from hadrosaur_tui.format import format_clock
from hadrosaur_tui.model import CollectionModel
from hadrosaur_tui.screens.confirm import ConfirmScreen
from hadrosaur_tui.screens.help import HelpScreen

from .harness import make_app, settle, wait_until
from .sample import NOW_MS, define_collection, write_resource
from .test_app import open_first_collection, resources_screen

HOLD_LOCKS = """
import fcntl, sys
held = []
for path in sys.argv[1:]:
    f = open(path, "a")
    fcntl.flock(f, fcntl.LOCK_EX)
    held.append(f)
print("holding", flush=True)
sys.stdin.readline()
"""

HOLD_INDEX = """
import sys
from pathlib import Path
from hadrosaur._index import CollectionIndex
with CollectionIndex(Path(sys.argv[1])):
    print("holding", flush=True)
    sys.stdin.readline()
"""


@contextmanager
def holding(script: str, *args: str) -> Iterator[None]:
    """Run ``script`` in another process until the block ends; it prints "holding" once ready."""
    with subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None and holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        try:
            yield
        finally:
            holder.stdin.write("\n")
            holder.stdin.flush()


def line_text(widget: Widget, y: int) -> str:
    """Line ``y`` of a widget as drawn (after its own cropping and scrolling)."""
    return "".join(segment.text for segment in widget.render_line(y))


def status_text(app: HadrosaurApp) -> str:
    return str(app.screen.query_one("#status-line").render())


# -- a busy index, on every screen that waits for it ------------------------------------


@pytest.mark.asyncio
async def test_a_busy_index_is_said_on_the_collections_and_the_resources_screen(
    sample_base: Path,
) -> None:
    """The resources screen said "Loading…" under "● live" while a rebuild held the index."""
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        with holding(HOLD_INDEX, str(sample_base / "genomes")):
            await wait_until(pilot, lambda: "genomes" in app.busy)
            collections = app.collections_screen.query_one("#collections")
            assert "⧗ busy" in line_text(collections, 1)  # genomes, the first row
            assert "index busy: genomes" in status_text(app)
            assert "● live" not in status_text(app)
            await pilot.press("enter")
            await pilot.pause(0.5)
            screen = resources_screen(app)
            assert not screen.model.loaded
            assert "index busy: genomes" in status_text(app)
            assert "● live" not in status_text(app)
            assert "Waiting for the index of genomes" in line_text(screen.table, 2)
            assert "index busy" in str(screen.query_one("#filter-bar").render())
        await wait_until(pilot, lambda: screen.model.loaded and not app.busy)
        assert "● live" in status_text(app)
        assert "GCF_0000" in line_text(screen.table, 1)
        assert "index busy" not in str(screen.query_one("#filter-bar").render())


# -- the selection stays through live changes -----------------------------------------


def build_running(base: Path) -> list[Path]:
    """Collection "jobs": four running (job-0..3, their locks to be held), two done."""
    coll = define_collection(base, "jobs")
    from hadrosaur._liveness import local_host

    locks = []
    for i in range(4):
        res = write_resource(
            coll, f"job-{i}", PENDING, start_ms=NOW_MS - 60_000, host=local_host(), log="go\n"
        )
        locks.append(res / ".lock")
    for i in range(2):
        write_resource(coll, f"old-{i}", COMPLETED, start_ms=NOW_MS - 9_000, end_ms=NOW_MS)
    return locks


@pytest.mark.asyncio
async def test_a_running_row_that_ends_stays_selected_in_the_running_view(
    tmp_path: Path,
) -> None:
    """In the n view, the selected job finishing used to move the cursor to another job."""
    base = tmp_path / "base"
    locks = build_running(base)
    with holding(HOLD_LOCKS, *map(str, locks)):
        app = make_app(base)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_first_collection(pilot)
            await pilot.press("n", "down")
            await settle(pilot)
            assert screen.selected == "job-1"
            # The job ends: its files say so, as a worker writes them.
            write_resource(
                base / "jobs", "job-1", COMPLETED, start_ms=NOW_MS - 60_000, end_ms=NOW_MS
            )
            await wait_until(pilot, lambda: screen.model.counts()[COMPLETED] == 3)
            await settle(pilot)
            assert screen.selected == "job-1"
            assert screen.table.cursor_ident == "job-1"
            assert screen.table.cursor_row == 1
            assert "✔ completed" in line_text(screen.table, 2)  # shown as it is now
            assert screen.detail.data is not None and screen.detail.data.ident == "job-1"
            assert "3 shown +1 kept" in str(screen.query_one("#filter-bar").render())
            # Moving on lets it go: the cursor is on the next running job, the view
            # holds only running ones.
            await pilot.press("down")
            await settle(pilot)
            assert screen.selected == "job-2"
            assert [r.ident for r in screen.model.rows(0, 9)] == ["job-0", "job-2", "job-3"]
            assert screen.table.cursor_row == 1
            # A user's filter shows what it says: the kept row does not survive a/n.
            write_resource(
                base / "jobs", "job-2", COMPLETED, start_ms=NOW_MS - 60_000, end_ms=NOW_MS
            )
            await wait_until(pilot, lambda: screen.model.counts()[COMPLETED] == 4)
            await pilot.press("a", "n")
            await settle(pilot)
            assert [r.ident for r in screen.model.rows(0, 9)] == ["job-0", "job-3"]


@pytest.mark.asyncio
async def test_an_error_recomputed_from_the_error_view_stays_selected(
    held: Project, tmp_path: Path
) -> None:
    """x, then r: the recomputed resource left the view and the cursor landed on another."""
    app = make_app(held.base, jobs=1)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_first_collection(pilot)
        await pilot.press("x", "down")
        await settle(pilot)
        assert screen.selected == "gate2"
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: held.status("g", "gate2") == PENDING, timeout=60)
        await wait_until(pilot, lambda: screen.model.counts()[PENDING] == 1)
        await settle(pilot)
        assert screen.selected == "gate2" and screen.table.cursor_ident == "gate2"
        assert screen.detail.data is not None and screen.detail.data.ident == "gate2"
        (tmp_path / "gates").mkdir(exist_ok=True)
        (tmp_path / "gates" / "gate2").touch()
        await wait_until(pilot, lambda: app.recompute_run is None, timeout=60)
        await wait_until(pilot, lambda: screen.model.counts()[COMPLETED] == 1)
        await settle(pilot)
        assert screen.selected == "gate2"
        await pilot.press("up")
        await settle(pilot)
        assert screen.selected == "gate1"
        assert [r.ident for r in screen.model.rows(0, 9)] == ["gate1", "quick"]


def test_the_model_keeps_the_selected_row_through_changes_not_through_filters() -> None:
    model = CollectionModel("c")
    model.extend([(f"r{i}", PENDING, 1, None, "") for i in range(5)])
    model.set_status_filter(PENDING)
    model.keep("r2")
    model.apply([("r2", ("r2", COMPLETED, 1, 2, ""))])
    assert [r.ident for r in model.rows(0, 9)] == ["r0", "r1", "r2", "r3", "r4"]
    assert model.kept_outside()
    model.set_sort("start")  # a re-sort rebuilds the view: still kept
    assert model.find("r2") is not None
    model.set_sort("ident")
    assert model.keep("r3")  # the cursor moved: r2 goes
    assert [r.ident for r in model.rows(0, 9)] == ["r0", "r1", "r3", "r4"]
    model.apply([("r3", ("r3", COMPLETED, 1, 2, ""))])
    model.set_status_filter(PENDING)  # chosen by the user: r3 does not match, it goes
    assert [r.ident for r in model.rows(0, 9)] == ["r0", "r1", "r4"]


# -- 80x24 and smaller ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_at_80_columns_every_collection_column_is_whole(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.collections_screen.query_one("#collections")
        header, genomes, imports = (line_text(table, y) for y in range(3))
        assert header.split() == [
            "Collection", "Total", "Done", "Run", "Intr", "Err", "Wait", "Progress", "Rate", "ETA",
        ]  # fmt: skip
        assert genomes.rstrip().endswith("stalled")
        assert imports.rstrip().endswith("done")


@pytest.mark.asyncio
async def test_a_narrow_terminal_drops_the_bar_then_the_rate_not_the_eta(
    sample_base: Path,
) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(64, 24)) as pilot:
        await settle(pilot)
        table = app.collections_screen.query_one("#collections")
        header = line_text(table, 0).split()
        assert header[-2:] == ["%", "ETA"] and "Rate" not in header
        assert line_text(table, 1).rstrip().endswith("stalled")


@pytest.mark.asyncio
async def test_a_very_small_terminal_hides_the_detail_pane_and_says_so(
    sample_base: Path,
) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(40, 12)) as pilot:
        screen = await open_first_collection(pilot)
        assert not screen.detail.display
        hint = screen.query_one("#detail-hidden")
        assert hint.display and "detail pane hidden" in str(hint.render())
        # The ident is whole (the reason column gives way), the status line is there.
        assert "GCF_0000" in line_text(screen.table, 1)
        assert screen.query_one("#status-line").region.height == 1
        await pilot.press("down", "x", "2", "1", "a")  # keys that drive the detail: no crash
        await settle(pilot)
        await pilot.resize_terminal(40, 30)
        await settle(pilot)
        assert screen.detail.display and not hint.display
        assert screen.detail.region.height >= 8


@pytest.mark.asyncio
async def test_help_scrolls_with_j_k_and_the_arrows(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first_collection(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        box = help_screen.query_one("#help-box")
        assert box.max_scroll_y > 0  # longer than 24 lines
        await pilot.press("j", "j", "down")
        await pilot.pause()
        assert box.scroll_y == 3
        await pilot.press("k", "up")
        await pilot.pause()
        assert box.scroll_y == 1
        await pilot.press("end")
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y
        await pilot.press("q")
        assert not isinstance(app.screen, HelpScreen)


# -- headings and dates ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_every_sortable_heading_shows_its_sort_mark(sample_base: Path) -> None:
    """Duration's mark was cut off by its column's width."""
    app = make_app(sample_base)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_collection(pilot)
        for heading in ("Ident", "Status", "Started", "Duration"):
            if heading != "Ident":
                await pilot.press("s")
            assert f"{heading} ▲" in line_text(screen.table, 0)
            await pilot.press("S")
            assert f"{heading} ▼" in line_text(screen.table, 0)
            await pilot.press("S")


def test_dates_of_another_year_show_the_year() -> None:
    day = 86_400_000
    assert format_clock(NOW_MS - 60_000, NOW_MS) == "11:59:00"
    assert format_clock(NOW_MS - day, NOW_MS) == "02-28 12:00"
    assert format_clock(NOW_MS - 90 * day, NOW_MS) == "2025-12-01"
    assert len(format_clock(NOW_MS - 400 * day, NOW_MS)) <= 11
