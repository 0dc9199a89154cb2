"""The pipeline and the process roles that the reliability suites run in child processes.

Run as ``python -m tests.reliability.workload ROLE BASE SEED [WINDOW]`` from the
repository root. Roles loop until they are killed (or, with a deadline, until
it passes, printing a JSON summary):

- ``fetch``: fetch random idents, sometimes with ``recompute=True``;
- ``many``: ``fetch_many`` on random samples (plain fetches when this
  hadrosaur has no ``fetch_many``);
- ``read``: stats, fetch_by_status, changes, entries, load and status, checking
  every answer it gets;
- ``reindex``: rebuild the index again and again;
- ``plan``: record plans of idents that are never started.

A WINDOW makes the child stop inside one step of the library and print
``window`` on stdout, so that the driver can SIGKILL it exactly there:

- ``result``/``status``/``meta``: between writing the temporary file and the
  ``os.replace`` that publishes it;
- ``clear``: after the new attempt is pending, before the last attempt's files go;
- ``apply``: a drain between claiming markers and applying them;
- ``release``: a drain between applying markers and unlinking the claimed ones;
- ``rebuild``: a rebuild half-way through its directory scan (aside, without
  the index lock, when the index was sound; holding it when there was none);
- ``catchup``: a rebuild aside between its scan and its swap, re-reading what
  readers drained into the old index meanwhile;
- ``swap``: a rebuild aside between renaming the old index away and renaming
  the new one in (no ``.index`` at all);
- ``rmtree``: half-way through deleting an index directory;
- ``plan``: between writing a plan file and its marker.

Only this child is patched; the library's code runs as written everywhere else.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hadrosaur import STATUSES, Context, DamagedResource, Project, _compute, _markers, _store
from hadrosaur._index import collection_index
from hadrosaur._index.writes import IndexWriter

COLLECTION = "items"
#: Set in a child's environment to make the ``fail-*`` idents succeed (the final heal).
HEAL_ENV = "HADROSAUR_RELIABILITY_HEAL"
#: How long a child waits inside a window for the driver's SIGKILL.
WINDOW_SLEEP = 5.0


def idents(n: int, failing: int) -> list[str]:
    """The ident set of a run: ``ok-*`` always succeed, ``fail-*`` raise until healed."""
    return [f"ok-{i:05d}" for i in range(n)] + [f"fail-{i:03d}" for i in range(failing)]


def expected_result(ident: str) -> dict[str, Any]:
    """What compute returns for ``ident``: sized by the ident so that writes vary (up to 48 KB)."""
    size = (sum(ident.encode()) * 37) % 48_000
    return {"ident": ident, "payload": "x" * size}


def compute(ident: str, args: Any, ctx: Context) -> Any:
    """The collection's function: log, maybe sleep, maybe write a file, maybe fail."""
    ctx.logger.info("computing %s with %s", ident, args)
    sleep = args.get("sleep", 0) if isinstance(args, dict) else 0
    if sleep:
        time.sleep(sleep)
    if ident.endswith("7"):
        (ctx.subdir / "out.txt").write_text(ident)
    if ident.startswith("fail") and not os.environ.get(HEAL_ENV):
        raise RuntimeError(f"failing on purpose: {ident}")
    return expected_result(ident)


def define(base: str | os.PathLike[str], **kwargs: Any) -> Project:
    """A Project on ``base`` with the collection defined."""
    proj = Project(base, **kwargs)
    proj.resource(COLLECTION)(compute)
    return proj


# -- windows ---------------------------------------------------------------------


def _stop_here() -> None:
    print("window", flush=True)
    time.sleep(WINDOW_SLEEP)


def _patch_replace(target: str) -> None:
    original = os.replace

    def replace(src: Any, dst: Any, **kw: Any) -> None:
        if os.path.basename(os.fspath(dst)) == target:
            _stop_here()  # the temporary file is complete; the rename has not happened
        original(src, dst, **kw)

    os.replace = replace  # type: ignore[assignment]


def _patch_before(owner: Any, name: str) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not any(isinstance(a, list) and not a for a in args):  # skip empty batches
            _stop_here()
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def _patch_scan() -> None:
    original = _store.scan_entries

    def scan(coll_dir: Any) -> Iterator[tuple[str, str]]:
        for n, entry in enumerate(original(coll_dir)):
            if n == 5:
                _stop_here()
            yield entry

    _store.scan_entries = scan


