"""python -m benchmarks: this project against hadrosaur 0.4.1 and the filesystem floor.

Runs the suites of one scale (``small`` by default, a few minutes; ``large``
is the full run; ``smoke`` takes seconds and is what CI runs), prints the
table (metric, this project, reference, ratio, target, pass/fail), and
writes ``results/SCALE.json`` and ``results/SCALE-per-resource.png``.
See the README section "Benchmarks" for what each figure means.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .figures import Row
from .legacy import LEGACY_VERSION, legacy_python
from .machine import Where, describe_machine
from .report import format_table, write_json, write_plot
from .scales import SCALES, Scale
from .suites import SUITES, Run, log

RESULTS = Path(__file__).resolve().parent / "results"

NOTES = [
    "Times are measured inside child processes (start-up and imports excluded): "
    "this project and the floor with this interpreter, hadrosaur 0.4.1 with the python "
    "of its own venv (pip install hadrosaur==0.4.1).",
    "The benchmarked function does no work and returns a small dict; it does not log. "
    "The rows 'logging one line' time the same function with one ctx.logger.info call, "
    "as the floor appends one line (a function that never logs opens no log file).",
    "The floor does only the unavoidable file work of one resource: mkdir, atomic writes "
    "(temporary file + os.replace) of meta.json, status twice and result.json, one appended "
    "log line, and two change markers (an O_CREAT open of .updates/IDENT).",
    "hadrosaur 0.4.1 opens a log file per fetch and never closes it; its open-file limit is "
    "raised to the hard limit, and where that is not enough its failure is reported.",
    "Bases for stats, fetch_by_status, rebuild and the TUI are generated: the real layout "
    "(directory, meta.json, result.json or error.log, status) written with the project's own "
    "_store.atomic_write by one process per CPU, without markers or index; the first reader "
    "builds the index from the directories (the rebuild). 0.4.1's status LevelDB is written "
    "directly with plyvel (ident -> status), all its stats and find_by_status read.",
    "Each comparison runs on a disk and on a memory filesystem, in rounds that rotate the order "
    "of the systems; ratios are taken within a round, and the median over rounds is reported "
    "with the min/median/max of the raw figures in the JSON.",
]


def _places(opts: argparse.Namespace, run_dirs: list[Path]) -> list[Where]:
    places = []
    for label, root in (("memory", opts.memory), ("disk", opts.disk)):
        if root is None:
            continue
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError:
            print(f"skipping {label}: {root} cannot be created", file=sys.stderr)
            continue
        if not os.access(root, os.W_OK):
            print(f"skipping {label}: {root} is not writable", file=sys.stderr)
            continue
        run_dir = Path(tempfile.mkdtemp(prefix="hadrosaur-bench-", dir=root))
        run_dirs.append(run_dir)
        places.append(Where(label, run_dir))
    if not places:
        raise SystemExit("no place to measure on: give --memory or --disk")
    return places


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument(
        "--memory",
        type=Path,
        default=Path("/dev/shm") if Path("/dev/shm").is_dir() else None,
        help="a directory on a memory filesystem (default /dev/shm)",
    )
    parser.add_argument(
        "--disk", type=Path, default=Path("/var/tmp"), help="a directory on a disk (/var/tmp)"
    )
    parser.add_argument("--no-memory", action="store_true", help="measure on the disk only")
    parser.add_argument("--no-legacy", action="store_true", help="skip hadrosaur 0.4.1")
    parser.add_argument("--legacy-venv", type=Path, help="where to make 0.4.1's venv")
    parser.add_argument(
        "--only", action="append", choices=list(SUITES), help="run only this suite (repeatable)"
    )
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    return parser


def main(argv: list[str] | None = None) -> int:
    opts = _parser().parse_args(argv)
    if opts.no_memory:
        opts.memory = None
    scale: Scale = SCALES[opts.scale]
    suites = opts.only or list(SUITES)
    began = time.perf_counter()
    run_dirs: list[Path] = []
    try:
        places = _places(opts, run_dirs)
        legacy = None
        if scale.legacy and not opts.no_legacy and {"fetch", "reads"} & set(suites):
            legacy = legacy_python(opts.legacy_venv)
        payload = _run(scale, suites, places, legacy)
    finally:
        for run_dir in run_dirs:
            shutil.rmtree(run_dir, ignore_errors=True)
    payload["run_seconds"]["total"] = time.perf_counter() - began
    payload["command"] = "python -m benchmarks " + " ".join(argv or sys.argv[1:])
    rows = [Row(**r) for r in payload["table"]]
    print()
    print(format_table(rows))
    out = opts.out_dir / f"{scale.name}.json"
    write_json(out, payload)
    print(f"\nwritten {out}")
    if importlib.util.find_spec("matplotlib") is None:
        print("no plot: matplotlib is not installed (pip install '.[bench]')")
    else:
        plot = write_plot(payload, opts.out_dir)
        if plot is not None:
            print(f"written {plot}")
    print(f"total {payload['run_seconds']['total'] / 60:.1f} min")
    for name in payload["failed_suites"]:
        print(f"suite {name} FAILED (its traceback is in the JSON, under failed_suites)")
    return 1 if payload["failed_suites"] else 0


def _run(
    scale: Scale, selected: list[str], places: list[Where], legacy: Path | None
) -> dict[str, Any]:
    """Run the selected suites; a suite that fails is reported and the others still run."""
    run = Run(scale, places, legacy, selected)
    payload: dict[str, Any] = {
        "benchmark": f"hadrosaur vs hadrosaur {LEGACY_VERSION} vs the filesystem floor",
        "scale": scale.name,
        "scale_parameters": asdict(scale),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": describe_machine(places),
        "legacy": str(legacy) if legacy else None,
        "notes": NOTES,
        "suites": run.results,
        "run_seconds": run.seconds,
        "failed_suites": {},
    }
    log(f"hadrosaur benchmarks, scale {scale.name}: {', '.join(selected)}")
    for note in NOTES:
        log(f"  - {note}")
    rows: list[Row] = []
    for name, (title, suite) in SUITES.items():
        if name not in selected:
            continue
        log(f"\n== {title}")
        start = time.perf_counter()
        try:
            rows += suite(run)
        except Exception:
            payload["failed_suites"][name] = traceback.format_exc()
            log(f"  FAILED:\n{traceback.format_exc()}")
        run.seconds[name] = time.perf_counter() - start + run.seconds.get(name, 0.0)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    payload["machine"]["load_average_at_end"] = [round(x, 2) for x in load] if load else None
    payload["table"] = [r.as_dict() for r in rows]
    return payload


if __name__ == "__main__":
    sys.exit(main())
