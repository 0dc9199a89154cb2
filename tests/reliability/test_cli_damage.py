"""The command line shows damaged resources as damaged, and never with a traceback.

Every command runs in this process through ``hadrosaur.cli.main`` (a
subprocess per call would cost a second each), over one collection holding a
resource damaged in each way a crash, a disk or a person can damage one.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hadrosaur.cli") is None, reason="no hadrosaur.cli yet"
)


def _compute(ident: str, args: Any, ctx: Any) -> Any:
    ctx.logger.info("computing %s", ident)
    if ident.startswith("fail"):
        raise ValueError(f"failing on purpose: {ident}")
    return {"ident": ident}


DAMAGE: dict[str, dict[str, bytes | str | None]] = {
    "ok-torn-status": {"status": b"compl"},
    "ok-garbage-status": {"status": b"\x00\xff garbage"},
    "ok-status-directory": {"status": "dir"},
    "ok-garbage-result": {"result.json": b'{"ident": '},
    "ok-missing-result": {"result.json": None},
    "ok-result-directory": {"result.json": "dir"},
    "ok-garbage-meta": {"meta.json": b"\xff not json"},
    "ok-meta-directory": {"meta.json": "dir"},
    "ok-deep-meta": {"meta.json": b"[" * 100_000},
    "fail-missing-error": {"error.log": None},
    "fail-error-directory": {"error.log": "dir"},
    "ok-log-directory": {"run.log": "dir"},
    "ok-pending-no-meta": {"status": b"pending", "meta.json": None},
}


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cli") / "base"
    proj = Project(base)
    proj.resource("c")(_compute)
    for ident in [*DAMAGE, "ok-sound", "fail-sound"]:
        proj.fetch("c", ident)
    proj.stats("c")
    for ident, files in DAMAGE.items():
        for name, value in files.items():
            path = base / "c" / ident / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            if value == "dir":
                (path / "inner").mkdir(parents=True)
            elif isinstance(value, bytes):
                path.write_bytes(value)
        (base / "c" / ".updates" / ident).touch()  # as a writer would
    return base


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from hadrosaur.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, f"{argv}: a traceback:\n{err}"
    return code, out, err


def test_stats_and_ls_list_every_damaged_resource(
    damaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "stats", str(damaged), "--json")
    assert code == 0
    assert "counts" in json.loads(out)["c"]
    code, out, _ = _run(capsys, "ls", str(damaged), "c", "--json")
    assert code == 0
    listed = json.loads(out)
    text = json.dumps(listed)
    for ident in DAMAGE:
        assert ident in text, f"ls lost {ident}"
    code, out, _ = _run(capsys, "ls", str(damaged), "c")
    assert code == 0 and all(ident in out for ident in DAMAGE)


@pytest.mark.parametrize("ident", sorted(DAMAGE))
@pytest.mark.parametrize("command", ["show", "log", "error"])
def test_show_log_and_error_of_a_damaged_resource_answer_cleanly(
    damaged: Path, capsys: pytest.CaptureFixture[str], command: str, ident: str
) -> None:
    code, out, err = _run(capsys, command, str(damaged), "c", ident)
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        assert err.startswith("hadrosaur: error:") and ("damaged" in err or ident in err), err
    if command == "show" and code == 0:
        assert ident in out