def _patch_catch_up() -> None:
    original = collection_index.catch_up

    def catch_up(writer: Any, idents: list[str]) -> set[str]:
        _stop_here()  # the new index is scanned; what readers drained is being re-read
        return original(writer, idents)

    collection_index.catch_up = catch_up  # type: ignore[assignment]


def _patch_swap() -> None:
    original = os.rename

    def rename(src: Any, dst: Any, **kw: Any) -> None:
        if os.path.basename(os.fspath(dst)) == _store.INDEX_DIR:
            _stop_here()  # the old index is renamed away, the new one not yet in
        original(src, dst, **kw)

    os.rename = rename  # type: ignore[assignment]


def _patch_plan_marker() -> None:
    original = _markers.touch_marker

    def touch_marker(coll_dir: Any, name: str, durable: bool = False) -> None:
        if name.startswith(_store.PLAN_MARKER_PREFIX):
            _stop_here()  # the plan file is written, its marker is not
        original(coll_dir, name, durable)

    _markers.touch_marker = touch_marker


def _patch_rmtree() -> None:
    original = shutil.rmtree

    def rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
        files = sorted(p for p in Path(path).rglob("*") if p.is_file())
        for n, file in enumerate(files):
            if n == len(files) // 2:
                _stop_here()  # half of the index is gone
            file.unlink(missing_ok=True)
        original(path, *args, **kwargs)

    shutil.rmtree = rmtree  # type: ignore[assignment]


WINDOWS: dict[str, Callable[[], None]] = {
    "result": lambda: _patch_replace(_store.RESULT_FILE),
    "status": lambda: _patch_replace(_store.STATUS_FILE),
    "meta": lambda: _patch_replace(_store.META_FILE),
    "clear": lambda: _patch_before(_compute, "_clear_previous_attempt"),
    "apply": lambda: _patch_before(IndexWriter, "apply_resources"),
    "release": lambda: _patch_before(_markers, "release_claimed"),
    "rebuild": _patch_scan,
    "catchup": _patch_catch_up,
    "swap": _patch_swap,
    "rmtree": _patch_rmtree,
    "plan": _patch_plan_marker,
}

#: The role that reaches each window.
WINDOW_ROLES = {
    "result": "fetch",
    "status": "fetch",
    "meta": "fetch",
    "clear": "fetch",
    "apply": "read",
    "release": "read",
    "rebuild": "reindex",
    "catchup": "reindex",
    "swap": "reindex",
    "rmtree": "reindex",
    "plan": "plan",
}


# -- roles -----------------------------------------------------------------------


class Role:
    """One child's loop; counts operations and records (never hides) errors."""

    def __init__(self, proj: Project, names: list[str], rng: random.Random) -> None:
        self.proj = proj
        self.names = names
        self.rng = rng
        self.ops = 0
        self.errors: list[str] = []
        self.done_counts: list[int] = []
        self.slowest = 0.0

    def step(self) -> None:
        raise NotImplementedError

    def run(self, deadline: float | None) -> None:
        while deadline is None or time.monotonic() < deadline:
            began = time.monotonic()
            try:
                self.step()
            except Exception:
                self.errors.append(traceback.format_exc())
                if deadline is None:
                    raise  # a killed-child run: fail loudly, the driver reads stderr
            self.slowest = max(self.slowest, time.monotonic() - began)
            self.ops += 1


class FetchRole(Role):
    def __init__(
        self, *args: Any, recompute: float = 0.2, sleep: float = 0.002, refail: bool = True
    ) -> None:
        super().__init__(*args)
        self.recompute = recompute
        self.sleep = sleep
        # refail=False: fetch each failing ident once, since fetching an error
        # computes it again (its count dips while it runs).
        self.refail = refail
        self.failed: set[str] = set()

    def step(self) -> None:
        ident = self.rng.choice(self.names)
        if not self.refail and ident.startswith("fail"):
            if ident in self.failed:
                return
            self.failed.add(ident)
        recompute = self.rng.random() < self.recompute
        res = self.proj.fetch(COLLECTION, ident, {"sleep": self.sleep}, recompute=recompute)
        if res.status == "completed" and res.result != expected_result(ident):
            raise AssertionError(f"{ident}: fetch returned a result of something else")


