"""Pilot tests: keys, filters, live updates, actions and error states of the real app."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from hadrosaur_tui.app import HadrosaurApp
from hadrosaur_tui.screens.collections import CollectionsScreen
from hadrosaur_tui.screens.confirm import ConfirmScreen
from hadrosaur_tui.screens.groups import GroupsScreen
from hadrosaur_tui.screens.help import HelpScreen
from hadrosaur_tui.screens.resources import ResourcesScreen

from .harness import make_app, settle, wait_until
from .sample import NOW_MS, define_collection, write_resource

pytestmark = pytest.mark.asyncio


async def open_first_collection(pilot: Pilot[object]) -> ResourcesScreen:
    """From the collections screen: settle, enter the first collection, settle."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app, HadrosaurApp)
    return resources_screen(pilot.app)


def resources_screen(app: HadrosaurApp) -> ResourcesScreen:
    screen = app.screen
    assert isinstance(screen, ResourcesScreen), screen
    return screen


async def test_collections_screen_shows_counts(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.collections == ("genomes", "imports")
        counts = app.collections_screen.summaries["genomes"].counts
        assert counts == {
            "total": 12,
            "completed": 7,
            "pending": 0,
            "interrupted": 1,
            "error": 2,
            "unavailable": 2,
        }


async def test_enter_opens_a_collection_and_status_keys_filter(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        assert screen.model.name == "genomes" and len(screen.model) == 12
        for key, expected in [("x", 2), ("i", 1), ("u", 2), ("d", 7), ("n", 0), ("a", 12)]:
            await pilot.press(key)
            assert len(screen.model) == expected, key
        await pilot.press("x")
        assert [r.ident for r in screen.model.rows(0, 5)] == ["GCF_0003", "GCF_0007"]
        await pilot.press("escape")
        assert isinstance(app.screen, CollectionsScreen)


async def test_enter_on_a_count_opens_that_status(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # Move the cell cursor to the Errors column of genomes, then enter.
        await pilot.press(*["right"] * 5, "enter")
        await settle(pilot)
        screen = resources_screen(app)
        assert screen.model.status_filter == "error"
        assert len(screen.model) == 2


@pytest.mark.slow
async def test_text_filter_as_you_type_and_inverted(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        await pilot.press("slash", "0", "0", "0")
        await wait_until(pilot, lambda: screen.model.text_filter == "000")  # debounced
        assert {r.ident for r in screen.model.rows(0, 20)} == {f"GCF_000{i}" for i in range(10)}
        await pilot.press("7")
        await wait_until(pilot, lambda: screen.model.text_filter == "0007")
        assert [r.ident for r in screen.model.rows(0, 20)] == ["GCF_0007"]
        await pilot.press("escape")  # closes the box, keeps the filter
        assert isinstance(app.screen, ResourcesScreen) and screen.model.text_filter == "0007"
        await pilot.press("slash", *["backspace"] * 4, "!", "0", "0", "0", "enter")
        assert [r.ident for r in screen.model.rows(0, 20)] == ["GCF_0010", "GCF_0011"]
        # Error reasons match too, case-insensitively for lower-case text.
        await pilot.press("slash", *["backspace"] * 4, *"refused", "enter")
        assert [r.ident for r in screen.model.rows(0, 20)] == ["GCF_0003", "GCF_0007"]


async def test_sort_keys_and_header_click(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        await pilot.press("s")  # status
        statuses = [r.status for r in screen.model.rows(0, 12)]
        assert statuses == sorted(
            statuses, key=["completed", "pending", "interrupted", "error", "unavailable"].index
        )
        await pilot.press("S")
        assert screen.model.reverse and screen.model.rows(0, 1)[0].status == "unavailable"
        await pilot.click("#resource-table", offset=(2, 0))  # the Status heading again
        assert screen.model.sort_key == "status" and not screen.model.reverse
        await pilot.press("s", "s")  # start, duration
        assert screen.model.sort_key == "duration"
        durations = [r.duration_ms(NOW_MS) for r in screen.model.rows(0, 12)]
        known = [d for d in durations if d is not None]
        assert known == sorted(known)


async def test_cursor_stays_on_its_resource_while_rows_change(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        await pilot.press("down", "down", "down", "down", "down")
        assert screen.table.cursor_ident == "GCF_0005"
        # Another writer adds resources that sort before it and changes its neighbours.
        coll = sample_base / "genomes"
        for ident in ["AAA_1", "AAA_2", "AAA_3"]:
            write_resource(coll, ident, "completed", start_ms=NOW_MS, end_ms=NOW_MS, result=1)
        write_resource(coll, "GCF_0004", "error", start_ms=NOW_MS, end_ms=NOW_MS, error="X: y\n")
        # The four writes may reach the reader in two passes: wait for both.
        await wait_until(
            pilot,
            lambda: (
                screen.model.total == 15
                and screen.model.row(screen.model.find("GCF_0004") or 0).status == "error"
            ),
        )
        assert screen.table.cursor_ident == "GCF_0005"
        assert screen.model.row(screen.table.cursor_row).ident == "GCF_0005"


PIPELINE = """
import sys, time
from hadrosaur import Project
proj = Project(sys.argv[1])

@proj.resource("live")
def compute(ident, args, ctx):
    ctx.logger.info("working on %s", ident)
    time.sleep(0.05)
    if ident.endswith("3"):
        raise ValueError("three is bad")
    return ident

proj.plan("live", [f"r{i}" for i in range(10)])
print("planned", flush=True)
sys.stdin.readline()
for i in range(10):
    proj.fetch("live", f"r{i}")
"""


async def test_live_updates_from_another_process(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    app = make_app(base, watch=True, poll_interval=5.0)
    with subprocess.Popen(
        [sys.executable, "-c", PIPELINE, str(base)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as worker:
        assert worker.stdin is not None and worker.stdout is not None
        async with app.run_test(size=(100, 30)) as pilot:
            assert worker.stdout.readline().strip() == "planned"
            await wait_until(pilot, lambda: "live" in app.collections_screen.summaries)
            assert app.collections_screen.summaries["live"].counts["unavailable"] == 10
            await pilot.press("enter")
            await settle(pilot)
            screen = resources_screen(app)
            assert screen.model.counts()["unavailable"] == 10
            worker.stdin.write("go\n")
            worker.stdin.flush()
            await wait_until(pilot, lambda: screen.model.counts()["completed"] == 9)
            await wait_until(
                pilot, lambda: app.collections_screen.summaries["live"].counts["error"] == 1
            )
            assert screen.model.counts() == {
                "completed": 9,
                "pending": 0,
                "interrupted": 0,
                "error": 1,
                "unavailable": 0,
            }
            row = screen.model.row(screen.model.find("r3") or 0)
            assert row.reason == "ValueError: three is bad"
        worker.wait(timeout=30)


async def test_missing_base_then_it_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(Path("later"))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "does not exist" in _message(app))
        assert "Waiting for it to appear" in _message(app)
        define_collection(tmp_path / "later", "fresh")
        await wait_until(pilot, lambda: app.collections == ("fresh",))
        assert not app.collections_screen.query_one("#base-message-box").display


async def test_empty_base_and_empty_collection(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    app = make_app(base)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "No collections" in _message(app))
        define_collection(base, "empty")
        await wait_until(pilot, lambda: "empty" in app.collections_screen.summaries)
        await pilot.press("enter")
        await settle(pilot)
        screen = resources_screen(app)
        assert screen.table.empty_text == "No resources in empty yet."


def _message(app: HadrosaurApp) -> str:
    return str(app.collections_screen.query_one("#base-message").render())


HOLD = """
import sys, time
from pathlib import Path
from hadrosaur._index import CollectionIndex
with CollectionIndex(Path(sys.argv[1])):
    print("holding", flush=True)
    sys.stdin.readline()
"""


async def test_index_busy_is_shown_and_retried_quietly(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        with subprocess.Popen(
            [sys.executable, "-c", HOLD, str(sample_base / "genomes")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as holder:
            assert holder.stdout is not None and holder.stdin is not None
            assert holder.stdout.readline().strip() == "holding"
            await wait_until(pilot, lambda: "genomes" in app.busy)
            line = str(app.collections_screen.query_one("#status-line").render())
            assert "index busy: genomes" in line
            holder.stdin.write("\n")
            holder.stdin.flush()
        await wait_until(pilot, lambda: not app.busy)


async def test_legacy_collection_is_labelled(tmp_path: Path) -> None:
    coll = tmp_path / "base" / "old"
    (coll / ".status").mkdir(parents=True)
    (coll / "x").mkdir()
    (coll / "x" / "status").write_text("complete")
    app = make_app(tmp_path / "base")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "old" in app.collections_screen.summaries)
        summary = app.collections_screen.summaries["old"]
        assert summary.legacy and summary.counts["completed"] == 1


@pytest.mark.slow
async def test_detail_tabs_show_log_error_result_info(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert screen.detail.data is not None and screen.detail.data.ident == "GCF_0003"
        assert "GCF_0003: step 4 of 4" in screen.detail.log_view.log_text()
        await pilot.press("2")
        assert screen.detail.active_tab == "error"
        assert "[bold]" in screen.detail.data.error_text  # shown as text, not markup
        await pilot.press("a", "home")
        await settle(pilot)
        await pilot.press("3")
        assert screen.detail.data.result_text is not None
        assert '"contigs": 0' in screen.detail.data.result_text
        await pilot.press("4")
        assert screen.detail.active_tab == "info"
        await pilot.press("1")
        assert screen.detail.active_tab == "log"


async def test_log_follow_wrap_and_jumps(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_first_collection(pilot)
        log = resources_screen(app).detail.log_view
        assert log.follow
        await pilot.press("g")  # on the table: g is not the log's (it opens the error groups)
        assert isinstance(app.screen, GroupsScreen)
        await pilot.press("escape")
        assert log.follow and app.screen is resources_screen(app)
        await pilot.press("tab", "tab")  # the tabs, then the log pane
        assert app.focused is log
        await pilot.press("g")
        assert not log.follow
        await pilot.press("G")
        assert log.follow
        await pilot.press("f")
        assert not log.follow
        await pilot.press("w")
        assert log.wrap
        await pilot.press("w", "f")
        assert not log.wrap and log.follow


async def test_help_lists_every_key_and_closes(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_collection(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_screen = app.screen
        described = {b.key: b.description for _, bs in help_screen.sections() for b in bs}
        for key in ["r", "R", "slash", "x", "a", "e", "o", "c", "p", "q", "f", "w", "ctrl+p"]:
            assert described.get(key), key
        await pilot.press("escape")
        assert isinstance(app.screen, ResourcesScreen)


async def test_command_palette_offers_the_screen_actions(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_first_collection(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Recompute" in titles and "Errors" in titles and "Filter" in titles


async def test_pause_stops_updates_until_resumed(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        await pilot.press("p")
        assert app.paused
        coll = sample_base / "genomes"
        write_resource(coll, "GCF_0010", "completed", start_ms=NOW_MS, end_ms=NOW_MS, result=1)
        await pilot.pause(1.0)
        assert screen.model.counts()["unavailable"] == 2, "no update while paused"
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.model.counts()["unavailable"] == 1)


async def test_copy_path_and_open_in_editor(
    sample_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "editor-args"
    editor = tmp_path / "fake-editor"
    editor.write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_first_collection(pilot)
        await pilot.press("c")
        assert app.clipboard.endswith("genomes/GCF_0000")
        # The headless test driver cannot suspend; the terminal hand-over is Textual's job.
        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)
        await pilot.press("e")
        assert record.read_text().strip().endswith("genomes/GCF_0000/run.log")
        await pilot.press("2", "e")
        assert not record.read_text().strip().endswith("error.log"), "GCF_0000 has no error.log"


async def test_quit_key(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("q")
    assert app.return_code == 0


RECOMPUTE_PIPELINE = textwrap.dedent(
    """
    import os
    from hadrosaur import Project

    proj = Project(os.environ["TUI_TEST_BASE"])
    FLAG = os.path.join(os.environ["TUI_TEST_BASE"], "..", "fixed")

    @proj.resource("jobs")
    def job(ident, args, ctx):
        ctx.logger.info("attempt on %s", ident)
        if not os.path.exists(FLAG):
            raise RuntimeError("not fixed yet")
        return {"ok": ident}

    if __name__ == "__main__":
        for ident in ["a", "b", "c"]:
            proj.fetch("jobs", ident)
    """
)


async def test_recompute_asks_then_runs_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (Path(__file__).parents[2] / "hadrosaur" / "runner.py").exists():
        pytest.skip("the recompute runner (hadrosaur/runner.py) is not there yet")
    base = tmp_path / "base"
    script = tmp_path / "pipeline.py"
    script.write_text(RECOMPUTE_PIPELINE)
    env = dict(os.environ, TUI_TEST_BASE=str(base))
    subprocess.run([sys.executable, str(script)], env=env, check=True)
    monkeypatch.setenv("TUI_TEST_BASE", str(base))
    app = make_app(base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        assert screen.model.counts()["error"] == 3
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, ResourcesScreen)
        (tmp_path / "fixed").touch()
        await pilot.press("r")
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.model.counts()["completed"] == 1, timeout=30)
        await pilot.press("R", "y")
        await wait_until(pilot, lambda: screen.model.counts()["completed"] == 3, timeout=30)
    shutil.rmtree(base)


async def test_a_click_on_a_count_opens_that_status(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.collections_screen.query_one("#collections", DataTable)
        # The Errors cell of the first row: after the first five columns.
        offset_x = sum(col.get_render_width(table) for col in list(table.columns.values())[:5])
        await pilot.click(table, offset=(offset_x + 2, 1))
        await settle(pilot)
        screen = resources_screen(app)
        assert screen.model.status_filter == "error"


async def test_a_damaged_resource_is_shown_as_such(sample_base: Path) -> None:
    (sample_base / "genomes" / "GCF_0001" / "status").write_text("gar\x00bage")
    (sample_base / "genomes" / "GCF_0002" / "result.json").write_text("{truncated")
    (sample_base / "genomes" / ".updates" / "GCF_0001").touch()
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        row = screen.model.row(screen.model.find("GCF_0001") or 0)
        assert row.status == "error" and "damaged status file" in row.reason
        await pilot.press("down")
        await settle(pilot)
        assert screen.detail.data is not None and screen.detail.data.ident == "GCF_0001"
        assert "damaged status file" in screen.detail.data.reason
        await pilot.press("down")
        await settle(pilot)
        assert screen.detail.data.ident == "GCF_0002"
        assert "not valid JSON" in screen.detail.data.problem


async def test_a_collection_read_from_a_scan_is_noted(sample_base: Path) -> None:
    from hadrosaur_tui.messages import SummaryUpdated

    app = make_app(sample_base, poll_interval=600)  # no pass may overwrite the message
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        counts = app.collections_screen.summaries["imports"].counts
        app.post_message(SummaryUpdated("imports", counts, fallback="PermissionError: read-only"))
        await pilot.pause()
        line = str(app.collections_screen.query_one("#status-line").render())
        assert "read-only, scanned: imports" in line


async def test_rows_arriving_before_the_resources_screen_is_mounted(tmp_path: Path) -> None:
    """Rows may reach the app between push_screen and the screen's mount (seen under load)."""
    coll = define_collection(tmp_path, "c")
    write_resource(coll, "a", "completed", start_ms=NOW_MS - 2000, end_ms=NOW_MS, result=1)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.open_collection("c")
        app._rows_changed(None)  # in the same tick: the screen is stacked, not yet composed
        screen = resources_screen(app)
        await settle(pilot)
        assert screen.model.total == 1
        assert screen.selected == "a"  # the table drew the row and selected it
        assert app.is_running
