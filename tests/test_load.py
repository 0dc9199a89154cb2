"""Reading one resource from its files: load_resource, read_current_status, completed_resource."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hadrosaur import DamagedResource, Project
from hadrosaur._load import completed_resource, load_resource, read_current_status


def _write(res_dir: Path, status: str, meta: dict[str, object] | None, result: str | None) -> None:
    res_dir.mkdir(parents=True)
    if meta is not None:
        (res_dir / "meta.json").write_text(json.dumps(meta))
    if result is not None:
        (res_dir / "result.json").write_text(result)
    (res_dir / "status").write_text(status)


@pytest.fixture
def coll(tmp_path: Path) -> Path:
    coll = tmp_path / "coll"
    _write(coll / "done", "completed", {"start_time": 1, "end_time": 4, "attempt": 2}, '{"n": 1}')
    _write(coll / "legacy", "complete", None, "[1]")  # 0.4.1: no meta.json, no end time
    _write(coll / "failed", "error", {"start_time": 1, "end_time": 2}, None)
    _write(coll / "garbled", "compl\x00ted", {"start_time": 1}, "1")
    _write(coll / "lost", "completed", {"start_time": 1, "end_time": 2}, None)
    _write(coll / "torn", "completed", {"start_time": 1, "end_time": 2}, '{"n": ')
    return coll


def test_completed_resource_answers_completed_ones_with_their_result(coll: Path) -> None:
    res = completed_resource(str(coll), "coll", "done")
    assert res is not None and res == load_resource(coll, "coll", "done")
    assert (res.status, res.result, res.duration_ms, res.attempt) == ("completed", {"n": 1}, 3, 2)
    # No end time in meta: not the fast path, the careful one, with the same answer.
    legacy = completed_resource(str(coll), "coll", "legacy")
    assert legacy is not None and (legacy.result, legacy.end_time) == ([1], None)


def test_completed_resource_is_none_for_anything_else(coll: Path) -> None:
    for ident in ("failed", "garbled", "never-run"):
        assert completed_resource(str(coll), "coll", ident) is None


@pytest.mark.parametrize("ident", ["lost", "torn"])
def test_a_completed_status_without_a_sound_result_is_damage(coll: Path, ident: str) -> None:
    with pytest.raises(DamagedResource):
        completed_resource(str(coll), "coll", ident)
    assert load_resource(coll, "coll", ident, strict=False).problem != ""


def test_read_current_status_agrees_with_load_resource(coll: Path) -> None:
    (coll / "linked").symlink_to(coll / "done")
    for ident in ("done", "legacy", "failed", "garbled", "never-run", "linked"):
        expected = load_resource(coll, "coll", ident, strict=False).status
        assert read_current_status(coll / ident) == expected, ident
    assert read_current_status(coll / "garbled") == "error"
    assert read_current_status(coll / "linked") == "error"


def test_a_pending_resource_nobody_computes_reads_interrupted(proj: Project) -> None:
    @proj.resource("items")
    def compute(ident: str, args: object, ctx: object) -> int:
        return 1

    res = proj.fetch("items", "a")
    (Path(res.directory) / "status").write_text("pending")  # as a killed worker leaves it
    assert read_current_status(Path(res.directory)) == "interrupted"
    assert completed_resource(str(proj.base / "items"), "items", "a") is None