class ManyRole(FetchRole):
    def __init__(
        self, *args: Any, processes: int = 0, random_samples: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Threads by default: a SIGKILL then takes the whole pool with it.
        self.executor: Executor = (
            ProcessPoolExecutor(processes) if processes else ThreadPoolExecutor(2)
        )
        self.random_samples = random_samples

    def _sample(self) -> list[str]:
        if self.random_samples:
            sample = self.rng.sample(self.names, min(len(self.names), 16))
        else:
            # A few fixed samples, so that the plans fetch_many records stay few.
            size = min(len(self.names), 8)
            start = self.rng.randrange(4) * size % len(self.names)
            sample = (self.names * 2)[start : start + size]
        if not self.refail:
            sample = [i for i in sample if not i.startswith("fail") or i not in self.failed]
            self.failed.update(i for i in sample if i.startswith("fail"))
        return sample

    def step(self) -> None:
        if not hasattr(self.proj, "fetch_many"):
            super().step()
            return
        sample = self._sample()
        recompute = self.rng.random() < self.recompute
        found = self.proj.fetch_many(
            COLLECTION,
            sample,
            {"sleep": self.sleep},
            executor=self.executor,
            recompute=recompute,
            progress=False,
        )
        for ident, res in zip(sample, found, strict=True):
            if res.ident != ident or (
                res.status == "completed" and res.result != expected_result(ident)
            ):
                raise AssertionError(f"{ident}: fetch_many returned {res!r}")


class ReadRole(Role):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.cursor: Any = None

    def step(self) -> None:
        proj = self.proj
        choice = self.rng.randrange(6)
        if choice == 0:
            counts = proj.stats(COLLECTION)["counts"]
            if counts["total"] != sum(counts[s] for s in STATUSES):
                raise AssertionError(f"total is not the sum of the counts: {counts}")
            self.done_counts.append(counts["completed"] + counts["error"])
        elif choice == 1:
            status = self.rng.choice(STATUSES)
            found = proj.fetch_by_status(COLLECTION, status)
            if found != sorted(found):
                raise AssertionError("fetch_by_status is not in ident order")
        elif choice == 2:
            batch = proj.changes(COLLECTION, self.cursor)
            self.cursor = batch.cursor
        elif choice == 3:
            proj.entries(COLLECTION, limit=50)
        else:
            ident = self.rng.choice(self.names)
            try:
                res = proj.load(COLLECTION, ident)
            except DamagedResource as exc:
                raise AssertionError(f"a sound resource read as damaged: {exc}") from exc
            if res.status == "completed" and res.result != expected_result(ident):
                raise AssertionError(f"{ident}: load returned a result of something else")
            if proj.status(COLLECTION, ident) not in STATUSES:
                raise AssertionError(f"{ident}: unknown status")


class ReindexRole(Role):
    def __init__(self, *args: Any, pause: float = 0.0) -> None:
        super().__init__(*args)
        self.pause = pause

    def step(self) -> None:
        self.proj.reindex(COLLECTION)
        if self.pause:
            time.sleep(self.pause)


class PlanRole(Role):
    def step(self) -> None:
        seed = self.rng.randrange(10**9)
        self.proj.plan(COLLECTION, [f"planned-{seed}-{n}" for n in range(5)])


ROLES: dict[str, type[Role]] = {
    "fetch": FetchRole,
    "many": ManyRole,
    "read": ReadRole,
    "reindex": ReindexRole,
    "plan": PlanRole,
}


def main(argv: list[str]) -> int:
    role_name, base, seed = argv[0], argv[1], int(argv[2])
    window = argv[3] if len(argv) > 3 and argv[3] != "-" else None
    config = json.loads(argv[4]) if len(argv) > 4 else {}
    proj = define(base)
    names = idents(config.get("n", 40), config.get("failing", 8))
    if "share" in config:  # (i, n): this child's share of the failing idents only
        i, n = config["share"]
        names = [x for k, x in enumerate(names) if not x.startswith("fail") or k % n == i]
    if window is not None:
        WINDOWS[window]()
    role = ROLES[role_name](proj, names, random.Random(seed), **config.get("options", {}))
    print("ready", flush=True)
    duration = config.get("duration")
    role.run(None if duration is None else time.monotonic() + duration)
    print(
        json.dumps(
            {
                "ops": role.ops,
                "errors": role.errors,
                "done_counts": role.done_counts,
                "slowest": round(role.slowest, 3),
            },
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
