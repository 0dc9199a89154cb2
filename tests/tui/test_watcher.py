"""DirectoryWatcher in its own thread: files written into a watched directory are reported.

The watcher starts watching a moment after its thread starts, so each test
keeps writing fresh files until one is reported (with a deadline), never
sleeping a fixed time. The last test joins the watcher to the reader, as the
app does: a fetch in another thread reaches the reader's messages through
file events alone (the reader's poll interval is an hour).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from pathlib import Path, PosixPath

import pytest

from hadrosaur import COMPLETED, Project
from hadrosaur_tui.messages import BaseState, SummaryUpdated
from hadrosaur_tui.reader import CollectionReader
from hadrosaur_tui.watcher import DirectoryWatcher

from ..helpers import wait_for
from .harness import Posted, compute, run_in_thread

_names = itertools.count()


class Reported:
    """Every path the watcher reported, from its thread, and each report's paths."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.paths: set[str] = set()
        self.reports: list[set[str]] = []

    def __call__(self, paths: set[str]) -> None:
        with self._lock:
            self.paths |= paths
            self.reports.append(set(paths))

    def since(self, report: int) -> set[str]:
        """The paths reported from the ``report``-th report on."""
        with self._lock:
            return set().union(*self.reports[report:])

    def count(self) -> int:
        with self._lock:
            return len(self.reports)

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return path in self.paths


def start_watcher(
    request: pytest.FixtureRequest, *paths: Path, markers: tuple[Path, ...] = ()
) -> tuple[DirectoryWatcher, Reported]:
    reported = Reported()
    watcher = DirectoryWatcher(reported, debounce_ms=20)
    watcher.set_paths(paths, markers=markers)
    run_in_thread(request, watcher.run, watcher.stop)
    return watcher, reported


def write_until_reported(directory: Path, reported: Reported) -> Path:
    """Write a new file into ``directory`` until the watcher reports one; return it."""
    written: list[str] = []

    def seen() -> bool:
        if any(path in reported for path in written):
            return True
        path = directory / f"file-{next(_names)}"
        path.write_text("x")
        written.append(str(path))
        return False

    wait_for(seen, timeout=30, interval=0.1)
    return Path(next(path for path in written if path in reported))


def test_a_file_written_into_a_watched_directory_is_reported(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _, reported = start_watcher(request, tmp_path)
    path = write_until_reported(tmp_path, reported)
    assert path.parent == tmp_path


def test_only_the_current_set_is_watched(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    watcher, reported = start_watcher(request, first)
    write_until_reported(first, reported)
    watcher.set_paths([second])
    write_until_reported(second, reported)
    # Written before the next file of the watched directory: had it been watched,
    # it would have been reported with it or before it.
    (first / "unwatched").write_text("x")
    write_until_reported(second, reported)
    assert str(first / "unwatched") not in reported


def test_a_directory_that_appears_later_is_watched(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    later = tmp_path / "later"
    _, reported = start_watcher(request, later)
    later.mkdir()
    write_until_reported(later, reported)


def in_a_thread(work: Callable[[], object]) -> None:
    """Run ``work`` in another thread, as another process's writes would come, and join it."""
    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_drain_claiming_markers_is_not_reported(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    updates = tmp_path / "coll" / ".updates"
    claimed = updates / ".claimed"
    claimed.mkdir(parents=True)
    _, reported = start_watcher(request, updates, markers=(updates,))
    marker = write_until_reported(updates, reported)
    before = reported.count()

    def drain() -> None:  # the drain's steps: claim (rename into .claimed/), then unlink
        os.rename(marker, claimed / marker.name)
        os.unlink(claimed / marker.name)

    in_a_thread(drain)
    # A marker written after the claim is reported: the claim, which came first,
    # would have been reported by then (with it or before it).
    write_until_reported(updates, reported)
    assert str(marker) not in reported.since(before)


def test_a_file_leaving_a_directory_of_no_markers_is_reported(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    resource, updates = tmp_path / "coll" / "r1", tmp_path / "coll" / ".updates"
    resource.mkdir(parents=True)
    updates.mkdir()
    _, reported = start_watcher(request, resource, updates, markers=(updates,))
    log = write_until_reported(resource, reported)
    before = reported.count()
    in_a_thread(log.unlink)  # a log rotated away: the log pane must hear of it
    wait_for(lambda: str(log) in reported.since(before))


def test_a_fetch_reaches_the_reader_through_file_events(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    proj = Project(tmp_path / "base")
    proj.resource("c")(compute)
    proj.fetch("c", "first")
    posted = Posted()
    reader = CollectionReader(proj.base, posted, poll_interval=3600)
    run_in_thread(request, reader.run, reader.stop)
    watcher = DirectoryWatcher(reader.wake, debounce_ms=20)
    run_in_thread(request, watcher.run, watcher.stop)
    reader.wake()
    state = posted.wait(BaseState, lambda m: m.exists)
    watcher.set_paths([proj.base, *state.marker_dirs], markers=state.marker_dirs)  # as the app
    posted.wait(SummaryUpdated, lambda m: m.counts[COMPLETED] == 1)

    def fetched_and_seen() -> bool:
        # Fetch until one fetch's marker was seen (the first may precede the watch).
        proj.fetch("c", f"more-{next(_names)}")
        return any(m.counts[COMPLETED] > 1 for m in posted.of(SummaryUpdated))

    wait_for(fetched_and_seen, timeout=30, interval=0.2)


class StopsWhenLookedAt(PosixPath):
    """A directory whose ``is_dir()`` stops ``watcher``: stop() lands inside run()'s loop."""

    watcher: DirectoryWatcher | None = None

    def is_dir(self, *args: object, **kwargs: object) -> bool:
        if StopsWhenLookedAt.watcher is not None:
            StopsWhenLookedAt.watcher.stop()
        return True


def test_a_stop_while_the_watch_set_is_read_ends_the_thread(tmp_path: Path) -> None:
    # The app hung as it quit (and `--serve` with it) when stop() came between the
    # loop's look at "stopped" and the clearing of its wake-up: watchfiles then
    # waited, with nothing to wake it, for a change that never came.
    watcher = DirectoryWatcher(lambda paths: None, debounce_ms=20)
    StopsWhenLookedAt.watcher = watcher
    watcher.set_paths([StopsWhenLookedAt(tmp_path)])
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the watcher did not end after stop()"
