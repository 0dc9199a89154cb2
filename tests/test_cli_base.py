"""BASE from ``$HADROSAUR_BASE``: left out, given explicitly, and the rule that tells them apart.

The commands run through ``hadrosaur.cli.main`` in this process, on a real
base; the environment variable is set with monkeypatch (the parser reads it
when it is built, at each call).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project
from hadrosaur.cli import BASE_ENV, main

from .test_cli import COMMANDS, run


def _compute(ident: str, args: Any, ctx: Any) -> Any:
    ctx.logger.info("computing %s", ident)
    if ident.startswith("bad"):
        raise ValueError(f"bad input: {ident}")
    return {"ident": ident}


@pytest.fixture
def env_base(base: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$HADROSAUR_BASE names a base with collection items: a completed, bad error."""
    proj = Project(base)
    proj.resource("items")(_compute)
    proj.fetch("items", "a")
    proj.fetch("items", "bad")
    monkeypatch.setenv(BASE_ENV, str(base))
    return base


@pytest.fixture
def other(tmp_path: Path) -> Path:
    """Another base, with collection others: z completed."""
    proj = Project(tmp_path / "other")
    proj.resource("others")(_compute)
    proj.fetch("others", "z")
    return tmp_path / "other"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["stats", "--json"], lambda out: set(json.loads(out)) == {"items"}),
        (["stats", "items", "--json"], lambda out: set(json.loads(out)) == {"items"}),
        (["ls", "items", "--json"], lambda out: len(json.loads(out)) == 2),
        (["show", "items", "a", "--json"], lambda out: json.loads(out)["status"] == "completed"),
        (["error", "items", "bad"], lambda out: "ValueError: bad input: bad" in out),
        (["log", "items", "a"], lambda out: "computing a" in out),
        (["reindex", "--json"], lambda out: set(json.loads(out)) == {"items"}),
        (["reindex", "items", "--json"], lambda out: set(json.loads(out)) == {"items"}),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_every_command_takes_base_from_the_environment(
    env_base: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: Any
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert expected(out), out


def test_recompute_takes_base_from_the_environment(
    env_base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "recompute", "items", "zzz")
    assert code == 2 and "no resource 'zzz' in collection 'items'" in err, err
    assert run(capsys, "recompute", "items", "--status", "interrupted")[0] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["stats", "{other}", "--json"],  # written as a path
        ["stats", "{other}", "others", "--json"],
        ["ls", "{other}", "others", "--json"],
        ["show", "{other}", "others", "z", "--json"],
        ["reindex", "{other}", "--json"],
        ["recompute", "{other}", "others", "--status", "error"],
    ],
    ids=lambda v: v[0],
)
def test_an_explicit_base_wins(
    env_base: Path, other: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *(a.format(other=other) for a in argv))
    assert code == 0, err
    assert "items" not in out


def test_the_number_of_arguments_tells_a_base_that_is_not_written_as_a_path(
    env_base: Path,
    other: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(other.parent)  # "other" alone is then a relative base directory
    code, out, err = run(capsys, "ls", "other", "others", "--json")
    assert code == 0, err
    assert [row["ident"] for row in json.loads(out)] == ["z"]
    code, out, err = run(capsys, "show", "other", "others", "z", "--json")
    assert code == 0 and json.loads(out)["ident"] == "z", err
    # One word that could be a collection name is one: the hint says how to name a base.
    code, out, err = run(capsys, "stats", "other")
    assert code == 2 and out == ""
    assert f"no collection 'other' in {env_base}" in err
    assert f"BASE is ${BASE_ENV}" in err and "./NAME" in err and err.count("\n") == 1
    assert run(capsys, "stats", "./other", "--json")[0] == 0


def test_without_the_environment_base_is_required(
    base: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(BASE_ENV, raising=False)
    with pytest.raises(SystemExit) as stats:
        main(["stats"])
    assert stats.value.code == 2
    assert "required: BASE" in capsys.readouterr().err
    with pytest.raises(SystemExit) as ls:
        main(["ls", "items"])
    assert ls.value.code == 2
    assert "required" in capsys.readouterr().err
    monkeypatch.setenv(BASE_ENV, "")  # empty is unset
    with pytest.raises(SystemExit):
        main(["stats"])


def test_too_many_or_too_few_arguments_with_the_environment(
    env_base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as missing:
        main(["show", "./b", "items"])  # BASE written as a path: IDENT is missing
    assert missing.value.code == 2
    assert "required: IDENT" in capsys.readouterr().err
    with pytest.raises(SystemExit) as extra:
        main(["ls", "b", "items", "more"])
    assert extra.value.code == 2


@pytest.mark.parametrize("command", COMMANDS)
def test_help_says_when_base_may_be_left_out(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert f"BASE may be left out when ${BASE_ENV} is set" in out
    assert "written as a path (it holds a / or starts with .)" in out
