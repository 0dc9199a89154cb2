"""A base written by hadrosaur 0.4.1 opens and reads: stats, statuses, logs, errors, results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hadrosaur import Project
from hadrosaur._index.kv import plyvel  # the LevelDB binding installed for this Python


def write_legacy_resource(coll: Path, ident: str, status: str, **files: str) -> None:
    """One resource exactly as 0.4.1 wrote it: plain files, times in ms, storage/ dir."""
    res = coll / ident
    (res / "storage").mkdir(parents=True)
    (res / "status").write_text(status)
    (res / "start_time").write_text(files.pop("start", "1580948135917"))
    (res / "end_time").write_text(files.pop("end", "1580948135919"))
    for name in ("result.json", "error.log", "run.log"):
        (res / name).write_text(files.get(name.split(".")[0], ""))


@pytest.fixture
def legacy_base(tmp_path: Path) -> Path:
    base = tmp_path / "legacy"
    coll = base / "genomes"
    (coll / ".updates").mkdir(parents=True)
    write_legacy_resource(
        coll,
        "GCF_1",
        "complete",
        result=json.dumps({"n": 1}),
        run="2020-02-05 16:15:35 INFO     output here (test_general.py:25)\n",
    )
    write_legacy_resource(
        coll,
        "GCF_2",
        "error",
        error="Traceback (most recent call last):\nRuntimeError: This is an error!\n",
    )
    write_legacy_resource(coll, "GCF_3", "pending", end="")
    # 0.4.1's own LevelDB index, with a stale entry: the files are the truth.
    db = plyvel.DB(str(coll / ".status"), create_if_missing=True)
    db.put(b"GCF_1", b"complete")
    db.put(b"GCF_2", b"pending")
    db.close()
    (coll / ".updates" / "GCF_2").touch()  # 0.4.1 left a queued update behind
    return base


def test_legacy_stats_and_statuses(legacy_base: Path) -> None:
    proj = Project(legacy_base, create=False)
    assert proj.collections() == ["genomes"]
    assert proj.stats("genomes")["counts"] == {
        "total": 3,
        "completed": 1,
        "pending": 0,
        "interrupted": 1,  # pending, and no process holds it: 0.4.1 died mid-run
        "error": 1,
        "unavailable": 0,
    }
    assert proj.status("genomes", "GCF_1") == "completed"
    assert proj.fetch_by_status("genomes", "complete") == ["GCF_1"]
    assert proj.fetch_by_status("genomes", "error") == ["GCF_2"]


def test_legacy_results_logs_errors_and_times(legacy_base: Path) -> None:
    proj = Project(legacy_base, create=False)
    res = proj.load("genomes", "GCF_1")
    assert res.status == "completed" and res.result == {"n": 1}
    assert (res.start_time, res.end_time, res.duration_ms) == (1580948135917, 1580948135919, 2)
    assert "output here" in proj.fetch_log("genomes", "GCF_1")
    assert "This is an error!" in proj.fetch_error("genomes", "GCF_2")
    entry = proj.entries("genomes")[1]
    assert (entry.ident, entry.reason) == ("GCF_2", "RuntimeError: This is an error!")


def test_legacy_data_is_left_as_it_was(legacy_base: Path) -> None:
    coll = legacy_base / "genomes"
    before = {p: p.read_bytes() for p in coll.glob("GCF_*/*") if p.is_file()}
    Project(legacy_base, create=False).stats()
    assert {p: p.read_bytes() for p in coll.glob("GCF_*/*") if p.is_file()} == before
    db = plyvel.DB(str(coll / ".status"))
    assert dict(db) == {b"GCF_1": b"complete", b"GCF_2": b"pending"}
    db.close()
