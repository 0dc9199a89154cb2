"""What the monitor does while nothing changes: nothing, or only what the screen shows moved.

Each test counts the work a quiet or a tailing monitor asks for (summaries
posted, table lines drawn, screen layouts, reader passes, log polls): the
cost the ``tui_idle`` benchmark measures as CPU time.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.strip import Strip
from textual.widgets import DataTable

from hadrosaur import Project
from hadrosaur_tui.messages import SummaryUpdated
from hadrosaur_tui.widgets.log_view import POLL_INTERVAL, LogView
from hadrosaur_tui.widgets.resource_table import ResourceTable
from hadrosaur_tui.widgets.status_line import StatusLine

from .harness import make_app, settle
from .sample import NOW, NOW_MS, write_resource
from .test_app import open_first_collection
from .test_log_view import LogApp
from .test_reader import start


def test_an_unchanged_summary_is_posted_once(
    computed: Project, request: pytest.FixtureRequest
) -> None:
    now = time.time()  # a clock that stands still: the rate and ETA do not drift
    reader, posted = start(computed.base, request, clock=lambda: now)
    posted.wait(SummaryUpdated)
    for _ in range(3):
        reader.wake([str(computed.marker_directory("c"))])
        time.sleep(0.3)
    assert len(posted.of(SummaryUpdated)) == 1
    computed.fetch("c", "another")
    reader.wake([str(computed.marker_directory("c") / "another")])
    posted.wait(SummaryUpdated, lambda m: m.counts["completed"] == 2)


@pytest.mark.asyncio
async def test_the_tick_redraws_only_the_lines_whose_times_moved(sample_base: Path) -> None:
    coll = sample_base / "genomes"
    write_resource(coll, "GCF_0000a", "pending", start_ms=NOW_MS - 5_000)
    now = [NOW]
    app = make_app(sample_base, clock=lambda: now[0])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        await settle(pilot)
        table = screen.query_one(ResourceTable)
        running = table.model.find("GCF_0000a")
        assert running is not None and table.model.row(running).status == "pending"
        app._tick()  # what was drawn so far
        await pilot.pause()
        drawn: list[int] = []
        draw = table.render_line

        def recorded(y: int) -> Strip:
            drawn.append(y)
            return draw(y)

        table.render_line = recorded  # type: ignore[method-assign]
        app._tick()  # the same second: nothing to draw
        await pilot.pause()
        assert drawn == []
        now[0] += 1.0
        app._tick()
        await pilot.pause()
        assert set(drawn) == {running + 1}  # its duration, 5s -> 6s; line 0 is the heading


@pytest.mark.asyncio
async def test_a_followed_log_grows_without_laying_out_the_screen(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("".join(f"line {i}\n" for i in range(50)))
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        view.show(path)
        await pilot.pause()
        with open(path, "a") as log:
            log.write("line 50\n")  # the first growth may show a scroll bar: that is a layout
        view.poll()
        await pilot.pause()
        layouts: list[int] = []
        screen = app.screen
        refresh_layout = screen._refresh_layout

        def counted(*args: object, **kwargs: object) -> None:
            if screen._layout_required:  # not a scroll: every widget arranged again
                layouts.append(1)
            refresh_layout(*args, **kwargs)  # type: ignore[arg-type]

        screen._refresh_layout = counted  # type: ignore[method-assign]
        for i in range(51, 60):
            with open(path, "a") as log:
                log.write(f"line {i}\n")
            view.poll()
            await pilot.pause()
        assert view.follow and view.render_line(view.size.height - 1).text.startswith("line 59")
        assert view.scroll_y == view.max_scroll_y
        assert layouts == []


@pytest.mark.asyncio
async def test_a_burst_of_log_events_is_one_poll(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("first\n")
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        view.show(path)
        await pilot.pause(POLL_INTERVAL)
        polls: list[float] = []
        poll = view.poll

        def counted() -> bool:
            polls.append(time.monotonic())
            return poll()

        view.poll = counted  # type: ignore[method-assign]
        for i in range(20):
            with open(path, "a") as log:
                log.write(f"more {i}\n")
            view.request_poll()
        await pilot.pause(POLL_INTERVAL * 2)
        assert len(polls) == 2  # the first event at once, the rest of the burst once, later
        assert polls[1] - polls[0] >= POLL_INTERVAL * 0.9
        assert view.line_count == 21


@pytest.mark.asyncio
async def test_the_selected_log_growing_does_not_wake_the_reader(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_first_collection(pilot)
        watched = app.watched_resource
        assert watched is not None
        app.reader._pass_wanted = False
        app._files_changed({str(watched / "run.log")})
        assert not app.reader._pass_wanted
        app._files_changed({str(watched.parent / ".updates" / watched.name)})
        assert app.reader._pass_wanted


@pytest.mark.asyncio
async def test_the_covered_collections_screen_draws_nothing_until_it_shows(
    sample_base: Path,
) -> None:
    """Textual repaints the screen on top when the one below changes: it waits, then shows all."""
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_first_collection(pilot)
        app.reader.set_paused(True)  # no summary of its own in between
        collections = app.collections_screen
        table = collections.query_one(DataTable)
        line = collections.query_one(StatusLine)
        name = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        before = [str(cell) for cell in table.get_row(name)]
        stamp = line.updated_ms
        old = collections.summaries[name]
        counts = dict(old.counts, completed=old.counts["completed"] + 1000)
        now = [NOW + 60]
        line.clock = lambda: now[0]
        app.post_message(SummaryUpdated(name, counts, old.rate_per_minute, old.eta))
        await pilot.pause()
        assert collections.summaries[name].counts == counts  # known, not drawn
        assert [str(cell) for cell in table.get_row(name)] == before
        assert line.updated_ms == stamp
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is collections
        assert [str(cell) for cell in table.get_row(name)] != before
        assert line.updated_ms == int(now[0] * 1000)
