"""CollectionReader in its own thread: a change on disk reaches its posted messages.

Each test runs the reader's real loop in a thread on a base written by real
fetches, and waits (with a deadline) for the message a change must bring.
The poll interval is an hour, so a pass runs only when the test wakes the
reader, as the watcher does: what arrives was caused by the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hadrosaur import COMPLETED, ERROR, Project
from hadrosaur_tui.messages import (
    BaseState,
    DetailLoaded,
    IndexBusyChanged,
    RowsChanged,
    RowsLoaded,
    SummaryUpdated,
)
from hadrosaur_tui.reader import CollectionReader

from .harness import Posted, compute, run_in_thread


def start(
    base: Path, request: pytest.FixtureRequest, **options: Any
) -> tuple[CollectionReader, Posted]:
    """A reader running in a thread on ``base``, stopped and joined after the test."""
    posted = Posted()
    options.setdefault("poll_interval", 3600)
    reader = CollectionReader(base, posted, **options)
    run_in_thread(request, reader.run, reader.stop)
    reader.wake()
    return reader, posted


def test_collections_and_counts_follow_the_disk(
    computed: Project, request: pytest.FixtureRequest
) -> None:
    reader, posted = start(computed.base, request)
    state = posted.wait(BaseState, lambda m: m.exists)
    assert state.collections == ("c",)
    assert state.marker_dirs == (computed.marker_directory("c"),)
    summary = posted.wait(SummaryUpdated)
    assert (summary.name, summary.counts[COMPLETED], summary.counts[ERROR]) == ("c", 1, 1)
    assert not summary.legacy and summary.fallback == ""

    computed.resource("d")(compute)
    computed.fetch("d", "x")
    computed.fetch("c", "another")
    reader.wake([str(computed.marker_directory("c") / "another")])
    state = posted.wait(BaseState, lambda m: "d" in m.collections)
    assert state.marker_dirs == (computed.marker_directory("c"), computed.marker_directory("d"))
    posted.wait(SummaryUpdated, lambda m: m.name == "c" and m.counts[COMPLETED] == 2)
    posted.wait(SummaryUpdated, lambda m: m.name == "d" and m.counts[COMPLETED] == 1)


def test_the_active_collection_is_loaded_then_followed_through_its_change_log(
    computed: Project, request: pytest.FixtureRequest
) -> None:
    reader, posted = start(computed.base, request)
    generation = reader.set_active("c")
    loaded = posted.wait(RowsLoaded, lambda m: m.reset and m.done)
    assert (loaded.name, loaded.generation) == ("c", generation)
    assert [(r[0], r[1]) for r in loaded.rows.rows()] == [("a", COMPLETED), ("fail-b", ERROR)]

    computed.fetch("c", "fail-c")
    reader.wake([str(computed.marker_directory("c") / "fail-c")])
    changed = posted.wait(RowsChanged, lambda m: any(i == "fail-c" for i, _ in m.changes))
    assert changed.generation == generation
    row = dict(changed.changes)["fail-c"]
    assert row is not None and row[1] == ERROR and "failing on purpose: fail-c" in row[4]


def test_a_detail_request_is_answered_with_the_resource_read_from_disk(
    computed: Project, request: pytest.FixtureRequest
) -> None:
    reader, posted = start(computed.base, request)
    reader.set_active("c")  # a pass would read it again, and post its summary
    posted.wait(RowsLoaded, lambda m: m.done)  # the last thing a pass posts
    posted.clear()

    reader.request_detail("c", "fail-b", "ValueError: from the index")
    data = posted.wait(DetailLoaded).data
    assert data is not None and (data.ident, data.status) == ("fail-b", ERROR)
    assert "ValueError: failing on purpose: fail-b" in data.error_text
    assert data.reason == "ValueError: from the index"
    assert data.paths == computed.load("c", "fail-b").paths
    assert data.directory == computed.load("c", "fail-b").paths["base"]

    reader.request_detail("c", "a")
    data = posted.wait(DetailLoaded, lambda m: m.data is not None and m.data.ident == "a").data
    assert data is not None and data.status == COMPLETED
    assert data.result_text is not None and '"ident": "a"' in data.result_text
    assert data.meta is not None and data.meta["attempt"] == 1
    # One thread answers in order: had the first request run a pass, its
    # summary would have been posted before this answer.
    assert posted.of(SummaryUpdated) == []

    posted.clear()
    reader.request_detail("c", None)
    assert posted.wait(DetailLoaded).data is None


def test_a_resource_that_cannot_be_read_is_answered_with_the_problem(
    computed: Project, request: pytest.FixtureRequest
) -> None:
    reader, posted = start(computed.base, request)
    reader.request_detail("gone", "x")
    data = posted.wait(DetailLoaded).data
    assert data is not None and data.ident == "x"
    assert "gone" in data.problem and data.paths == {} and data.directory is None


def test_while_paused_no_pass_runs_but_details_are_read(
    computed: Project, request: pytest.FixtureRequest
) -> None:
    reader, posted = start(computed.base, request)
    posted.wait(SummaryUpdated)
    reader.set_paused(True)
    reader.request_detail("c", "a")
    posted.wait(DetailLoaded)  # any pass begun before the pause has ended
    posted.clear()

    computed.fetch("c", "while-paused")
    reader.wake([str(computed.marker_directory("c") / "while-paused")])
    reader.request_detail("c", "while-paused")
    data = posted.wait(DetailLoaded).data
    assert data is not None and data.status == COMPLETED
    assert posted.of(SummaryUpdated) == []

    reader.set_paused(False)
    posted.wait(SummaryUpdated, lambda m: m.counts[COMPLETED] == 2)


def test_a_busy_index_is_reported_then_cleared(
    computed: Project, request: pytest.FixtureRequest
) -> None:
    with computed.view("c"):  # holds the index: the reader cannot open it
        reader, posted = start(computed.base, request, index_timeout=0.1)
        posted.wait(IndexBusyChanged, lambda m: m.name == "c" and m.busy)
        assert posted.of(SummaryUpdated) == []
    reader.wake()
    posted.wait(IndexBusyChanged, lambda m: m.name == "c" and not m.busy)
    posted.wait(SummaryUpdated)


def test_a_missing_base_is_reported_until_it_appears(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    base = tmp_path / "later"
    reader, posted = start(base, request)
    posted.wait(BaseState, lambda m: not m.exists)
    computed = Project(base)
    computed.resource("c")(compute)
    computed.fetch("c", "a")
    reader.wake()
    state = posted.wait(BaseState, lambda m: m.exists)
    assert state.collections == ("c",)
