"""recompute(): the monitor's recompute subprocesses, on a real base, in chunks."""

from __future__ import annotations

import pytest

from hadrosaur import COMPLETED, ERROR, Project
from hadrosaur_tui import recompute as recompute_module
from hadrosaur_tui.recompute import recompute


def test_a_recompute_runs_the_recorded_function_again(computed: Project) -> None:
    finished = recompute(computed.base, "c", ("a",))
    assert (finished.collection, finished.idents, finished.returncode) == ("c", ("a",), 0)
    assert finished.summary == "recomputed 1: 1 completed"
    again = computed.load("c", "a")
    assert (again.status, again.attempt) == (COMPLETED, 2)


def test_chunks_report_the_worst_exit_code_and_the_last_line(
    computed: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recompute_module, "RECOMPUTE_CHUNK", 1)  # one subprocess per ident
    finished = recompute(computed.base, "c", ("a", "fail-b"))
    assert finished.returncode != 0  # the second chunk failed; the first did not
    assert finished.summary == "recomputed 1: 1 error"  # the last chunk's line
    assert [computed.load("c", i).attempt for i in ("a", "fail-b")] == [2, 2]
    assert computed.status("c", "fail-b") == ERROR
