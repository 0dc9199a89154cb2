"""Odd directories in a base never stop the overview: skipped with a warning, never a crash.

A directory that looks like a collection (it holds ``.updates/``) but whose
name no call could accept (undecodable bytes, a newline) was not made by
hadrosaur. ``stats``, ``reindex`` and the TUI name it and go on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hadrosaur import Project

from .helpers import REPO, child_env

ODD_NAMES = (b"bad\xff", b"new\nline")


def _odd_base(base: Path) -> Project:
    proj = Project(base)

    @proj.resource("good")
    def compute(ident: str, args: object, ctx: object) -> int:
        return 1

    proj.fetch("good", "a")
    for name in ODD_NAMES:
        os.makedirs(os.path.join(os.fsencode(base), name, b".updates"))
    return proj


def _hadrosaur(tmp_path: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hadrosaur", *map(str, args)],
        env=child_env(tmp_path),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_skipped_directories_are_listed_with_their_reason(base: Path) -> None:
    proj = _odd_base(base)
    assert proj.collections() == ["good"]
    skipped = proj.skipped_directories()
    assert [s.name for s in skipped] == [os.fsdecode(n) for n in ODD_NAMES]
    assert "not valid Unicode" in skipped[0].reason
    assert "control character" in skipped[1].reason
    assert proj.stats() == {"good": {"counts": proj.stats("good")["counts"]}}


@pytest.mark.parametrize("command", ["stats", "reindex"])
def test_cli_overviews_warn_and_go_on(base: Path, tmp_path: Path, command: str) -> None:
    _odd_base(base)
    done = _hadrosaur(tmp_path, command, base)
    assert done.returncode == 0, done.stderr
    assert "good" in done.stdout
    warnings = done.stderr.splitlines()
    assert len(warnings) == 2, done.stderr
    assert all(line.startswith("hadrosaur: warning: skipped ") for line in warnings)
    assert "'new\\nline'" in done.stderr  # quoted: the newline does not split the line


@pytest.mark.asyncio
async def test_the_tui_notes_odd_directories_and_keeps_watching(base: Path) -> None:
    from textual.widgets import DataTable

    from hadrosaur_tui.widgets.status_line import StatusLine

    from .tui.harness import make_app, wait_until

    _odd_base(base)
    # watch=True: the watcher must not be handed the undecodable directory.
    app = make_app(base, watch=True)
    async with app.run_test(size=(160, 30)) as pilot:
        screen = app.collections_screen
        await wait_until(pilot, lambda: "good" in screen.summaries)
        line = screen.query_one(StatusLine)
        await wait_until(pilot, lambda: "skipped 2 directories" in line.note)
        assert "'bad\\udcff'" in line.note and "'new\\nline'" in line.note
        assert [str(k.value) for k in screen.query_one(DataTable).rows] == ["good"]
        assert app.is_running


def test_a_symlinked_collection_is_skipped_with_its_reason(base: Path, tmp_path: Path) -> None:
    proj = _odd_base(base)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".updates").mkdir(parents=True)
    (base / "linked").symlink_to(elsewhere)
    assert proj.collections() == ["good"]
    skipped = {s.name: s.reason for s in proj.skipped_directories()}
    assert "symbolic link" in skipped["linked"]
    done = _hadrosaur(tmp_path, "stats", base)
    assert done.returncode == 0, done.stderr
    assert "skipped 'linked'" in done.stderr and "symbolic link" in done.stderr
