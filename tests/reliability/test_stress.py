"""Many processes on one base at once: workers, readers, the CLI and reindex.

For a bounded time, fetch workers, a fetch_many worker, readers (stats,
fetch_by_status, changes, entries, load, status), the command line's
``stats`` and a reindex every few seconds share one collection. Nothing may fail because
of contention (no IndexBusy within the default timeout, no LevelDB error),
finished counts never go down for any reader (no work here computes a
finished resource again), a reader that follows the change feed ends with the
index's exact state, and the final index equals a scan.

Short (CI): about 8 s of load. ``pytest --long``: 60 s.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Entry, Project

from ..helpers import REPO
from .checks import Child, finish, survey
from .workload import COLLECTION, define

#: Idents per second of load: enough that the workers never run out of work.
OK_PER_SECOND, N_FAILING = 400, 60
WORKERS = 3


def _cli_available() -> bool:
    return (REPO / "hadrosaur" / "cli" / "__init__.py").is_file() and (
        REPO / "hadrosaur" / "__main__.py"
    ).is_file()


FEED_READER = """
import json, sys, time
from hadrosaur import Project

proj = Project(sys.argv[1], create=False)
deadline = time.monotonic() + float(sys.argv[2])
model, cursor, ops, reloads, errors = {}, None, 0, 0, []
print("ready", flush=True)


def follow():
    global cursor, reloads
    with proj.view("items") as v:
        batch = v.changes(cursor)
        if batch.reload:
            reloads += 1
            model.clear()
            model.update((e.ident, e.status) for e in v.entries())
            cursor = v.cursor()
            return
        for change in batch.changes:
            if change.entry is None:
                model.pop(change.ident, None)
            else:
                model[change.ident] = change.entry.status
        cursor = batch.cursor


slowest = 0.0
while time.monotonic() < deadline:
    began = time.monotonic()
    try:
        follow()
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    slowest = max(slowest, time.monotonic() - began)
    ops += 1
    time.sleep(0.01)
sys.stdin.readline()  # the driver says when every worker has stopped
follow()
while cursor is not None and proj.changes("items", cursor).changes:
    follow()
summary = {"ops": ops, "errors": errors, "reloads": reloads, "model": model}
print(json.dumps({**summary, "slowest": round(slowest, 3)}), flush=True)
"""


class CliReader:
    """Runs ``python -m hadrosaur stats BASE --json`` again and again."""

    def __init__(self, base: Path, duration: float) -> None:
        self.base = base
        self.deadline = time.monotonic() + duration
        self.ops = 0
        self.errors: list[str] = []
        self.done: list[int] = []
        self.slowest = 0.0

    def run_once(self) -> None:
        began = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "hadrosaur", "stats", str(self.base), COLLECTION, "--json"],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        self.ops += 1
        self.slowest = max(self.slowest, time.monotonic() - began)
        if done.returncode != 0 or "Traceback" in done.stderr:
            self.errors.append(f"exit {done.returncode}: {done.stderr[-1000:]}")
            return
        try:
            data = json.loads(done.stdout)
        except ValueError:
            self.errors.append(f"not JSON: {done.stdout[:300]!r}")
            return
        counts = _find_counts(data)
        if counts is not None:
            self.done.append(counts["completed"] + counts["error"])


def _find_counts(data: Any) -> dict[str, int] | None:
    """The counts dict inside the CLI's JSON, wherever its layout puts it."""
    if isinstance(data, dict):
        if {"completed", "error"} <= data.keys() and all(
            isinstance(data[k], int) for k in ("completed", "error")
        ):
            return data
        for value in data.values():
            found = _find_counts(value)
            if found is not None:
                return found
    if isinstance(data, list):
        for value in data:
            found = _find_counts(value)
            if found is not None:
                return found
    return None


def _monotone(values: list[int]) -> bool:
    return all(a <= b for a, b in itertools.pairwise(values))


