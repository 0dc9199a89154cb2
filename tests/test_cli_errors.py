"""``hadrosaur errors``, and ``--group`` on ls and recompute, through main(argv) on real bases."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project
from hadrosaur.cli import main

from .test_cli import _raw_controls, run

#: Set by a test to make every resource succeed on recompute (the cause was fixed).
FIXED = "HADROSAUR_TEST_TRIAGE_FIXED"


def _triage(ident: str, args: Any, ctx: Any) -> Any:
    if os.environ.get(FIXED):
        return ident
    if ident.startswith("key"):
        raise KeyError(f"sample_{ident}")
    if ident.startswith("val"):
        raise ValueError(f"bad row {len(ident) * 3} in {ident}.csv")
    if ident.startswith("esc"):
        raise RuntimeError("\x1b]0;pwned\x07\x1b[31mred\u202e")
    return ident


@pytest.fixture
def triaged(base: Path) -> Path:
    """jobs: key-1..key-3 (KeyError), val-1, val-22 (ValueError), esc-1 (hostile), ok-1."""
    proj = Project(base)
    proj.resource("jobs")(_triage)
    for ident in ("key-1", "key-2", "key-3", "val-1", "val-22", "esc-1", "ok-1"):
        proj.fetch("jobs", ident)
    return base


def _groups(base: Path) -> list[Any]:
    return Project(base, create=False).error_groups("jobs")


def test_errors_prints_the_groups_largest_first(
    triaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "errors", triaged, "jobs")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == [
        "COUNT",
        "EXCEPTION",
        "MESSAGE",
        "FIRST",
        "SEEN",
        "LAST",
        "SEEN",
        "SIGNATURE",
        "EXAMPLE",
    ]
    assert len(lines) == 4
    assert lines[1].split()[:3] == ["3", "KeyError", "'sample_<ident>'"]
    assert lines[2].split()[:2] == ["2", "ValueError"]
    assert "bad row <n> in <ident>.csv" in lines[2]
    key = _groups(triaged)[0]
    assert key.signature in lines[1] and lines[1].rstrip().endswith("key-1")


def test_errors_json_has_exactly_the_documented_keys(
    triaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "errors", triaged, "jobs", "--json")
    assert code == 0
    groups = json.loads(out)
    assert [set(g) for g in groups] == [
        {"signature", "exception", "message", "count", "examples", "first_seen", "last_seen"}
    ] * 3
    expected = _groups(triaged)
    assert [(g["signature"], g["count"]) for g in groups] == [
        (g.signature, g.count) for g in expected
    ]
    assert groups[0]["examples"] == ["key-1", "key-2", "key-3"]
    assert groups[0]["first_seen"] == expected[0].first_seen
    assert groups[0]["last_seen"] == expected[0].last_seen
    assert isinstance(groups[0]["first_seen"], int)


def test_no_errors_is_a_note_on_stderr(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proj = Project(base)
    proj.resource("jobs")(_triage)
    proj.fetch("jobs", "ok-1")
    assert run(capsys, "errors", base, "jobs") == (0, "", "no errors in jobs\n")
    assert run(capsys, "errors", base, "jobs", "--json") == (0, "[]\n", "")


def test_hostile_messages_never_reach_a_terminal_raw(
    triaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "errors", triaged, "jobs", "--visible")
    assert code == 0 and _raw_controls(out) == []
    # Every control, C1 and bidi character is a space in the index: nothing left to show.
    assert "]<n>;pwned  [<n>mred" in out and "<U+202E>" not in out
    code, out, _ = run(capsys, "errors", triaged, "jobs", "--json")
    assert _raw_controls(out) == [] and "\\u202e" not in out and "pwned" in out


def test_ls_group_lists_the_members_of_one_cause(
    triaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = _groups(triaged)[0].signature
    code, out, _ = run(capsys, "ls", triaged, "jobs", "--group", key, "--json")
    assert code == 0
    assert sorted(e["ident"] for e in json.loads(out)) == ["key-1", "key-2", "key-3"]
    code, out, _ = run(capsys, "ls", triaged, "jobs", "--group", key[:4], "--status", "error")
    assert code == 0 and len(out.splitlines()) == 4  # a header and three rows
    assert all("KeyError" in line for line in out.splitlines()[1:])


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ("abc", "at least 4"),
        ("XYZW", "at least 4"),
        ("{missing}", "no error of the collection has it now"),
    ],
)
def test_a_group_that_names_no_single_group_is_bad_input(
    triaged: Path, capsys: pytest.CaptureFixture[str], group: str, message: str
) -> None:
    sigs = {g.signature for g in _groups(triaged)}
    missing = next(s for s in ("0000000000", "ffffffffff", "1234512345") if s not in sigs)
    for command in ("ls", "recompute"):
        code, out, err = run(
            capsys, command, triaged, "jobs", "--group", group.format(missing=missing)
        )
        assert (code, out) == (2, "")
        assert err.startswith("hadrosaur: error: ") and err.count("\n") == 1
        assert message in err and "hadrosaur errors BASE jobs" in err


def test_ls_group_with_another_status_is_refused(
    triaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = _groups(triaged)[0].signature
    with pytest.raises(SystemExit) as caught:
        main(["ls", str(triaged), "jobs", "--group", key, "--status", "completed"])
    assert caught.value.code == 2
    assert "leave out --status or use --status error" in capsys.readouterr().err


def test_recompute_group_recomputes_that_cause_only(
    triaged: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, value = (g.signature for g in _groups(triaged)[:2])
    monkeypatch.setenv(FIXED, "1")
    code, out, _ = run(capsys, "recompute", triaged, "jobs", "--group", key[:6])
    assert code == 0
    assert out.splitlines()[-1] == "recomputed 3: 3 completed"
    groups = _groups(triaged)
    assert key not in {g.signature for g in groups}
    assert [g.count for g in groups] == [2, 1]
    code, out, err = run(capsys, "recompute", triaged, "jobs", "--group", value, "--group", key)
    # The key group is gone by now: said plainly, nothing recomputed.
    assert code == 2 and out == "" and "no error of the collection has it now" in err
    code, out, _ = run(capsys, "recompute", triaged, "jobs", "--group", value)
    assert code == 0 and out.splitlines()[-1] == "recomputed 2: 2 completed"
