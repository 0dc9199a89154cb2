"""Recompute from a recorded function reference, in a fresh process and in this one.

The pipelines are real script files run as ``python script.py``, so the
reference in ``.collection.json`` is what a user's would be: module
``__main__``, the script's path, its directory and working directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hadrosaur import Project
from hadrosaur.cli import main
from hadrosaur.runner import recompute

from .helpers import REPO

#: A script whose pipeline is behind the main guard, as the README asks.
#: Its function reads "fixed" relative to the working directory, so a
#: recompute only succeeds if it runs in the recorded one.
SCRIPT = """
import os, signal, subprocess, sys
from hadrosaur import Project

proj = Project("base")


@proj.resource("items")
def compute(ident, args, ctx):
    ctx.logger.info("computing %s", ident)
    print(f"print {ident}")
    print(f"stderr {ident}", file=sys.stderr)
    os.write(1, f"fd {ident}\\n".encode())
    subprocess.run([sys.executable, "-c", f"print('child {ident}')"], check=True)
    if not os.path.exists("fixed"):
        if ident.startswith("kill"):
            os.kill(os.getpid(), signal.SIGKILL)  # leaves it interrupted
        raise ValueError(f"not fixed yet: {ident}")
    return {"ident": ident, "args": args}


if __name__ == "__main__":
    with open("marker", "a") as f:
        f.write("pipeline ran\\n")
    for ident in sys.argv[1:]:
        proj.fetch("items", ident, {"n": len(ident)})
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A project directory with the script, run once: "a" and "bb" end in error."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "pipeline_script.py").write_text(SCRIPT)
    done = _run(["pipeline_script.py", "a", "bb"], cwd=work)
    assert done.returncode == 0, done.stderr
    return work


def _collection_file(work: Path) -> bytes:
    return (work / "base" / "items" / ".collection.json").read_bytes()


