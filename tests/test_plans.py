"""Plans: the ident sets of fetch_many, kept in COLL/.plans/ and marked for the index."""

from __future__ import annotations

import os
from pathlib import Path

from hadrosaur import _plans


def test_plans_are_idempotent_and_marked_once(tmp_path: Path) -> None:
    first = _plans.write_plan(tmp_path, ["b", "a", "a"])
    assert _plans.write_plan(tmp_path, ["a", "b"]) == first
    assert _plans.read_plan(tmp_path, first) == ["a", "b"]
    assert _plans.plan_ids(tmp_path) == [first]
    assert os.listdir(tmp_path / ".updates") == [f".plan.{first}"]
