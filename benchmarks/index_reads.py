"""Reading a large collection: stats, fetch_by_status(error) and index rebuild, vs 0.4.1.

Bases are generated (generate.py) with a fixed number of resources in error
at every size, so that fetch_by_status(error) returns as many at 10k as at
1M: its cost must follow the number returned, not the collection's size.
Each round rebuilds our index from the directories (timed: resources/s),
makes one untimed read (the first opening after a rebuild replays LevelDB's
log; its time is kept as ``first_read_s``), then times ``read_repeats``
calls of each read; 0.4.1 does the same reads in its own venv, on its own
status index generated with the same statuses. The order of the two
systems alternates between rounds.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hadrosaur import Project, _store

from .figures import Row, median_ratio, spread
from .generate import COLLECTION, generate_base, generate_legacy_index, remove_tree
from .machine import Where
from .scales import Scale
from .subprocesses import run_child

__all__ = ("index_rows", "run_index_reads")


def _timed(call: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    out, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = call()
        out.append(time.perf_counter() - start)
    return out, value


def _ours(base: Path, n: int, repeats: int, rebuild: bool) -> dict[str, Any]:
    proj = Project(base, create=False)
    out: dict[str, Any] = {"system": "hadrosaur"}
    if rebuild:
        start = time.perf_counter()
        counts = proj.reindex(COLLECTION)[COLLECTION]
        out["rebuild_s"] = time.perf_counter() - start
        assert counts["total"] == n, counts
    first_s, first = _timed(lambda: proj.stats(COLLECTION), 1)
    assert first["counts"]["total"] == n, first
    stats_s, _ = _timed(lambda: proj.stats(COLLECTION), repeats)
    error_s, errors = _timed(lambda: proj.fetch_by_status(COLLECTION, "error"), repeats)
    completed_s, completed = _timed(lambda: proj.fetch_by_status(COLLECTION, "completed"), 1)
    out.update(
        first_read_s=first_s[0],
        stats_s=stats_s,
        counts=first["counts"],
        by_status_error_s=error_s,
        by_status_error_k=len(errors),
        by_status_completed_s=completed_s,
        by_status_completed_k=len(completed),
    )
    return out


def run_index_reads(
    scale: Scale,
    places: list[Where],
    legacy: Path | None,
    after_size: Callable[[Where, int, Path], None] | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Generate each base, run the rounds, call ``after_size`` (the TUI uses the base), clean up.

    A base in ``scale.index_copy_to_memory`` that is too large for the memory
    filesystem's inodes is generated on the disk, and its index (all that
    stats and fetch_by_status read) is then copied to memory and read there too.
    """
    runs: list[dict[str, Any]] = []
    bases: list[dict[str, Any]] = []
    memory = next((w for w in places if w.label == "memory"), None)
    for where in places:
        sizes = scale.index_sizes_memory if where.label == "memory" else scale.index_sizes_disk
        for n in sizes:
            work = Path(tempfile.mkdtemp(prefix="bench-index-", dir=where.root))
            try:
                gen = generate_base(work / "base", n, scale.index_errors)
                log(
                    f"  generated {n:,} resources on {where.label} in {gen['seconds']:.1f} s "
                    f"({gen['processes']} processes, the project's _store functions)"
                )
                if legacy is not None:
                    gen["legacy"] = generate_legacy_index(
                        work / "legacy" / COLLECTION, n, scale.index_errors
                    )
                bases.append({"where": where.label, "n": n, **gen})
                _rounds(scale, where.label, n, work, legacy, runs, log)
                if memory is not None and where != memory and n in scale.index_copy_to_memory:
                    _copied_rounds(scale, memory, n, work, legacy, runs, log)
                if after_size is not None:  # last: the TUI's latency test changes statuses
                    after_size(where, n, work / "base")
            finally:
                start = time.perf_counter()
                remove_tree(work)
                log(f"  removed it in {time.perf_counter() - start:.1f} s")
    return {"runs": runs, "generated": bases, "errors_per_base": scale.index_errors}


