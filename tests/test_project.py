"""The user API of DESIGN.md section 1, on real files and a real LevelDB."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import (
    COUNT_KEYS,
    BaseDirectoryNotFound,
    CollectionNotDefined,
    DamagedResource,
    HadrosaurError,
    InvalidArgs,
    InvalidStatus,
    Project,
    UnknownCollection,
)

from .helpers import scan_counts


def define_items(proj: Project) -> list[str]:
    """Define collection "items"; return the list that records each compute."""
    calls: list[str] = []

    @proj.resource("items")
    def compute(ident: str, args: dict[str, Any], ctx: Any) -> Any:
        calls.append(ident)
        ctx.logger.info("computing %s with %s", ident, args)
        if ident.startswith("fail"):
            raise ValueError(f"cannot compute {ident}")
        if ident == "set":
            return {1, 2}
        if ident == "nan":
            return math.nan
        return {"ident": ident, "args": args}

    return calls


def test_fetch_computes_and_records_everything(proj: Project) -> None:
    define_items(proj)
    res = proj.fetch("items", "a", {"k": 3})
    assert res.status == "completed"
    assert res.result == {"ident": "a", "args": {"k": 3}}
    assert res.start_time is not None and res.end_time is not None
    assert 0 <= res.end_time - res.start_time < 60_000
    assert set(res.paths) == {"base", "error", "log", "status", "result", "storage", "meta"}
    assert json.loads(res.paths["result"].read_text()) == res.result
    assert res.paths["status"].read_text() == "completed"
    meta = json.loads(res.paths["meta"].read_text())
    assert meta["args"] == {"k": 3} and meta["attempt"] == 1 and isinstance(meta["pid"], int)
    assert meta["start_time"] == res.start_time and meta["end_time"] == res.end_time


def test_log_line_has_time_level_message_and_source(proj: Project) -> None:
    define_items(proj)
    proj.fetch("items", "a")
    log = proj.fetch_log("items", "a")
    assert re.match(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO +computing a with \{\} \(test_project\.py:\d+\)\n$",
        log,
    ), log


def test_completed_is_cached_and_recompute_forces(proj: Project) -> None:
    calls = define_items(proj)
    first = proj.fetch("items", "a")
    again = proj.fetch("items", "a")
    assert calls == ["a"]
    assert again.result == first.result and again.start_time == first.start_time
    redo = proj.fetch("items", "a", recompute=True)
    assert calls == ["a", "a"]
    assert redo.attempt == 2


def test_a_second_project_instance_reads_the_cache(proj: Project, base: Path) -> None:
    define_items(proj)
    proj.fetch("items", "a")
    other = Project(base)
    calls = define_items(other)
    assert other.fetch("items", "a").result == {"ident": "a", "args": {}}
    assert calls == []


def test_an_exception_is_recorded_and_returned_not_raised(proj: Project) -> None:
    calls = define_items(proj)
    res = proj.fetch("items", "fail-1")
    assert res.status == "error" and res.result is None
    trace = proj.fetch_error("items", "fail-1")
    assert trace.startswith("Traceback (most recent call last):")
    assert "ValueError: cannot compute fail-1" in trace
    assert proj.status("items", "fail-1") == "error"
    # An error is computed again by the next fetch.
    proj.fetch("items", "fail-1")
    assert calls == ["fail-1", "fail-1"]


def test_an_error_that_later_succeeds_drops_its_old_traceback(proj: Project) -> None:
    attempts: list[int] = []

    @proj.resource("flaky")
    def flaky(ident: str, args: Any, ctx: Any) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("network down")
        return 42

    assert proj.fetch("flaky", "x").status == "error"
    res = proj.fetch("flaky", "x")
    assert res.status == "completed" and res.result == 42 and res.attempt == 2
    assert proj.fetch_error("flaky", "x") == ""


@pytest.mark.parametrize("ident", ["set", "nan"])
def test_a_result_that_is_not_json_is_an_error_that_says_so(proj: Project, ident: str) -> None:
    define_items(proj)
    res = proj.fetch("items", ident)
    assert res.status == "error"
    assert "not JSON-serializable" in proj.fetch_error("items", ident)
    assert not res.paths["result"].exists()


def test_args_that_are_not_json_are_refused_before_any_write(proj: Project, base: Path) -> None:
    define_items(proj)
    with pytest.raises(InvalidArgs, match="JSON-serializable"):
        proj.fetch("items", "a", {"when": object()})
    assert not (base / "items" / "a").exists()


def test_stats_counts_every_status_and_total_is_their_sum(proj: Project, base: Path) -> None:
    define_items(proj)
    for ident in ["a", "b", "fail-1"]:
        proj.fetch("items", ident)
    proj.plan("items", ["a", "b", "fail-1", "later-1", "later-2"])
    counts = proj.stats("items")["counts"]
    assert tuple(counts) == COUNT_KEYS
    assert counts == {
        "total": 5,
        "completed": 2,
        "pending": 0,
        "interrupted": 0,
        "error": 1,
        "unavailable": 2,
    }
    assert proj.stats() == {"items": {"counts": counts}}
    assert scan_counts(base / "items") == {"completed": 2, "error": 1}


def test_planned_resources_leave_unavailable_as_they_complete(proj: Project) -> None:
    define_items(proj)
    plan = proj.plan("items", ["x", "y"])
    assert proj.plan("items", ["y", "x"]) == plan  # idempotent
    assert proj.stats("items")["counts"]["unavailable"] == 2
    proj.fetch("items", "x")
    counts = proj.stats("items")["counts"]
    assert (counts["unavailable"], counts["completed"], counts["total"]) == (1, 1, 2)
    assert proj.fetch_by_status("items", "unavailable") == ["y"]


def test_fetch_by_status_and_its_aliases(proj: Project) -> None:
    define_items(proj)
    for ident in ["b", "a", "fail-2", "fail-1"]:
        proj.fetch("items", ident)
    assert proj.fetch_by_status("items", "completed") == ["a", "b"]
    assert proj.find_by_status("items", "complete") == ["a", "b"]
    assert proj.fetch_by_status("items", "error") == ["fail-1", "fail-2"]
    assert proj.fetch_by_status("items", "pending") == []
    with pytest.raises(InvalidStatus, match="unknown status 'done'"):
        proj.fetch_by_status("items", "done")


def test_collection_alias_and_redefinition_rules(proj: Project) -> None:
    @proj.collection("c")
    def one(ident: str, args: Any, ctx: Any) -> int:
        return 1

    proj.collection("c")(one)  # the same function again is fine

    def two(ident: str, args: Any, ctx: Any) -> int:
        return 2

    with pytest.raises(HadrosaurError, match="already defined"):
        proj.resource("c")(two)
    assert proj.fetch("c", "x").result == 1


def test_unknown_and_undefined_collections(proj: Project, base: Path) -> None:
    with pytest.raises(UnknownCollection, match="no collection 'nope'"):
        proj.stats("nope")
    with pytest.raises(UnknownCollection):
        proj.status("nope", "x")
    define_items(proj)
    proj.fetch("items", "a")
    reader = Project(base)
    assert reader.stats("items")["counts"]["completed"] == 1  # reading needs no function
    with pytest.raises(CollectionNotDefined, match=r"@project\.resource"):
        reader.fetch("items", "a")


def test_status_log_and_error_of_unknown_resources(proj: Project) -> None:
    define_items(proj)
    assert proj.status("items", "never") == "unavailable"
    assert proj.fetch_log("items", "never") == ""
    assert proj.fetch_error("items", "never") == ""
    assert proj.load("items", "never").status == "unavailable"


def test_subdir_is_created_only_when_used(proj: Project) -> None:
    @proj.resource("files")
    def files(ident: str, args: Any, ctx: Any) -> str | None:
        if ident == "writes":
            (ctx.subdir / "out.txt").write_text("data")
            return str(ctx.subdir / "out.txt")
        return None

    res = proj.fetch("files", "writes")
    assert Path(res.result).read_text() == "data"
    assert Path(res.result).parent == res.paths["storage"]
    quiet = proj.fetch("files", "quiet")
    assert not quiet.paths["storage"].exists()
    assert not quiet.paths["log"].exists()  # run.log is only created on the first line


def test_keyboard_interrupt_leaves_the_resource_interrupted(proj: Project) -> None:
    runs: list[int] = []

    @proj.resource("stop")
    def stop(ident: str, args: Any, ctx: Any) -> str:
        runs.append(1)
        if len(runs) == 1:
            raise KeyboardInterrupt
        return "done"

    with pytest.raises(KeyboardInterrupt):
        proj.fetch("stop", "x")
    assert proj.status("stop", "x") == "interrupted"
    assert proj.stats("stop")["counts"]["interrupted"] == 1
    assert proj.fetch_by_status("stop", "interrupted") == ["x"]
    assert proj.fetch("stop", "x").result == "done"
    assert proj.stats("stop")["counts"]["interrupted"] == 0


def test_damaged_result_is_reported_and_recomputed(proj: Project) -> None:
    calls = define_items(proj)
    res = proj.fetch("items", "a")
    res.paths["result"].write_text("{truncated")
    with pytest.raises(DamagedResource, match="not valid JSON"):
        proj.load("items", "a")
    lenient = proj.load("items", "a", strict=False)
    assert lenient.status == "completed" and lenient.result is None
    assert "not valid JSON" in lenient.problem
    assert proj.fetch("items", "a").result == {"ident": "a", "args": {}}
    assert calls == ["a", "a"]


def test_missing_base_for_readers(tmp_path: Path) -> None:
    with pytest.raises(BaseDirectoryNotFound, match="does not exist"):
        Project(tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(BaseDirectoryNotFound):
        Project(tmp_path / "file")


def test_durable_mode_writes_the_same_layout(base: Path) -> None:
    proj = Project(base, durable=True)
    define_items(proj)
    assert proj.fetch("items", "a").status == "completed"
    assert proj.stats("items")["counts"]["completed"] == 1


def test_changes_feed_reload_then_increments(proj: Project) -> None:
    define_items(proj)
    proj.fetch("items", "a")
    first = proj.changes("items")
    assert first.reload and first.changes == ()
    proj.fetch("items", "b")
    proj.fetch("items", "fail-1")
    batch = proj.changes("items", first.cursor)
    assert not batch.reload
    # Markers are drained when a reader opens the index, so each resource shows
    # up once, with the status it had at that moment.
    assert [(c.ident, c.entry.status if c.entry else None) for c in batch.changes] == [
        ("b", "completed"),
        ("fail-1", "error"),
    ]
    last = batch.changes[-1]
    assert last.entry is not None and last.entry.reason == "ValueError: cannot compute fail-1"
    assert proj.changes("items", batch.cursor).changes == ()


def test_entries_page_through_in_ident_order(proj: Project) -> None:
    define_items(proj)
    for ident in ["c", "a", "b", "fail-1"]:
        proj.fetch("items", ident)
    first = proj.entries("items", limit=2)
    rest = proj.entries("items", after=first[-1].ident)
    assert [e.ident for e in first + rest] == ["a", "b", "c", "fail-1"]
    assert rest[-1].status == "error" and rest[-1].duration_ms is not None
