"""CollectionModel: filters, sorts and live changes agree with a brute-force computation;
and a worker's death reaches it as a change."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.message import Message

from hadrosaur import Project
from hadrosaur_tui import text_filter
from hadrosaur_tui.format import STATUS_ORDER
from hadrosaur_tui.messages import RowsChanged, RowsLoaded
from hadrosaur_tui.model import CollectionModel, RowBlock, RowTuple
from hadrosaur_tui.reader import CollectionReader

from ..helpers import spawn, wait_for

IDENTS = [f"id-{i:02d}" for i in range(25)] + ["Id-ÉX", "idΣ", "x\u0130y", "ab", "Ab"]
REASONS = ["", "ValueError: Boom", "OSError: disk", "KeyError: 'ab'", "İstanbul Σ"]
#: Texts typed into the filter: ident and reason parts, case variants, exclusions, a NUL.
texts = st.sampled_from(
    ["", "id-1", "!id-1", "boom", "Boom", "!disk", "r: b", "\0", "1\0v", "!", "ab", "!ab", "\u03c3"]
) | st.text(alphabet="!iIdD-0123ab \u03a3\u03c3\u0130\0:oO", max_size=6)
rows_strategy = st.builds(
    lambda ident, status, start, dur, reason: (
        ident,
        status,
        start,
        None if start is None or dur is None else start + dur,
        reason if status == "error" else "",
    ),
    st.sampled_from(IDENTS),
    st.sampled_from(STATUS_ORDER),
    st.one_of(st.none(), st.integers(0, 10_000)),
    st.one_of(st.none(), st.integers(0, 500)),
    st.sampled_from(REASONS),
)


def expected_view(
    state: dict[str, RowTuple],
    status: str | None,
    text: str,
    key: str,
    reverse: bool,
    group: set[str] | None = None,
) -> list[str]:
    invert = text.startswith("!")
    needle = text[1:] if invert else text
    fold = needle == needle.lower()
    out = []
    for ident in sorted(state):
        row = state[ident]
        if status is not None and row[1] != status:
            continue
        if group is not None and ident not in group:
            continue
        if needle:
            fields = (ident.lower(), row[4].lower()) if fold else (ident, row[4])
            if any(needle in f for f in fields) == invert:
                continue
        out.append(ident)
    if key == "status":
        out.sort(key=lambda i: STATUS_ORDER.index(state[i][1]))
    elif key == "start":
        out.sort(key=lambda i: (state[i][2] is None, state[i][2] or 0))
    elif key == "duration":

        def duration(i: str) -> tuple[bool, int]:
            s, e = state[i][2], state[i][3]
            return (True, 0) if s is None or e is None else (False, e - s)

        out.sort(key=duration)
    if reverse:
        out.reverse()
    return out


@settings(max_examples=150, deadline=None)
@given(
    initial=st.lists(rows_strategy, max_size=20),
    changes=st.lists(st.tuples(st.sampled_from(IDENTS), st.one_of(st.none(), rows_strategy))),
    status=st.one_of(st.none(), st.sampled_from(STATUS_ORDER)),
    text=texts,
    key=st.sampled_from(["ident", "status", "start", "duration"]),
    reverse=st.booleans(),
    filter_first=st.booleans(),
    group=st.one_of(st.none(), st.sets(st.sampled_from(IDENTS))),
)
def test_view_matches_brute_force(
    initial: list[RowTuple],
    changes: list[tuple[str, RowTuple | None]],
    status: str | None,
    text: str,
    key: str,
    reverse: bool,
    filter_first: bool,
    group: set[str] | None,
) -> None:
    model = CollectionModel("c")
    state = {row[0]: row for row in initial}
    page = sorted(state.values())
    if filter_first:
        if group is not None:
            model.set_group_filter("3fa92c01be", "KeyError", group)
        model.set_status_filter(status)
        model.set_text_filter(text)
        model.set_sort(key, reverse)
    model.extend(page[: len(page) // 2])
    model.extend(RowBlock.from_rows(page[len(page) // 2 :]))
    for ident, row in changes:
        fixed = None if row is None else (ident, *row[1:])
        model.apply([(ident, fixed)])
        if fixed is None:
            state.pop(ident, None)
        else:
            state[ident] = fixed
    if not filter_first:
        if group is not None:
            model.set_group_filter("3fa92c01be", "KeyError", group)
        model.set_status_filter(status)
        model.set_text_filter(text)
        model.set_sort(key, reverse)
    shown = [r.ident for r in model.rows(0, len(model))]
    want = expected_view(state, status, text, key, reverse, group)
    if key == "ident":
        assert shown == want
    else:  # ties may be ordered either way under reverse; compare as groups
        assert sorted(shown) == sorted(want)
        assert [_key(state, i, key) for i in shown] == [_key(state, i, key) for i in want]
    for index, ident in enumerate(shown):
        assert model.find(ident) == index
    assert model.total == len(state)
    assert model.counts() == {s: sum(r[1] == s for r in state.values()) for s in STATUS_ORDER}


@settings(max_examples=150, deadline=None)
@given(
    initial=st.lists(rows_strategy, max_size=20),
    steps=st.lists(
        st.tuples(
            st.integers(1, 7),
            st.lists(st.tuples(st.sampled_from(IDENTS), st.one_of(st.none(), rows_strategy))),
        ),
        max_size=6,
    ),
    status=st.one_of(st.none(), st.sampled_from(STATUS_ORDER)),
    first=texts,
    text=texts,
    typed_on=st.booleans(),
    reverse=st.booleans(),
)
def test_a_text_filter_run_in_slices_while_rows_change_matches_brute_force(
    initial: list[RowTuple],
    steps: list[tuple[int, list[tuple[str, RowTuple | None]]]],
    status: str | None,
    first: str,
    text: str,
    typed_on: bool,
    reverse: bool,
) -> None:
    """The screen's way: a job stepped a slice at a time, rows changing between slices.

    With ``typed_on`` the text extends the one before (more characters typed),
    and the job looks only at the rows that matched it (narrowing).
    """
    if typed_on:
        text = first + text.lstrip("!")
    share = text_filter.NARROW_SHARE
    text_filter.NARROW_SHARE = 1  # narrow whatever the share of rows matched
    try:
        _run_in_slices(initial, steps, status, first, text, reverse)
    finally:
        text_filter.NARROW_SHARE = share


def _run_in_slices(
    initial: list[RowTuple],
    steps: list[tuple[int, list[tuple[str, RowTuple | None]]]],
    status: str | None,
    first: str,
    text: str,
    reverse: bool,
) -> None:
    model = CollectionModel("c")
    state = {row[0]: row for row in initial}
    model.extend(sorted(state.values()))
    model.set_status_filter(status)
    model.set_text_filter(first)  # the filter the job replaces
    model.set_sort("ident", reverse)
    job = model.text_filter_job(text)
    for rows, changes in steps:
        model.step_text_filter(job, rows)
        for ident, row in changes:
            fixed = None if row is None else (ident, *row[1:])
            model.apply([(ident, fixed)])
            if fixed is None:
                state.pop(ident, None)
            else:
                state[ident] = fixed
        # Still the old filter on show until the job is installed.
        assert [r.ident for r in model.rows(0, len(model))] == expected_view(
            state, status, first, "ident", reverse
        )
    model.finish_text_filter(job)
    shown = [r.ident for r in model.rows(0, len(model))]
    assert shown == expected_view(state, status, text, "ident", reverse)
    assert [model.find(ident) for ident in shown] == list(range(len(shown)))


def test_a_row_that_changes_after_its_slice_was_matched_is_matched_again() -> None:
    model = CollectionModel("c")
    model.extend([("a", "error", 1, 2, "ValueError: Boom"), ("b", "completed", 1, 2, "")])
    job = model.text_filter_job("boom")
    model.step_text_filter(job, rows=1)  # "a" matched, by its reason
    model.apply([("a", ("a", "completed", 1, 3, ""))])  # recomputed: no reason now
    model.apply([("b", ("b", "error", 1, 3, "KeyError: boom"))])  # not yet matched
    model.finish_text_filter(job)
    assert [r.ident for r in model.rows(0, 10)] == ["b"]


def _key(state: dict[str, RowTuple], ident: str, key: str) -> object:
    row = state[ident]
    if key == "status":
        return row[1]
    if key == "start":
        return row[2]
    return None if row[2] is None or row[3] is None else row[3] - row[2]


def test_unfiltered_ident_order_stores_no_view() -> None:
    model = CollectionModel("c")
    model.extend([(f"r{i:06d}", "completed", i, i + 1, "") for i in range(1000)])
    assert model.order is None and len(model) == 1000
    model.set_status_filter("error")
    assert model.order is not None and len(model) == 0
    model.set_status_filter(None)
    assert model.order is None
    model.set_group_filter("3fa92c01be", "KeyError", ["r000007", "r000009", "nope"])
    assert [r.ident for r in model.rows(0, 10)] == ["r000007", "r000009"]
    model.clear_group_filter()
    assert model.order is None and model.group_filter is None


def test_row_durations() -> None:
    model = CollectionModel("c")
    model.extend(
        [
            ("a", "pending", 100, None, ""),
            ("b", "interrupted", 5, None, ""),
            ("c", "completed", 1, 4, ""),
        ]
    )
    assert model.row(0).duration_ms(now_ms=600) == 500
    assert model.row(1).duration_ms(now_ms=600) is None
    assert model.row(2).duration_ms(now_ms=600) == 3


SLOW_PIPELINE = """
import os, time
from pathlib import Path
from hadrosaur import Project

