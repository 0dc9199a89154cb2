"""Shell completion at TAB time, through a real process as the shell runs it (argcomplete).

The shell sets ``_ARGCOMPLETE``, ``COMP_LINE`` and ``COMP_POINT`` and reads the
answer from fd 8, or from ``_ARGCOMPLETE_STDOUT_FILENAME`` as here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project
from hadrosaur.cli import BASE_ENV
from hadrosaur.cli._completion import MAX_IDENTS

from .helpers import REPO


def _compute(ident: str, args: Any, ctx: Any) -> Any:
    return ident


@pytest.fixture
def completable(base: Path) -> Path:
    """Collections genomes (GCF_0001, GCF_0002, GCA_9), gnats and other (empty)."""
    proj = Project(base)
    for name in ("genomes", "gnats", "other"):
        proj.resource(name)(_compute)
    for ident in ("GCF_0001", "GCF_0002", "GCA_9"):
        proj.fetch("genomes", ident)
    proj.stats()  # a reader makes the indexes; a TAB only peeks at them
    return base


def complete(
    line: str,
    tmp_path: Path,
    *,
    module: str = "hadrosaur",
    shell: str = "bash",
    env: dict[str, str] | None = None,
) -> list[str]:
    """What the shell would offer for the end of ``line``."""
    answer = tmp_path / "completions"
    answer.unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if k != BASE_ENV}
    done = subprocess.run(
        [sys.executable, "-m", module],
        env={
            **environment,
            "PYTHONPATH": str(REPO),
            "_ARGCOMPLETE": "1",
            "_ARGCOMPLETE_SHELL": shell,
            "_ARGCOMPLETE_IFS": "\n",
            "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            **(env or {}),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    text = answer.read_text()
    # A single match ends with the space the shell would type after it.
    return [item.rstrip(" ") for item in text.split("\n")] if text else []


def test_collection_names_come_from_the_base(completable: Path, tmp_path: Path) -> None:
    assert complete(f"hadrosaur ls {completable} g", tmp_path) == ["genomes", "gnats"]
    assert complete(f"hadrosaur stats {completable} ", tmp_path) == ["genomes", "gnats", "other"]


def test_idents_come_from_the_index(completable: Path, tmp_path: Path) -> None:
    line = f"hadrosaur show {completable} genomes "
    assert complete(line, tmp_path) == ["GCA_9", "GCF_0001", "GCF_0002"]
    assert complete(line + "GCF", tmp_path) == ["GCF_0001", "GCF_0002"]
    assert complete(line + "GCF_0001", tmp_path) == ["GCF_0001"]
    assert complete(f"hadrosaur recompute {completable} genomes GCA_9 GCF_", tmp_path) == [
        "GCF_0001",
        "GCF_0002",
    ]
    assert complete(f"hadrosaur ls {completable} genomes ", tmp_path) == []  # ls takes no IDENT


def test_idents_are_capped(base: Path, tmp_path: Path) -> None:
    proj = Project(base)
    proj.resource("many")(_compute)
    proj.plan("many", [f"r{n:04d}" for n in range(MAX_IDENTS + 50)])
    proj.stats("many")
    offered = complete(f"hadrosaur log {base} many r", tmp_path)
    assert offered == [f"r{n:04d}" for n in range(MAX_IDENTS)]


def test_base_from_the_environment(completable: Path, tmp_path: Path) -> None:
    env = {BASE_ENV: str(completable)}
    assert complete("hadrosaur ls g", tmp_path, env=env) == ["genomes", "gnats"]
    assert complete("hadrosaur error genomes GCA", tmp_path, env=env) == ["GCA_9"]
    (tmp_path / "elsewhere").mkdir()
    assert complete("hadrosaur ls ./else", tmp_path, env=env) == ["./elsewhere/"]


def test_base_is_completed_as_a_directory(completable: Path, tmp_path: Path) -> None:
    assert complete(f"hadrosaur ls {str(completable)[:-2]}", tmp_path) == [f"{completable}/"]


def test_commands_and_options(tmp_path: Path) -> None:
    assert complete("hadrosaur re", tmp_path) == ["recompute", "reindex"]
    assert "--jsonl" in complete("hadrosaur ls --js", tmp_path)


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_other_shells_get_the_same_names(completable: Path, tmp_path: Path, shell: str) -> None:
    offered = complete(f"hadrosaur ls {completable} g", tmp_path, shell=shell)
    assert [item.split(":")[0].split("\t")[0] for item in offered] == ["genomes", "gnats"]


def test_hadrosaur_tui_completes_its_options_and_base(completable: Path, tmp_path: Path) -> None:
    assert complete("hadrosaur-tui --no", tmp_path, module="hadrosaur_tui") == ["--no-watch"]
    prefix = str(completable)[:-2]
    assert complete(f"hadrosaur-tui {prefix}", tmp_path, module="hadrosaur_tui") == [
        f"{completable}/"
    ]


def _fail(ident: str, args: Any, ctx: Any) -> Any:
    raise ValueError(f"cause {ident[0]}") if ident[0] in "ab" else KeyError(ident[0])


def test_group_signatures_come_from_the_index(base: Path, tmp_path: Path) -> None:
    proj = Project(base)
    proj.resource("jobs")(_fail)
    for ident in ("a-1", "a-2", "b-1", "c-1"):
        proj.fetch("jobs", ident)
    signatures = sorted(g.signature for g in proj.error_groups("jobs"))
    assert len(signatures) == 3
    line = f"hadrosaur ls {base} jobs --group "
    assert complete(line, tmp_path) == signatures
    first = signatures[0]
    assert complete(line + first[:3], tmp_path) == [
        s for s in signatures if s.startswith(first[:3])
    ]
    assert complete(f"hadrosaur recompute {base} jobs --group {first}", tmp_path) == [first]
    assert complete(f"hadrosaur ls {base} nothing --group ", tmp_path) == []


#: Directory names a TAB must never hand the shell: ESC and BEL (an OSC that
#: retitles the terminal), a C1 CSI (U+009B), a bidi override (U+202E), a tab.
HOSTILE_NAMES = ("dir\x1b]0;pwned\x07", "csi\x9b2J", "bidi\u202eX", "tab\there")


@pytest.mark.parametrize(
    ("line", "module"),
    [("hadrosaur stats ", "hadrosaur"), ("hadrosaur-tui ", "hadrosaur_tui")],
)
def test_base_completion_offers_only_safe_directory_names(
    tmp_path: Path, line: str, module: str
) -> None:
    for name in (*HOSTILE_NAMES, "plain", ".hidden"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("a file is no base directory\n")
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"bytes\xff"))
    assert complete(line, tmp_path, module=module) == ["plain/"]
    assert complete(line + ".h", tmp_path, module=module) == [".hidden/"]


def test_hadrosaur_tui_completes_directories_only(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "bare.py").write_text("")
    assert complete("hadrosaur-tui b", tmp_path, module="hadrosaur_tui") == ["base/"]
