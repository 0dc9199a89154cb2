"""The fence (hadrosaur/_fence.py): a stale attempt's writes never land after a newer claim.

The cross-host tests freeze a writer in another UTS namespace (see
tests/test_hosts.py) with SIGSTOP in the very window the meta.json check
cannot close: after its last check, before its outcome's first write. A
fetch here takes the resource over; woken with SIGCONT, the writer must
find itself fenced and drop its outcome.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from hadrosaur import Project, _fence

from . import test_hosts
from .helpers import on_host, run_child, unshare_works, wait_for
from .test_hosts import INTERVAL, PIPELINE

#: Started children, stopped and killed at the end (the fixture of test_hosts.py).
children = test_hosts.children

#: A writer that stops itself (SIGSTOP) at one point of its compute: when it begins
#: to record its outcome (after the superseded check of _compute.py, before the
#: first write), or once pending, before it removes the last attempt's files.
FROZEN_WRITER = """
import os, signal, sys
from hadrosaur import _attempt, _compute
from pipeline import proj

def freeze(original):
    def frozen(*args):
        base = os.environ["HADROSAUR_TEST_BASE"]
        open(os.path.join(os.path.dirname(base), "window"), "w").close()
        os.kill(os.getpid(), signal.SIGSTOP)
        return original(*args)
    return frozen

if %(at)r == "clear":
    _compute._clear_previous_attempt = freeze(_compute._clear_previous_attempt)
else:
    _attempt.Attempt.complete = freeze(_attempt.Attempt.complete)
    _attempt.Attempt.fail = freeze(_attempt.Attempt.fail)
res = proj.fetch("items", "x", {"sleep": 0, "fail": %(fail)r}, recompute=True)
print(res.status, res.attempt, res.host)
"""


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0]


@pytest.fixture
def fence_pipeline(tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pipeline = PIPELINE.replace(
        '    time.sleep(args.get("sleep", 0))\n',
        '    time.sleep(args.get("sleep", 0))\n'
        '    if args.get("fail"):\n'
        '        raise ValueError(f"failed on {os.uname().nodename}")\n',
    )
    assert pipeline != PIPELINE
    (tmp_path / "pipeline.py").write_text(pipeline)
    monkeypatch.setenv("HADROSAUR_TEST_BASE", str(base))
    monkeypatch.setenv("HADROSAUR_LEASE_INTERVAL", str(INTERVAL))
    return tmp_path


@pytest.mark.skipif(not unshare_works(), reason="unshare --uts is not permitted here")
@pytest.mark.parametrize(
    ("at", "fail", "before"),
    [("record", False, 1), ("record", True, 1), ("clear", False, 2)],
    ids=["result", "error", "clear"],
)
def test_a_writer_frozen_after_its_last_check_never_writes_over_the_attempt_that_took_over(
    tmp_path: Path,
    base: Path,
    fence_pipeline: Path,
    children: list[subprocess.Popen[str]],
    at: str,
    fail: bool,
    before: int,
) -> None:
    """Frozen where no check helps; taken over; woken: nothing of its attempt lands.

    "clear": frozen once pending, before it removes the last attempt's files,
    which by then are the files of the attempt that took over.
    """
    if at == "clear":  # an attempt before, whose files the writer will remove
        run_child(fence_pipeline, 'from pipeline import proj; proj.fetch("items", "x")')
    writer = on_host("nodeb", fence_pipeline, FROZEN_WRITER % {"fail": fail, "at": at})
    children.append(writer)
    wait_for(lambda: (tmp_path / "window").exists() and _state(writer.pid) == "T")
    res_dir = base / "items" / "x"
    assert (res_dir / "status").read_text() == "pending"
    # What a host that cannot see nodeb's flock would find: no lock held.
    (res_dir / ".lock").unlink()
    out = run_child(
        fence_pipeline,
        """
        from pipeline import proj
        res = proj.fetch("items", "x", {"sleep": 0})
        print(res.status, res.attempt, res.result["host"])
        """,
    )
    here = os.uname().nodename
    assert out.split() == ["completed", str(before + 1), here]
    writer.send_signal(signal.SIGCONT)
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert "another host took this resource over" in err
    assert out.split() == ["completed", str(before + 1), here]
    # The files hold the attempt that took over, whole; nothing of nodeb's landed.
    assert (res_dir / "status").read_text() == "completed"
    assert json.loads((res_dir / "result.json").read_text()) == {"host": here}
    meta = json.loads((res_dir / "meta.json").read_text())
    assert (meta["host"], meta["attempt"]) == (here, before + 1)
    assert not (res_dir / "error.log").exists()
    assert not [n for n in os.listdir(res_dir) if _fence.is_fence_entry(n)]
    assert Project(base).status("items", "x") == "completed"


def test_a_fenced_claim_cannot_publish_or_discard(tmp_path: Path) -> None:
    res_dir = tmp_path / "x"
    res_dir.mkdir()
    (res_dir / "result.json").write_text("1")
    old = _fence.Claim(str(res_dir), 1)
    old.take()
    old.publish("status", b"pending")
    new = _fence.Claim(str(res_dir), 2)
    new.take()
    assert sorted(os.listdir(res_dir)) == [os.path.basename(new.path), "result.json", "status"]
    with pytest.raises(_fence.Fenced):
        old.publish("status", b"completed")
    with pytest.raises(_fence.Fenced):
        old.discard("result.json")
    assert (res_dir / "status").read_text() == "pending"
    assert (res_dir / "result.json").read_text() == "1"
    new.publish("status", b"completed")
    new.release()
    assert sorted(os.listdir(res_dir)) == ["result.json", "status"]


def test_a_claim_of_the_same_number_left_behind_is_fenced(tmp_path: Path) -> None:
    """Frozen before its meta.json named it, an attempt has the number of the one taking over."""
    res_dir = tmp_path / "x"
    res_dir.mkdir()
    stale = _fence.Claim(str(res_dir), 3)
    stale.take()
    again = _fence.Claim(str(res_dir), 3)
    again.take()
    with pytest.raises(_fence.Fenced):
        stale.publish("meta.json", b"{}")
    again.publish("status", b"pending")
    assert sorted(os.listdir(res_dir)) == [os.path.basename(again.path), "status"]


def test_a_fetch_leaves_no_claim_behind(base: Path) -> None:
    proj = Project(base)
    proj.resource("c")(lambda ident, args, ctx: 1)
    proj.fetch("c", "a")
    proj.fetch("c", "a", recompute=True)
    assert sorted(os.listdir(base / "c" / "a")) == [".lock", "meta.json", "result.json", "status"]


def test_a_link_planted_as_a_claim_is_fenced_and_removed_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("mine")
    res_dir = tmp_path / "x"
    res_dir.mkdir()
    (res_dir / ".attempt.1.planted").symlink_to(outside)
    (res_dir / ".fenced.planted").symlink_to(outside)
    (res_dir / ".attempt.2.file").write_text("")
    claim = _fence.Claim(str(res_dir), 3)
    claim.take()
    assert os.listdir(res_dir) == [os.path.basename(claim.path)]
    assert (outside / "keep").read_text() == "mine"
