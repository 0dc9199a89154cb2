"""fetch_many on a real Dask cluster: ``dask scheduler`` and ``dask worker`` processes.

Beyond ``LocalCluster`` (tests/test_parallel.py): the scheduler and each
worker are started as users start them, from the ``dask`` command of this
environment, each a process group of its own, and a worker runs in a UTS
namespace with another host name where ``unshare`` is permitted. A worker is
killed with SIGKILL mid-run (its whole group, the nanny with its worker, as
when a node is lost), and every start and end of a compute is appended to one
O_APPEND file, so "each ident completed exactly once" is counted, not assumed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hadrosaur.cli import BASE_ENV

from .helpers import REPO
from .served import app_output, free_port, serving

pytest.importorskip("distributed")

BIN = Path(sys.executable).parent  # the venv's dask, python and hadrosaur
DASK = str(BIN / "dask")

#: The pipeline the workers import: every compute notes its start and end.
PIPELINE = """
import os, socket, time
from hadrosaur import Project

proj = Project(os.environ["HADROSAUR_BASE"])


def note(event, ident):
    fd = os.open(os.environ["CLUSTER_RUNS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{event} {ident} {socket.gethostname()} {os.getpid()}\\n".encode())
    finally:
        os.close(fd)


@proj.resource("genomes")
def annotate(ident, args, ctx):
    note("start", ident)
    time.sleep(args["seconds"])
    note("end", ident)
    return {"host": socket.gethostname()}


def give_up_at_first_death(dask_scheduler):
    # As DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0 would, for this scheduler only.
    dask_scheduler.allowed_failures = 0
"""

#: The user's script: one fetch_many call on the cluster, its outcome as JSON.
DRIVER = """
import json, sys
from dask.distributed import Client
from hadrosaur import WorkerDied
from cluster_pipeline import give_up_at_first_death, proj

scheduler_file, prefix, workers, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with Client(scheduler_file=scheduler_file) as client:
    client.wait_for_workers(workers)
    if mode == "give-up":
        client.run_on_scheduler(give_up_at_first_death)
    idents = [f"{prefix}{n:02d}" for n in range(IDENTS)]
    try:
        got = proj.fetch_many("genomes", idents, {"seconds": 0.3}, executor=client, progress=False)
    except WorkerDied as exc:
        print(json.dumps({"raised": list(exc.idents), "message": str(exc)}))
    else:
        print(json.dumps({"statuses": {r.ident: r.status for r in got}}))
"""
IDENTS = 30


def _other_hosts_allowed() -> bool:
    """Whether this process may start one in a UTS namespace and rename its host."""
    try:
        done = subprocess.run(
            ["unshare", "--uts", "sh", "-c", "hostname nodeb && hostname"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == "nodeb"


class Cluster:
    """A scheduler and workers, each a process group of its own; all ended by :meth:`stop`."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.scheduler_file = root / "scheduler.json"
        self.processes: list[subprocess.Popen[bytes]] = []

    def _start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        with open(self.root / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: killpg takes nanny and worker
            )
        self.processes.append(process)
        return process

    def start_scheduler(self) -> None:
        scheduler = [DASK, "scheduler", "--port", "0", "--no-dashboard"]
        self._start("scheduler", [*scheduler, "--scheduler-file", str(self.scheduler_file)])

    def address(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                return str(json.loads(self.scheduler_file.read_text())["address"])
            except (FileNotFoundError, json.JSONDecodeError):
                time.sleep(0.1)
        raise AssertionError("the scheduler wrote no scheduler file within 60 s")

    def start_worker(self, name: str, host: str | None = None) -> subprocess.Popen[bytes]:
        """``dask worker tcp://…``; with ``host``, in a UTS namespace named ``host``."""
        worker = [DASK, "worker", self.address(), "--nthreads", "1", "--no-dashboard"]
        worker += ["--name", name]
        if host is None:
            return self._start(name, worker)
        # The README's command, with this test's address and name.
        inner = f"hostname {host}; exec {shlex.join(worker)}"
        return self._start(name, ["unshare", "--uts", "sh", "-c", inner])

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def group_pids(leader: int) -> set[int]:
    """The pids of a process group: the worker's nanny and the worker it started."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == leader:  # the pgrp field
                found.add(int(entry.name))
    return found


class Runs:
    """The O_APPEND file of compute starts and ends: ``EVENT IDENT HOST PID`` lines."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[list[str]]:
        text = self.path.read_text() if self.path.exists() else ""
        return [line.split() for line in text.splitlines()]

    def count(self, event: str, prefix: str) -> Counter[str]:
        return Counter(i for e, i, _, _ in self.lines() if e == event and i.startswith(prefix))

    def kill_mid_run(self, worker: subprocess.Popen[bytes], prefix: str) -> set[str]:
        """SIGKILL ``worker``'s group once it computes an ident; the idents it never ended."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pids = {str(pid) for pid in group_pids(worker.pid)}
            started = {i for e, i, _, pid in self.lines() if e == "start" and pid in pids}
            if {i for i in started if i.startswith(prefix)}:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
                ended = {i for e, i, _, pid in self.lines() if e == "end" and pid in pids}
                return {i for i in started - ended if i.startswith(prefix)}
            time.sleep(0.02)
        raise AssertionError(f"the worker computed nothing of {prefix} in 60 s")


def _stats(env: dict[str, str], base: Path) -> dict[str, int]:
    done = subprocess.run(
        [str(BIN / "hadrosaur"), "stats", str(base), "genomes", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout)["genomes"]["counts"])


@pytest.fixture
def cluster_dir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "cluster_pipeline.py").write_text(textwrap.dedent(PIPELINE))
    (tmp_path / "driver.py").write_text(DRIVER.replace("IDENTS", str(IDENTS)))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
        BASE_ENV: str(tmp_path / "base"),
        "CLUSTER_RUNS": str(tmp_path / "runs"),
    }
    return tmp_path, env


def _fetch_many(
    root: Path, env: dict[str, str], prefix: str, workers: int, mode: str = "retry"
) -> subprocess.Popen[str]:
    command = [sys.executable, str(root / "driver.py"), str(root / "scheduler.json")]
    return subprocess.Popen(
        [*command, prefix, str(workers), mode],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _outcome(driver: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = driver.communicate(timeout=120)
    assert driver.returncode == 0, err
    return dict(json.loads(out.splitlines()[-1]))


@pytest.mark.slow
def test_a_worker_killed_mid_run_costs_nothing_completed(
    cluster_dir: tuple[Path, dict[str, str]],
) -> None:
    root, env = cluster_dir
    runs = Runs(root / "runs")
    other_host = "nodeb" if _other_hosts_allowed() else None
    cluster = Cluster(root, env)
    try:
        cluster.start_scheduler()
        cluster.start_worker("vm-1")
        cluster.start_worker("vm-2")
        doomed = cluster.start_worker("nodeb-1", host=other_host)

        # 1. Dask's own retries (allowed-failures 3): the task of the dead worker runs
        # again elsewhere, and the same call returns every resource completed.
        driver = _fetch_many(root, env, "g", workers=3)
        killed = runs.kill_mid_run(doomed, "g")
        assert killed, "the worker died in the middle of a resource"
        assert set(_outcome(driver)["statuses"].values()) == {"completed"}
        assert set(runs.count("end", "g").values()) == {1}, "each ident completed once"
        assert len(runs.count("end", "g")) == IDENTS
        starts = runs.count("start", "g")
        assert all(starts[ident] == 2 for ident in killed), "the killed one ran again"
        assert all(starts[i] == 1 for i in starts if i not in killed)
        if other_host is not None:
            hosts = {host for e, i, host, _ in runs.lines() if i in killed}
            assert other_host in hosts and len(hosts) == 2  # died on nodeb, ended here
        assert _stats(env, root / "base")["completed"] == IDENTS
        before = runs.lines()
        assert set(_outcome(_fetch_many(root, env, "g", workers=2))["statuses"].values()) == {
            "completed"
        }
        assert runs.lines() == before, "a second call computes nothing completed"

        # 2. A scheduler that gives up at the first death: fetch_many raises WorkerDied,
        # and a second call computes what is not completed, the killed ones included.
        doomed = cluster.start_worker("nodeb-2", host=other_host)
        driver = _fetch_many(root, env, "h", workers=3, mode="give-up")
        killed = runs.kill_mid_run(doomed, "h")
        outcome = _outcome(driver)
        assert killed and killed <= set(outcome["raised"]), outcome
        assert "dask gave up on the task: its worker died once" in outcome["message"]
        assert "call fetch_many again" in outcome["message"]
        for ident in killed:
            assert not (root / "base" / "genomes" / ident / "result.json").exists()
        counts = _stats(env, root / "base")
        assert counts["total"] == 2 * IDENTS and counts["completed"] < 2 * IDENTS
        port = free_port()  # the monitor, as a browser tab would see it
        # The collections screen's row: Total, Done (as stats counts them), once read.
        row = re.compile(rf"genomes\s+{counts['total']}\s+{counts['completed']}\s")
        with serving(str(root / "base"), cwd=root, port=port):
            shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", app_output(port, row))
        assert row.search(shown), shown
        assert set(_outcome(_fetch_many(root, env, "h", workers=2))["statuses"].values()) == {
            "completed"
        }
        assert set(runs.count("end", "h").values()) == {1} and len(runs.count("end", "h")) == 30
        starts = runs.count("start", "h")
        assert all(starts[ident] == 2 for ident in killed)
        assert all(starts[i] == 1 for i in starts if i not in killed)
        counts = _stats(env, root / "base")
        assert counts["completed"] == counts["total"] == 2 * IDENTS
        assert counts["pending"] == counts["interrupted"] == counts["error"] == 0
    finally:
        cluster.stop()


def _readme_cluster_blocks() -> tuple[str, str]:
    text = (REPO / "README.md").read_text()
    section = text.split("### Running on a Dask cluster", 1)[1].split("\n## ", 1)[0]
    python = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    shell = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(python) == 1 and len(shell) == 1, "the recipe is one script and one shell block"
    return python[0], shell[0]


@pytest.mark.slow
def test_the_readme_cluster_recipe_runs_as_written(tmp_path: Path) -> None:
    pipeline, commands = _readme_cluster_blocks()
    (tmp_path / "cluster_pipeline.py").write_text(pipeline)
    env = {key: value for key, value in os.environ.items() if key != BASE_ENV}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # dask, python, hadrosaur
    env["PYTHONPATH"] = str(REPO)  # the block sets its own; this is for hadrosaur itself
    done = subprocess.run(
        ["bash", "-c", commands],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        start_new_session=True,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^computed on \['[^']+'.*\]$", done.stdout, flags=re.M), done.stdout
    assert re.search(r"^annotations\b.*\b40\b", done.stdout, flags=re.M), done.stdout
    results = sorted((tmp_path / "base_directory" / "annotations").glob("*/result.json"))
    assert len(results) == 40
    # kill $(jobs -p); wait: nothing of the cluster is left running.
    assert _processes_in(tmp_path) == []


def _processes_in(directory: Path) -> list[int]:
    """The pids of processes whose current directory is ``directory``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd") == str(directory):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_the_readme_names_the_commands_this_test_runs() -> None:
    _, commands = _readme_cluster_blocks()
    assert "dask scheduler --port 0 --scheduler-file scheduler.json --no-dashboard" in commands
    assert "dask worker --scheduler-file scheduler.json --nthreads 1 --no-dashboard" in commands
    text = (REPO / "README.md").read_text()
    assert "unshare --uts sh -c 'hostname nodeb; exec dask worker" in text


def test_dask_giving_up_is_told_as_a_worker_death_and_other_errors_pass() -> None:
    from types import SimpleNamespace

    from distributed.scheduler import KilledWorker

    from hadrosaur.parallel import _death

    last = SimpleNamespace(address="tcp://10.0.0.7:40123")
    assert _death(KilledWorker("fetch_chunk-1", last, 0)) == (
        "dask gave up on the task: its worker died once "
        "(distributed.scheduler.allowed-failures), the last one tcp://10.0.0.7:40123"
    )
    assert "died 4 times" in str(_death(KilledWorker("fetch_chunk-1", last, 3)))
    assert _death(ValueError("a worker's own error")) is None  # re-raised as it is