@pytest.mark.slow
def test_workers_readers_cli_and_reindex_together(
    tmp_path: Path, long_run: bool, report: Callable[[str, dict[str, Any]], None]
) -> None:
    duration = 60.0 if long_run else 8.0
    base = tmp_path / "base"
    logs = tmp_path / "logs"
    logs.mkdir()
    proj = define(base)  # the default index_timeout: contention must never reach it
    names = {"n": int(OK_PER_SECOND * duration), "failing": N_FAILING, "duration": duration}
    worker_options = {"recompute": 0.0, "sleep": 0.001, "refail": False}
    children = [
        Child(
            "fetch",
            base,
            100 + i,
            logs,
            config={**names, "share": [i, WORKERS + 1], "options": worker_options},
        )
        for i in range(WORKERS)
    ]
    many_options = {**worker_options, "processes": 2, "random_samples": True}
    children.append(
        Child(
            "many",
            base,
            200,
            logs,
            config={**names, "share": [WORKERS, WORKERS + 1], "options": many_options},
        )
    )
    children += [Child("read", base, 300 + i, logs, config=names) for i in range(2)]
    # A rebuild holds the index for as long as it scans (seconds for 24,000 resources
    # on a loaded machine): a reindex every 10 s in the long run, not back to back.
    pause = 10.0 if long_run else 2.0
    reindex = {**names, "options": {"pause": pause}}
    children.append(Child("reindex", base, 400, logs, config=reindex))
    feed = subprocess.Popen(
        [sys.executable, "-c", FEED_READER, str(base), str(duration)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    cli = CliReader(base, duration) if _cli_available() else None
    started = time.monotonic()
    try:
        if cli is not None:
            while time.monotonic() < cli.deadline:
                cli.run_once()
        summaries = {f"{c.role}-{c.seed}": finish(c, duration + 120) for c in children}
        assert feed.stdin is not None and feed.stdout is not None
        feed.stdin.write("go\n")
        feed.stdin.flush()
        out, err = feed.communicate(timeout=120)
        assert feed.returncode == 0, err
        followed = json.loads(out.strip().splitlines()[-1])
    finally:
        for child in children:
            child.kill()
        if feed.poll() is None:
            feed.kill()
            feed.communicate()
    elapsed = time.monotonic() - started

    errors = {name: s["errors"] for name, s in summaries.items() if s["errors"]}
    errors.update({"feed": followed["errors"]} if followed["errors"] else {})
    errors.update({"cli": cli.errors} if cli is not None and cli.errors else {})
    ops = {name: s["ops"] for name, s in summaries.items()}
    report(
        "stress",
        {
            "seconds": round(elapsed, 1),
            "errors": sum(len(e) for e in errors.values()),
            "ops per second": {name: round(n / duration, 1) for name, n in ops.items()},
            "slowest operation (s)": {name: s["slowest"] for name, s in summaries.items()},
            "feed reader polls per second": round(followed["ops"] / duration, 1),
            "feed reader slowest poll (s)": followed["slowest"],
            "feed reloads": followed["reloads"],
            "cli stats per second": round(cli.ops / duration, 1) if cli else "no CLI",
            "cli slowest (s)": round(cli.slowest, 2) if cli else "no CLI",
        },
    )
    assert not errors, json.dumps(errors, indent=1)[:6000]
    for name, s in summaries.items():
        assert _monotone(s["done_counts"]), f"{name}: finished counts went down"
    if cli is not None:
        assert _monotone(cli.done), "the CLI's finished counts went down"

    found = survey(base / COLLECTION, quiescent=True)
    assert found.violations == []
    assert proj.check(COLLECTION) == []
    counts = proj.stats(COLLECTION)["counts"]
    truth = Counter(found.states.values())
    assert (counts["completed"], counts["error"], counts["pending"]) == (
        truth["completed"],
        truth["error"],
        0,
    )
    entries: list[Entry] = proj.entries(COLLECTION)
    assert followed["model"] == {e.ident: e.status for e in entries}, "the feed lost a change"


def test_a_project_reader_sees_every_worker_process_through_one_index(tmp_path: Path) -> None:
    """Smaller and deterministic: two workers, one in-process reader, counts add up."""
    base = tmp_path / "base"
    logs = tmp_path / "logs"
    logs.mkdir()
    proj: Project = define(base)
    config = {"n": 200, "failing": 10, "duration": 2.0}
    options = {"recompute": 0.0, "sleep": 0.0, "refail": False}
    children = [
        Child("fetch", base, i, logs, config={**config, "share": [i, 2], "options": options})
        for i in range(2)
    ]
    seen = []
    while any(c.proc.poll() is None for c in children):
        seen.append(proj.stats(COLLECTION)["counts"])
    for child in children:
        finish(child, 60)
    done = [c["completed"] + c["error"] for c in seen]
    assert _monotone(done)
    assert all(c["total"] == sum(v for k, v in c.items() if k != "total") for c in seen)
    assert proj.check(COLLECTION) == []
