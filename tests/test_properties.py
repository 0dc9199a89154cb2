"""Property: after any sequence of operations, the index's counts equal a directory scan."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hadrosaur import Project

from .helpers import scan_counts

IDENTS = st.sampled_from([f"r{i}" for i in range(8)])


class IndexAgreesWithDirectories(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="hadrosaur-prop-"))
        self.proj = Project(self.tmp / "base", change_log_limit=5)
        self.fail: set[str] = set()
        self.planned: set[str] = set()

        @self.proj.resource("c")
        def compute(ident: str, args: Any, ctx: Any) -> str:
            if ident in self.fail:
                raise RuntimeError(ident)
            return ident

        self.coll = self.tmp / "base" / "c"

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    @rule(ident=IDENTS, fails=st.booleans())
    def fetch(self, ident: str, fails: bool) -> None:
        (self.fail.add if fails else self.fail.discard)(ident)
        self.proj.fetch("c", ident)

    @rule(ident=IDENTS, fails=st.booleans())
    def recompute(self, ident: str, fails: bool) -> None:
        (self.fail.add if fails else self.fail.discard)(ident)
        self.proj.fetch("c", ident, recompute=True)

    @rule(idents=st.lists(IDENTS, max_size=5))
    def plan(self, idents: list[str]) -> None:
        self.proj.plan("c", idents)
        self.planned.update(idents)

    @rule()
    def delete_index(self) -> None:
        shutil.rmtree(self.coll / ".index", ignore_errors=True)

    @rule(ident=IDENTS)
    def remove_resource(self, ident: str) -> None:
        if (self.coll / ident).exists():
            shutil.rmtree(self.coll / ident)
            (self.coll / ".updates" / ident).touch()

    @invariant()
    def counts_equal_a_scan(self) -> None:
        counts = self.proj.stats("c")["counts"]
        scanned = scan_counts(self.coll)
        for status in ("completed", "error", "pending"):
            assert counts[status] == scanned.get(status, 0), (status, counts, scanned)
        on_disk = {p.name for p in self.coll.iterdir() if (p / "status").exists()}
        assert counts["unavailable"] == len(self.planned - on_disk)
        assert counts["total"] == sum(counts[s] for s in counts if s != "total")
        assert self.proj.check("c") == []


IndexAgreesWithDirectories.TestCase.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None
)
test_index_agrees_with_directories = pytest.mark.slow(IndexAgreesWithDirectories.TestCase)
