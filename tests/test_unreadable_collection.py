"""F5: a collection another user keeps to himself (mode 700) never hides the others.

Real permissions: the base is made by root, one collection is then kept
unreadable, and every command runs as uid 65534 (``nobody``) in a child
process. Skipped where this process cannot change its uid.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from hadrosaur import Project

from .helpers import REPO, child_env

NOBODY = 65534

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to run a child as nobody"
)


@pytest.fixture
def shared_base() -> Iterator[Path]:
    """BASE with collections ``mine`` (nobody's) and ``theirs`` (root's, mode 700).

    Made under /tmp, not tmp_path: pytest's directories are root's alone, and
    nobody must reach the base.
    """
    top = Path(tempfile.mkdtemp(prefix="hadrosaur-f5-"))
    try:
        base = top / "base"
        proj = Project(base)

        @proj.resource("mine")
        def mine(ident: str, args: object, ctx: object) -> int:
            return 1

        @proj.resource("theirs")
        def theirs(ident: str, args: object, ctx: object) -> int:
            return 1

        proj.fetch("mine", "x")
        proj.fetch("theirs", "y")
        proj.stats()
        for path in [top, *top.rglob("*")]:
            if not path.is_relative_to(base / "theirs"):
                os.chown(path, NOBODY, NOBODY)
        (base / "theirs").chmod(0o700)
        yield base
    finally:
        shutil.rmtree(top)


def _as_nobody(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run Python as nobody with setpriv (no supplementary groups, no capabilities)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    as_nobody = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    probe = subprocess.run([*as_nobody, sys.executable, "-c", ""], capture_output=True)
    if probe.returncode != 0:  # a container without CAP_SETUID, an interpreter nobody cannot run
        pytest.skip(f"cannot run Python as nobody: {probe.stderr!r}")
    return subprocess.run(
        [*as_nobody, sys.executable, *argv],
        env=child_env(REPO) if env is None else env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["stats", "reindex"])
def test_overviews_skip_the_unreadable_collection(shared_base: Path, command: str) -> None:
    done = _as_nobody("-m", "hadrosaur", command, str(shared_base))
    assert done.returncode == 0, done.stderr
    assert "mine" in done.stdout and "theirs" not in done.stdout
    assert "skipped 'theirs'" in done.stderr and "permission denied" in done.stderr
    assert "Errno" not in done.stderr


def test_the_library_lists_it_as_skipped(shared_base: Path) -> None:
    code = f"""
        from hadrosaur import Project
        p = Project({str(shared_base)!r}, create=False)
        print(p.collections())
        print([(s.name, s.reason) for s in p.skipped_directories()])
    """
    done = _as_nobody("-c", textwrap.dedent(code))
    assert done.returncode == 0, done.stderr
    collections, skipped = done.stdout.splitlines()
    assert collections == "['mine']"
    assert "'theirs', 'permission denied: this user (nobody, uid 65534)" in skipped


@pytest.mark.parametrize("command", [["stats"], ["ls"], ["show", "y"]])
def test_naming_it_says_it_cannot_be_read(shared_base: Path, command: list[str]) -> None:
    done = _as_nobody("-m", "hadrosaur", command[0], str(shared_base), "theirs", *command[1:])
    assert done.returncode == 2
    assert done.stderr.startswith("hadrosaur: error: cannot read the collection ")
    assert "permission denied for this user (nobody, uid 65534)" in done.stderr
    assert "ask its owner" in done.stderr and "Errno" not in done.stderr


def test_completion_offers_the_readable_collections(shared_base: Path) -> None:
    out = shared_base.parent / "out"
    out.touch()
    os.chown(out, NOBODY, NOBODY)
    line = f"hadrosaur ls {shared_base}/ "
    env = {
        **child_env(REPO),
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_IFS": "\013",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
    }
    done = _as_nobody("-m", "hadrosaur", env=env)
    assert done.returncode == 0, done.stderr
    assert out.read_text().split("\013") == ["mine "]


def test_the_monitor_reads_the_others_and_notes_it(shared_base: Path) -> None:
    code = f"""
        from pathlib import Path
        from hadrosaur_tui.messages import BaseState, SummaryUpdated
        from hadrosaur_tui.reader import CollectionReader
        posted = []
        CollectionReader(Path({str(shared_base)!r}), posted.append).run_pass()
        for m in posted:
            if isinstance(m, BaseState):
                print("base", m.collections, m.skipped)
            elif isinstance(m, SummaryUpdated):
                print("summary", m.name)
            else:
                print("other", m)
    """
    done = _as_nobody("-c", textwrap.dedent(code))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "base ('mine',) (\"'theirs' (permission denied)\",)",
        "summary mine",
    ]