def test_script_function_is_recomputed_without_running_its_main_block(
    tmp_path: Path, work: Path
) -> None:
    recorded = _collection_file(work)
    assert json.loads(recorded)["function"]["module"] == "__main__"
    (work / "fixed").touch()
    # From another directory: the recorded working directory is used.
    done = _run(["-m", "hadrosaur", "recompute", str(work / "base"), "items", "a"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2].split()[:2] == ["a", "completed"]
    assert done.stdout.splitlines()[-1] == "recomputed 1: 1 completed"
    assert (work / "marker").read_text() == "pipeline ran\n"  # not run again
    assert _collection_file(work) == recorded
    res = Project(work / "base", create=False).load("items", "a")
    assert res.result == {"ident": "a", "args": {"n": 1}}  # args from meta.json
    assert res.attempt == 2
    assert "print a" in done.stdout  # without --log-output, output stays here


def test_log_output_goes_to_the_resource_log(tmp_path: Path, work: Path) -> None:
    base = str(work / "base")
    done = _run(["-m", "hadrosaur", "recompute", base, "items", "bb", "--log-output"], cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "bb" not in done.stderr and "print bb" not in done.stdout
    log = Project(base, create=False).fetch_log("items", "bb")
    for line in ("computing bb", "print bb", "stderr bb", "fd bb", "child bb"):
        assert line in log
    assert log.index("computing bb") < log.index("print bb")


def test_still_failing_resources_exit_1_with_their_reason(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cwd, path = os.getcwd(), list(sys.path)
    assert main(["recompute", str(work / "base"), "items", "--status", "error"]) == 1
    out = capsys.readouterr().out
    assert "a   error" in out and "ValueError: not fixed yet: a" in out
    assert "bb  error" in out and out.splitlines()[-1] == "recomputed 2: 2 error"
    assert os.getcwd() == cwd and sys.path == path  # restored after the recompute


def test_status_selects_interrupted_resources(tmp_path: Path, work: Path) -> None:
    killed = _run(["pipeline_script.py", "kill1"], cwd=work)
    assert killed.returncode == -9
    base = work / "base"
    assert Project(base, create=False).status("items", "kill1") == "interrupted"
    (work / "fixed").touch()
    done = _run(
        ["-m", "hadrosaur", "recompute", str(base), "items", "--status", "interrupted"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "recomputed 1: 1 completed"
    assert Project(base, create=False).fetch_by_status("items", "error") == ["a", "bb"]


def test_a_moved_script_is_a_clear_error_that_suggests_app(
    tmp_path: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "pipeline_script.py").rename(tmp_path / "moved_script.py")
    assert main(["recompute", str(work / "base"), "items", "a"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert str(work / "pipeline_script.py") in err and "no longer exists" in err
    assert "--app module:project" in err


def test_app_loads_the_function_from_a_named_project(
    tmp_path: Path, work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    moved = tmp_path / "moved_script.py"
    (work / "pipeline_script.py").rename(moved)
    recorded = _collection_file(work)
    (work / "fixed").touch()
    monkeypatch.chdir(work)  # the function reads "fixed" from here
    assert main(["recompute", "base", "items", "a", "--app", f"{moved}:proj"]) == 0
    assert "a  completed" in capsys.readouterr().out
    assert _collection_file(work) == recorded
    assert (work / "marker").read_text() == "pipeline ran\n"
    # module:project form, imported from the working directory.
    (work / "runner_app_module.py").write_text(SCRIPT)
    assert main(["recompute", "base", "items", "bb", "--app", "runner_app_module:proj"]) == 0
    assert main(["recompute", "base", "items", "bb", "--app", "runner_app_module:nothing"]) == 2
    assert "has no nothing" in capsys.readouterr().err
    assert main(["recompute", "base", "items", "bb", "--app", "no_colon"]) == 2
    assert "module:project" in capsys.readouterr().err


def test_an_imported_module_is_found_again_without_pythonpath(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    (lib / "mypipe").mkdir(parents=True)
    (lib / "mypipe" / "__init__.py").write_text("")
    (lib / "mypipe" / "stages.py").write_text(
        textwrap.dedent(f"""
        from hadrosaur import Project
        proj = Project({str(tmp_path / "base")!r})

        @proj.resource("stages")
        def stage(ident, args, ctx):
            return args["x"] * 2
        """)
    )
    env = {**_env(), "PYTHONPATH": os.pathsep.join([str(lib), str(REPO)])}
    code = "from mypipe.stages import proj; proj.fetch('stages', 's1', {'x': 21})"
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True, timeout=60)
    recorded = (tmp_path / "base" / "stages" / ".collection.json").read_bytes()
    assert json.loads(recorded)["function"]["module"] == "mypipe.stages"
    done = _run(["-m", "hadrosaur", "recompute", str(tmp_path / "base"), "stages", "s1"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert Project(tmp_path / "base").load("stages", "s1").result == 42
    assert (tmp_path / "base" / "stages" / ".collection.json").read_bytes() == recorded


def test_a_nested_function_is_a_clear_error(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proj = Project(base)

    @proj.resource("nested")
    def nested(ident: str, args: object, ctx: object) -> int:
        return 1

    proj.fetch("nested", "x")
    assert main(["recompute", str(base), "nested", "x"]) == 2
    err = capsys.readouterr().err
    assert "defined inside another function" in err and "--app" in err
    assert "Traceback" not in err


def test_a_module_that_is_gone_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    coll = tmp_path / "base" / "gone"
    (coll / ".updates").mkdir(parents=True)
    (coll / "r").mkdir()
    reference = {"module": "no_such_module_here", "qualname": "f", "file": None}
    (coll / ".collection.json").write_text(json.dumps({"name": "gone", "function": reference}))
    assert main(["recompute", str(tmp_path / "base"), "gone", "r"]) == 2
    err = capsys.readouterr().err
    assert "cannot import no_such_module_here" in err and "--app" in err


def test_recompute_api_reports_each_resource(work: Path) -> None:
    (work / "fixed").touch()
    seen: list[str] = []
    results = recompute(
        work / "base", "items", ["a", "bb"], on_result=lambda r: seen.append(r.ident)
    )
    assert [r.status for r in results] == ["completed", "completed"]
    assert seen == ["a", "bb"]
    # Recording is back on after the runner: a new definition is recorded.
    proj = Project(work / "base")
    proj.resource("later")(_top_level)
    assert (work / "base" / "later" / ".collection.json").exists()


def _top_level(ident: str, args: object, ctx: object) -> int:
    return 0
