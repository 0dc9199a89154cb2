"""SIGKILL at random points, and inside the steps where a crash would hurt most.

Each round starts a few workload children (fetch, fetch_many, readers,
reindex) on one base directory and kills every one of them: some at a random
moment, some exactly inside a window (between a temporary file and its
rename, between a claim and its apply, half-way through a rebuild...). While
the others still run, every resource must be in an allowed state; once all
are dead, hadrosaur's answers must equal a fresh scan of the directories.
At the end one fetch of everything brings every resource to completed.

Short (CI): 50 kills. ``pytest --long``: 2,000.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .checks import Child, library_agrees, survey, wait_readable
from .workload import COLLECTION, HEAL_ENV, WINDOW_ROLES, define, idents

#: Longest wait for a child to reach its window before it is killed anyway.
WINDOW_TIMEOUT = 4.0
#: Random kills land this long (at most) after the child is ready.
MAX_DELAY = 0.5
ROLES = ("fetch", "fetch", "many", "read", "read", "reindex")


def _round(base: Path, logs: Path, rng: random.Random, seed: int, tally: Counter[str]) -> list[str]:
    """Start children, kill each one, and check the live base after every kill."""
    plans: list[tuple[str, str | None]] = [(rng.choice(ROLES), None) for _ in range(2)]
    window = rng.choice(sorted(WINDOW_ROLES))
    plans.append((WINDOW_ROLES[window], window))
    plans.append(("fetch", None))  # makes the markers the drain windows need
    children = [
        Child(role, base, seed * 10 + n, logs, window) for n, (role, window) in enumerate(plans)
    ]
    delays = {id(c): rng.uniform(0, MAX_DELAY) for c in children}
    problems: list[str] = []
    try:
        while any(not c.proc.stdout.closed for c in children if c.proc.stdout):
            wait_readable(children, 0.005)
            now = time.monotonic()
            for child in children:
                if child.proc.stdout is None or child.proc.stdout.closed:
                    continue
                if child.proc.poll() is not None:
                    child.close()
                    problems.append(f"{child.role} child exited by itself:\n{child.stderr()}")
                    continue
                if child.ready_at is None:
                    continue
                if child.window is not None:
                    if "window" in child.lines:
                        child.kill()
                        tally[f"window:{child.window}"] += 1
                    elif now - child.ready_at > WINDOW_TIMEOUT:
                        child.kill()
                        tally[f"window missed:{child.window}"] += 1
                elif now - child.ready_at > delays[id(child)]:
                    child.kill()
                    tally[f"random:{child.role}"] += 1
                if child.killed:
                    tally["kills"] += 1
                    # The others still run: the per-resource rules hold at every moment.
                    live = survey(base / COLLECTION, quiescent=False)
                    problems.extend(live.violations)
    finally:
        for child in children:
            child.kill()
    return problems


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing(
    tmp_path: Path,
    long_run: bool,
    monkeypatch: pytest.MonkeyPatch,
    report: Callable[[str, dict[str, Any]], None],
) -> None:
    target = int(os.environ.get("HADROSAUR_KILLS", 2000 if long_run else 50))
    base = tmp_path / "base"
    logs = tmp_path / "logs"
    logs.mkdir()
    proj = define(base, index_timeout=60)
    seed_of_run = int(os.environ.get("HADROSAUR_KILL_SEED", int(time.time()) if long_run else 7))
    print(f"\nkills: random seed {seed_of_run} (HADROSAUR_KILL_SEED={seed_of_run} repeats it)")
    rng = random.Random(seed_of_run)
    tally: Counter[str] = Counter()
    states: Counter[str] = Counter()
    mismatches: list[str] = []
    started = time.monotonic()
    seed = 0
    while tally["kills"] < target:
        seed += 1
        problems = _round(base, logs, rng, seed, tally)
        assert not problems, "\n".join(problems)
        found = survey(base / COLLECTION, quiescent=True)
        assert not found.violations, "\n".join(found.violations)
        states.update(found.states.values())
        tally["most tmp files left at once"] = max(
            found.tmp_files, tally["most tmp files left at once"]
        )
        tally["claimed markers left by kills"] += found.claimed
        mismatches.extend(library_agrees(proj, found))
        assert not mismatches, "\n".join(mismatches)
    monkeypatch.setenv(HEAL_ENV, "1")
    names = idents(40, 8)
    healed = [proj.fetch(COLLECTION, ident) for ident in names]
    assert {res.status for res in healed} == {"completed"}
    final = survey(base / COLLECTION, quiescent=True)
    assert not final.violations
    assert set(final.states.values()) == {"completed"} and len(final.states) == len(names)
    assert proj.check(COLLECTION) == []
    figures = {
        "kills": tally["kills"],
        "rounds": seed,
        "random seed": seed_of_run,
        "states seen": dict(states),
        "mismatches": len(mismatches),
        "seconds": round(time.monotonic() - started, 1),
        **{k: v for k, v in tally.items() if k != "kills"},
    }
    report("kills", figures)


def test_a_plan_whose_marker_was_never_written_still_counts(tmp_path: Path) -> None:
    """Killed between writing a plan and its marker: the plan is applied all the same."""
    base = tmp_path / "base"
    proj = define(base)
    proj.stats(COLLECTION)  # the index exists: only a drain can learn of the plan
    child = Child("plan", base, 1, tmp_path, window="plan")
    try:
        while "window" not in child.lines:
            wait_readable([child], 1.0)
            assert child.proc.poll() is None, child.stderr()
    finally:
        child.kill()
    assert len(list((base / COLLECTION / ".plans").iterdir())) == 1
    assert not any(n.startswith(".plan.") for n in os.listdir(base / COLLECTION / ".updates"))
    assert proj.stats(COLLECTION)["counts"]["unavailable"] == 5
    assert proj.check(COLLECTION) == []
    assert proj.reindex(COLLECTION)[COLLECTION]["unavailable"] == 5


@pytest.mark.parametrize("window", ["rebuild", "catchup", "swap"])
def test_a_rebuild_aside_killed_leaves_the_old_index_or_none(tmp_path: Path, window: str) -> None:
    """SIGKILL in the scan, the catch-up or between the swap's renames: never a half index."""
    base = tmp_path / "base"
    proj = define(base)
    for ident in idents(12, 2):
        proj.fetch(COLLECTION, ident)
    coll = base / COLLECTION
    before = proj.stats(COLLECTION)["counts"]
    epoch = proj.changes(COLLECTION).cursor
    child = Child("reindex", base, 1, tmp_path, window=window)
    try:
        while "window" not in child.lines:
            wait_readable([child], 1.0)
            assert child.proc.poll() is None, child.stderr()
        proj.fetch(COLLECTION, "ok-00003", recompute=True)  # a change while it is stopped
    finally:
        child.kill()
    assert (coll / ".index.building").is_dir()  # the killed builder's directory
    assert (coll / ".index").is_dir() == (window != "swap")  # old index, or none at all
    with proj.view(COLLECTION) as view:
        assert view.rebuilt == (window == "swap")  # none: rebuilt; else the old one, as it was
        assert view.counts() == before
    assert proj.changes(COLLECTION, epoch).reload == (window == "swap")
    assert not (coll / ".index.building").exists()
    assert not (coll / ".index.deleting").exists()
    assert proj.check(COLLECTION) == []
