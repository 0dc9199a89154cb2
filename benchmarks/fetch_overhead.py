"""Fetch overhead per new resource: this project vs hadrosaur 0.4.1 vs the filesystem floor.

Each system fetches N new resources of a trivial function (no work, a small
dict as result) in one process, in a fresh base, timed inside the child
process (children/fetch_*.py) so that start-up and imports do not count. At
the comparison size each also fetches all of them again (cached: the result
is read back), and the base is measured for bytes and inodes per resource.
This project also times the same function logging one line there, because
the floor appends one and a function that never logs opens no log file.

The floor (children/fetch_floor.py) does only the unavoidable file work of
one resource; 0.4.1 runs in its own venv (legacy.py). Rounds rotate the order
of the three systems, and every ratio is taken within one round. Before each
run the kernel writes back what earlier runs left dirty (``os.sync``): on the
disk, that writeback otherwise lands on whichever system runs next (a floor
of 491 µs/resource measured 6,234 µs in the next round without it).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from .figures import Row, median_ratio, spread
from .generate import remove_tree
from .machine import Where
from .scales import Scale
from .subprocesses import run_child
from .usage import disk_usage

__all__ = ("FLOOR", "HADROSAUR", "LEGACY", "SYSTEMS", "fetch_rows", "run_fetch_overhead")

HADROSAUR, LEGACY, FLOOR = "hadrosaur", "hadrosaur 0.4.1", "floor"
SYSTEMS = (HADROSAUR, LEGACY, FLOOR)


def _run(
    system: str, where: Where, n: int, cached: bool, usage: bool, legacy: Path | None
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-fetch-", dir=where.root))
    os.sync()  # start clean: see the module docstring
    try:
        if system == HADROSAUR:
            count = n if cached else 0
            out = run_child(sys.executable, "fetch_hadrosaur.py", work, n, count, count)
        elif system == FLOOR:
            out = run_child(sys.executable, "fetch_floor.py", work, n)
        else:
            assert legacy is not None
            out = run_child(legacy, "fetch_legacy.py", work, n, n if cached else 0)
        if usage and out.get("done") == n:
            out["usage"] = disk_usage(work)
    finally:
        remove_tree(work)
    out["per_resource_us"] = out["seconds"] / max(1, out["done"]) * 1e6
    if "cached_seconds" in out:
        out["cached_us"] = out["cached_seconds"] / out["cached_n"] * 1e6
    if "logged_seconds" in out:
        out["logged_us"] = out["logged_seconds"] / out["logged_n"] * 1e6
    return out


def run_fetch_overhead(
    scale: Scale, places: list[Where], legacy: Path | None, log: Any = print
) -> dict[str, Any]:
    """Run every round; return the raw runs (one dict per child run)."""
    systems = [s for s in SYSTEMS if legacy is not None or s != LEGACY]
    runs: list[dict[str, Any]] = []
    legacy_failed_at: dict[tuple[str, int], dict[str, Any]] = {}
    for rnd in range(scale.rounds):
        order = systems[rnd % len(systems) :] + systems[: rnd % len(systems)]
        place_order = places if rnd % 2 == 0 else places[::-1]
        for where in place_order:
            sizes = scale.fetch_sizes_memory if where.label == "memory" else scale.fetch_sizes_disk
            for n in sizes:
                cached = n == _compare_n(scale, where)
                for system in order:
                    if system == LEGACY and (where.label, n) in legacy_failed_at:
                        continue  # it ran out of file descriptors: the same every round
                    out = _run(system, where, n, cached, cached and rnd == 0, legacy)
                    out.update(round=rnd, where=where.label, n=n, system=system)
                    runs.append(out)
                    if out.get("error"):
                        legacy_failed_at[(where.label, n)] = out
                    log(
                        f"  fetch round {rnd + 1}/{scale.rounds} {where.label:6} N={n:<7,} "
                        f"{system:16} {out['per_resource_us']:8.0f} µs/resource"
                        + (f"  (cached {out['cached_us']:.0f} µs)" if "cached_us" in out else "")
                        + (f"  [{out['error']}]" if out.get("error") else "")
                    )
    return {"runs": runs, "systems": systems}


def _compare_n(scale: Scale, where: Where) -> int:
    """The N compared with the floor and 0.4.1 on ``where``: compare_n, or its largest below."""
    sizes = scale.fetch_sizes_memory if where.label == "memory" else scale.fetch_sizes_disk
    below = [n for n in sizes if n <= scale.compare_n]
    return max(below) if below else min(sizes)


def _by_round(
    runs: list[dict[str, Any]], where: str, n: int, key: str
) -> dict[str, dict[int, float]]:
    """{system: {round: value}} of complete runs (all N done) at (where, n)."""
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for r in runs:
        if r["where"] == where and r["n"] == n and r["done"] == n and key in r:
            out[r["system"]][r["round"]] = r[key]
    return out


def _pairs(values: dict[str, dict[int, float]], a: str, b: str) -> list[tuple[float, float]]:
    return [(values[a][k], values[b][k]) for k in sorted(values[a]) if k in values[b]]


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    """Per (where, system, N): the spread of µs per resource; the plot and the table use it."""
    per: dict[str, dict[str, dict[int, dict[str, float]]]] = defaultdict(lambda: defaultdict(dict))
    failures = []
    for (where, system, n), values in _group(result["runs"]).items():
        if values:
            per[where][system][n] = spread(values).as_dict()
    for r in result["runs"]:
        if r.get("error"):
            keys = ("where", "n", "system", "done", "error", "per_resource_us")
            failures.append({k: r[k] for k in keys})
    return {"per_resource_us": per, "failures": failures}


def _group(runs: list[dict[str, Any]]) -> dict[tuple[str, str, int], list[float]]:
    groups: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for r in runs:
        if r["done"] == r["n"]:
            groups[(r["where"], r["system"], r["n"])].append(r["per_resource_us"])
    return groups


def _fmt_us(values: list[float]) -> tuple[str, dict[str, float]]:
    s = spread(values)
    return f"{s.median:,.0f} µs", s.as_dict()


def fetch_rows(result: dict[str, Any], scale: Scale, places: list[Where]) -> list[Row]:
    """The table rows: floor ratio, 0.4.1 speed-up, flatness, cached fetch, bytes and inodes."""
    runs = result["runs"]
    rows: list[Row] = []
    for where in places:
        n = _compare_n(scale, where)
        new = _by_round(runs, where.label, n, "per_resource_us")
        if new.get(HADROSAUR) and new.get(FLOOR):
            rows.append(
                _ratio_row(
                    f"fetch, new resource, N={n:,}, {where.label}: vs floor",
                    new,
                    FLOOR,
                    "≤ 1.5",
                    1.5,
                )
            )
        logged = _by_round(runs, where.label, n, "logged_us").get(HADROSAUR)
        if logged and new.get(FLOOR):
            rows.append(
                _ratio_row(
                    f"fetch, new resource logging one line (as the floor does), N={n:,}, "
                    f"{where.label}: vs floor",
                    {HADROSAUR: logged, FLOOR: new[FLOOR]},
                    FLOOR,
                    "≤ 1.5",
                    1.5,
                )
            )
        if new.get(HADROSAUR) and new.get(LEGACY):
            rows.append(
                _ratio_row(
                    f"fetch, new resource, N={n:,}, {where.label}: vs 0.4.1",
                    new,
                    LEGACY,
                    "≤ 0.33 (≥ 3x faster)",
                    1 / 3,
                )
            )
        small, big = scale.flat_pair
        sizes = scale.fetch_sizes_memory if where.label == "memory" else scale.fetch_sizes_disk
        if small in sizes and big in sizes:
            a = _by_round(runs, where.label, big, "per_resource_us").get(HADROSAUR, {})
            b = _by_round(runs, where.label, small, "per_resource_us").get(HADROSAUR, {})
            pairs = [(a[k], b[k]) for k in sorted(a) if k in b]
            if pairs:
                ours, d_ours = _fmt_us([p[0] for p in pairs])
                ref, d_ref = _fmt_us([p[1] for p in pairs])
                ratio = median_ratio(pairs)
                rows.append(
                    Row(
                        f"fetch, per-resource cost N={big:,} / N={small:,}, {where.label}",
                        ours,
                        ref,
                        ratio,
                        "≤ 1.2",
                        ratio <= 1.2,
                        {"ours_us": d_ours, "reference_us": d_ref},
                    )
                )
        cached = _by_round(runs, where.label, n, "cached_us")
        if cached.get(HADROSAUR) and cached.get(LEGACY):
            rows.append(
                _ratio_row(
                    f"fetch, cached (result read back), N={n:,}, {where.label}: vs 0.4.1",
                    cached,
                    LEGACY,
                    "≤ 0.5",
                    0.5,
                )
            )
        rows.extend(_usage_rows(runs, where.label, n))
    for failure in summarize(result)["failures"]:
        rows.append(
            Row(
                f"fetch, new resource, N={failure['n']:,}, {failure['where']}: 0.4.1",
                "—",
                f"failed after {failure['done']:,}",
                detail={"error": failure["error"]},
            )
        )
    return rows


def _ratio_row(
    metric: str, values: dict[str, dict[int, float]], ref: str, target: str, limit: float
) -> Row:
    pairs = _pairs(values, HADROSAUR, ref)
    ratio = median_ratio(pairs)
    ours, d_ours = _fmt_us(list(values[HADROSAUR].values()))
    reference, d_ref = _fmt_us(list(values[ref].values()))
    return Row(
        metric,
        ours,
        reference,
        ratio,
        target,
        ratio <= limit,
        {"ours_us": d_ours, "reference_us": d_ref, "rounds": len(pairs)},
    )


def _usage_rows(runs: list[dict[str, Any]], where: str, n: int) -> list[Row]:
    usage = {r["system"]: r["usage"] for r in runs if r["where"] == where and "usage" in r}
    if HADROSAUR not in usage:
        return []
    ours = usage[HADROSAUR]
    ref = usage.get(LEGACY)
    rows = []
    for key, label, unit in (("allocated_bytes", "bytes", " B"), ("inodes", "inodes", "")):
        mine = ours[key] / n
        theirs = ref[key] / n if ref else None
        rows.append(
            Row(
                f"on disk per resource ({label}), N={n:,}, {where}: vs 0.4.1",
                f"{mine:,.1f}{unit}",
                f"{theirs:,.1f}{unit}" if theirs is not None else "—",
                mine / theirs if theirs else None,
                detail={HADROSAUR: ours, LEGACY: ref, FLOOR: usage.get(FLOOR)},
            )
        )
    return rows