def _copied_rounds(
    scale: Scale,
    memory: Where,
    n: int,
    work: Path,
    legacy: Path | None,
    runs: list[dict[str, Any]],
    log: Any,
) -> None:
    """The same reads on memory, from a copy of the index the disk base's rebuild made."""
    copy = Path(tempfile.mkdtemp(prefix="bench-index-copy-", dir=memory.root))
    try:
        source, target = work / "base" / COLLECTION, copy / "base" / COLLECTION
        (target / _store.UPDATES_DIR).mkdir(parents=True)
        shutil.copy2(source / _store.COLLECTION_FILE, target / _store.COLLECTION_FILE)
        shutil.copytree(source / _store.INDEX_DIR, target / _store.INDEX_DIR)
        if legacy is not None:
            generate_legacy_index(copy / "legacy" / COLLECTION, n, scale.index_errors)
        log(f"  copied the index of {n:,} resources to memory (no resource directories there)")
        _rounds(scale, memory.label, n, copy, legacy, runs, log, index_only=True)
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def _rounds(
    scale: Scale,
    where: str,
    n: int,
    work: Path,
    legacy: Path | None,
    runs: list[dict[str, Any]],
    log: Any,
    index_only: bool = False,
) -> None:
    systems = ["hadrosaur", "hadrosaur 0.4.1"] if legacy is not None else ["hadrosaur"]
    for rnd in range(scale.rounds):
        for system in systems if rnd % 2 == 0 else systems[::-1]:
            if system == "hadrosaur":
                # A rebuild of a million on a disk takes minutes: only in the first round.
                rebuild = not index_only and (rnd == 0 or n <= scale.rebuild_each_round_max)
                out = _ours(work / "base", n, scale.read_repeats, rebuild)
            else:
                assert legacy is not None
                repeats = max(2, min(scale.read_repeats, 2_000_000 // n))
                out = run_child(legacy, "legacy_reads.py", work / "legacy", COLLECTION, repeats)
            out.update(round=rnd, where=where, n=n, system=system, index_only=index_only)
            runs.append(out)
            rate = (
                f", rebuild {n / out['rebuild_s']:,.0f} resources/s" if "rebuild_s" in out else ""
            )
            log(
                f"  reads round {rnd + 1}/{scale.rounds} {where:6} N={n:<9,} {system:16} "
                f"stats {spread(out['stats_s']).median * 1e3:8.2f} ms, "
                f"by_status(error) {spread(out['by_status_error_s']).median * 1e3:8.2f} ms" + rate
            )


def _median_ms(run: dict[str, Any], key: str) -> float:
    return float(spread(run[key]).median * 1e3)


def index_rows(result: dict[str, Any]) -> list[Row]:
    """Rows: stats and fetch_by_status vs 0.4.1 per size, k-proportionality, rebuild rate."""
    runs = result["runs"]
    rows: list[Row] = []
    keys = sorted({(r["where"], r["n"]) for r in runs}, key=lambda k: (k[0] != "memory", k[1]))
    for where, n in keys:
        here = [r for r in runs if r["where"] == where and r["n"] == n]
        ours = {r["round"]: r for r in here if r["system"] == "hadrosaur"}
        theirs = {r["round"]: r for r in here if r["system"] != "hadrosaur"}
        place = f"{where} (index copied)" if any(r.get("index_only") for r in here) else where
        for key, label in (("stats_s", "stats"), ("by_status_error_s", "fetch_by_status(error)")):
            mine = [_median_ms(r, key) for r in ours.values()]
            ref = [_median_ms(r, key) for r in theirs.values()]
            pairs = [
                (_median_ms(ours[k], key), _median_ms(theirs[k], key)) for k in ours if k in theirs
            ]
            target, passed = "—", None
            if key == "stats_s" and n >= 1_000_000:
                target, passed = "≤ 2 ms", spread(mine).median <= 2.0
            k = ours[min(ours)]["by_status_error_k"]
            suffix = f" (k={k:,})" if key != "stats_s" else ""
            rows.append(
                Row(
                    f"{label}, N={n:,}{suffix}, {place}: vs 0.4.1",
                    f"{spread(mine).median:,.2f} ms",
                    f"{spread(ref).median:,.2f} ms" if ref else "—",
                    median_ratio(pairs) if pairs else None,
                    target,
                    passed,
                    {
                        "ours_ms": spread(mine).as_dict(),
                        "reference_ms": spread(ref).as_dict() if ref else None,
                    },
                )
            )
        rates = [n / r["rebuild_s"] for r in ours.values() if "rebuild_s" in r]
        if not rates:
            continue
        rows.append(
            Row(
                f"index rebuild from the directories, N={n:,}, {where} (resources/s)",
                f"{spread(rates).median:,.0f}/s",
                detail={
                    "rate": spread(rates).as_dict(),
                    "first_read_after_rebuild_ms": spread(
                        [r["first_read_s"] * 1e3 for r in ours.values() if "rebuild_s" in r]
                    ).as_dict(),
                },
            )
        )
    rows.extend(_proportional_rows(runs))
    return rows


def _proportional_rows(runs: list[dict[str, Any]]) -> list[Row]:
    """fetch_by_status(error) returns the same k at every N: the largest N vs the smallest."""
    rows = []
    for where in sorted({r["where"] for r in runs}):
        ours = [r for r in runs if r["where"] == where and r["system"] == "hadrosaur"]
        sizes = sorted({r["n"] for r in ours})
        if len(sizes) < 2:
            continue
        small, big = sizes[0], sizes[-1]
        by_round = {
            n: {r["round"]: _median_ms(r, "by_status_error_s") for r in ours if r["n"] == n}
            for n in (small, big)
        }
        pairs = [
            (by_round[big][k], by_round[small][k]) for k in by_round[big] if k in by_round[small]
        ]
        ratio = median_ratio(pairs)
        k = ours[0]["by_status_error_k"]
        rows.append(
            Row(
                f"fetch_by_status(error), same k={k:,}: N={big:,} / N={small:,}, {where}",
                f"{spread([p[0] for p in pairs]).median:,.2f} ms",
                f"{spread([p[1] for p in pairs]).median:,.2f} ms",
                ratio,
                "≤ 1.5 (∝ k, not N)",
                ratio <= 1.5,
            )
        )
    return rows