proj = Project(os.environ["HADROSAUR_TEST_BASE"])


@proj.resource("c")
def compute(ident, args, ctx):
    print("computing", flush=True)
    while not Path(args["go"]).exists():
        time.sleep(0.01)
    return ident
"""


def test_a_killed_worker_reaches_the_model_as_interrupted_through_the_change_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader thread's passes, run here one by one, feed a model as the app does."""
    base = tmp_path / "base"
    (tmp_path / "pipeline.py").write_text(SLOW_PIPELINE)
    monkeypatch.setenv("HADROSAUR_TEST_BASE", str(base))
    code = 'from pipeline import proj\nproj.fetch("c", "{}", {{"go": "/nonexistent"}})'
    workers = [spawn(tmp_path, code.format(ident)) for ident in ("a", "b")]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "computing"
    model = CollectionModel("c")
    messages: list[Message] = []
    reader = CollectionReader(base, messages.append, poll_interval=3600)
    reader.set_active("c")

    def feed() -> dict[str, int]:
        reader.run_pass()
        for message in messages:
            if isinstance(message, RowsLoaded):
                if message.reset:
                    model.clear()
                model.extend(message.rows)
                model.loaded = message.done
            elif isinstance(message, RowsChanged):
                model.apply(message.changes)
        messages.clear()
        return model.counts()

    wait_for(lambda: feed()["pending"] == 2 and model.loaded)
    workers[0].send_signal(signal.SIGKILL)
    workers[0].communicate()
    wait_for(lambda: feed()["interrupted"] == 1)
    assert (model.counts()["pending"], model.row(0).status) == (1, "interrupted")
    assert Project(base, create=False).stats("c")["counts"]["interrupted"] == 1
    workers[1].send_signal(signal.SIGKILL)
    workers[1].communicate()
    wait_for(lambda: feed()["interrupted"] == 2)
