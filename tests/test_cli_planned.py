"""F9: a planned ident that never started exists for show, log and error, as ls lists it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project

from .test_cli import run


def _compute(ident: str, args: Any, ctx: Any) -> Any:
    return ident


@pytest.fixture
def planned(base: Path) -> Path:
    proj = Project(base)
    proj.resource("c")(_compute)
    proj.fetch("c", "done")
    proj.plan("c", ["planned"])
    return base


def test_ls_and_show_agree(planned: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ls", planned, "c", "--status", "unavailable", "--jsonl")
    assert code == 0 and json.loads(out)["ident"] == "planned"
    code, out, err = run(capsys, "show", planned, "c", "planned")
    assert (code, err) == (0, "")
    assert "  status    unavailable: planned, never started" in out.splitlines()
    code, out, _ = run(capsys, "show", planned, "c", "planned", "--json")
    assert code == 0 and json.loads(out)["status"] == "unavailable"


@pytest.mark.parametrize(
    ("command", "note"), [("log", "has no log"), ("error", "has no error (it is unavailable)")]
)
def test_log_and_error_say_there_is_none(
    planned: Path, capsys: pytest.CaptureFixture[str], command: str, note: str
) -> None:
    code, out, err = run(capsys, command, planned, "c", "planned")
    assert (code, out) == (0, "")
    assert err == f"c/planned {note}\n"


def test_an_ident_neither_planned_nor_started_is_still_unknown(
    planned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "show", planned, "c", "nope")
    assert code == 2 and "no resource 'nope'" in err
