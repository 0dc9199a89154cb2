"""``hadrosaur recompute --jobs N``: worker processes, idents from a file or stdin, JSON lines.

Real child processes on real bases: a script's function (module ``__main__``,
loaded by every worker under its private name) and an importable one held
pending by gate files, so that N resources computing at once is seen on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hadrosaur import COMPLETED, ERROR, INTERRUPTED, PENDING, Project
from hadrosaur.runner import recompute

from .helpers import REPO, wait_for
from .pipelines import die
from .test_runner import SCRIPT, _env
from .tui.retry_functions import gated

LS_KEYS = ["ident", "status", "start_time", "end_time", "duration_ms", "reason"]


def _recompute(
    base: Path, *args: str, stdin: str = "", cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hadrosaur", "recompute", str(base), *args],
        input=stdin,
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _script_base(tmp_path: Path, idents: list[str]) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "pipeline_script.py").write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, "pipeline_script.py", *idents], cwd=work, env=_env(), timeout=120
    )
    assert done.returncode == 0
    return work


def test_jobs_recompute_a_script_function_in_workers_from_stdin(tmp_path: Path) -> None:
    idents = ["a", "bb", "ccc", "dddd", "with space "]
    work = _script_base(tmp_path, idents)
    base = work / "base"
    stdin = "a\r\n\nbb\nccc\ndddd\nwith space \n"  # CRLF, an empty line, a trailing space
    failed = _recompute(
        base, "items", "--idents-from", "-", "--jobs", "2", stdin=stdin, cwd=tmp_path
    )
    assert failed.returncode == 1, failed.stderr  # still failing: not fixed yet
    assert failed.stdout.splitlines()[-1] == "recomputed 5: 5 error"
    (work / "fixed").touch()
    done = _recompute(
        base,
        "items",
        "--idents-from",
        "-",
        "--jobs",
        "2",
        "--jsonl",
        "--log-output",
        stdin=stdin,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]  # nothing but JSON lines
    assert sorted(line["ident"] for line in lines) == sorted(idents)
    assert all(list(line) == LS_KEYS and line["status"] == COMPLETED for line in lines)
    proj = Project(base, create=False)
    for ident in idents:
        res = proj.load("items", ident)
        assert (res.attempt, res.result) == (3, {"ident": ident, "args": {"n": len(ident)}})
        assert f"print {ident}" in proj.fetch_log("items", ident)  # from the worker, to its log
    assert (work / "marker").read_text() == "pipeline ran\n"  # the main block never ran again
    assert len({proj.load("items", i).pid for i in idents}) == 2  # two workers, neither the CLI


def test_jobs_compute_that_many_resources_at_once(tmp_path: Path) -> None:
    proj = Project(tmp_path / "base")
    proj.resource("g")(gated)
    args = {"fixed": str(tmp_path / "fixed"), "gates": str(tmp_path / "gates")}
    idents = ["gate1", "gate2", "gate3"]
    for ident in idents:
        assert proj.fetch("g", ident, args).status == ERROR
    (tmp_path / "fixed").touch()
    (tmp_path / "gates").mkdir()
    listed = tmp_path / "idents.txt"
    listed.write_text("\n".join(idents) + "\n")
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hadrosaur",
            "recompute",
            str(proj.base),
            "g",
            "--idents-from",
            str(listed),
            "--jobs",
            "3",
            "--jsonl",
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    with child:
        # All three wait for their gate at the same time: three workers.
        wait_for(lambda: all(proj.status("g", i) == PENDING for i in idents), timeout=60)
        for ident in idents:
            (tmp_path / "gates" / ident).touch()
        out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    assert sorted(json.loads(line)["ident"] for line in out.splitlines()) == idents


def test_a_missing_idents_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proj = Project(tmp_path / "base")
    proj.resource("g")(gated)
    missing = tmp_path / "nope.txt"
    done = _recompute(proj.base, "g", "--idents-from", str(missing), cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and str(missing) in done.stderr


def test_the_api_reports_each_resource_as_it_ends_in_parallel(tmp_path: Path) -> None:
    work = _script_base(tmp_path, ["a", "bb"])
    (work / "fixed").touch()
    seen: list[str] = []
    results = recompute(
        work / "base", "items", ["bb", "a", "bb"], jobs=2, on_result=lambda r: seen.append(r.ident)
    )
    assert [r.ident for r in results] == ["bb", "a", "bb"]  # input order; bb computed once
    assert sorted(seen) == ["a", "bb"]
    assert all(r.status == COMPLETED and r.attempt == 2 for r in results)


def test_each_resource_is_reported_alone_not_held_behind_a_slow_one(tmp_path: Path) -> None:
    """One resource per task: those queued after a slow one in its chunk would wait for it."""
    proj = Project(tmp_path / "base")
    proj.resource("g")(gated)
    args = {"fixed": str(tmp_path / "fixed"), "gates": str(tmp_path / "gates")}
    idents = ["gate1", *(f"q{n:03d}" for n in range(200))]
    for ident in idents:
        proj.fetch("g", ident, args)
    (tmp_path / "fixed").touch()
    (tmp_path / "gates").mkdir()
    seen: list[str] = []
    thread = threading.Thread(
        target=recompute,
        args=(proj.base, "g", idents),
        kwargs={"jobs": 2, "on_result": lambda res: seen.append(res.ident)},
    )
    thread.start()
    try:
        # gate1 holds one worker; the other computes and reports all 200 meanwhile.
        wait_for(lambda: len(seen) == 200, timeout=120)
        assert proj.status("g", "gate1") == PENDING and "gate1" not in seen
    finally:
        (tmp_path / "gates" / "gate1").touch()
        thread.join(timeout=120)
    assert seen[-1] == "gate1" and proj.status("g", "gate1") == COMPLETED


def test_a_function_interrupting_itself_in_a_worker_exits_1(tmp_path: Path) -> None:
    proj = Project(tmp_path / "base")
    proj.resource("d")(die)
    proj.fetch("d", "fine")
    with pytest.raises(KeyboardInterrupt):
        proj.fetch("d", "kbint-1")  # left interrupted, as Ctrl-C leaves it
    done = _recompute(proj.base, "d", "fine", "kbint-1", "--jobs", "2", "--jsonl", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    statuses = {line["ident"]: line["status"] for line in map(json.loads, done.stdout.splitlines())}
    assert statuses == {"fine": COMPLETED, "kbint-1": INTERRUPTED}
