"""A seconds-long run of ``python -m benchmarks --scale smoke``, so that the benchmark does not rot.

Benchmarks are not tests: nothing here looks at a time. It checks that every
suite runs end to end on tiny sizes, inside ``tmp_path``, and writes a
well-formed results file and plot. hadrosaur 0.4.1 is not installed here (it
needs the network); the smoke scale skips it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUITES = {"fetch", "reads", "tui", "concurrency", "pending", "logs", "triage", "watching"}


@pytest.mark.slow
def test_smoke_run_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--scale",
            "smoke",
            "--memory",
            str(tmp_path / "memory"),
            "--disk",
            str(tmp_path / "disk"),
            "--out-dir",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((out / "smoke.json").read_text())
    assert report["scale"] == "smoke"
    assert set(report["suites"]) == SUITES
    assert report["machine"]["cores"] >= 1
    assert set(report["machine"]["filesystems"]) == {"memory", "disk"}

    runs = report["suites"]["fetch"]["runs"]
    assert {r["system"] for r in runs} == {"hadrosaur", "floor"}
    assert all(r["done"] == r["n"] and r["seconds"] > 0 for r in runs)
    assert any("usage" in r and r["usage"]["inodes"] > r["n"] for r in runs)

    reads = report["suites"]["reads"]["runs"]
    assert reads and all(r["counts"]["error"] == r["by_status_error_k"] for r in reads)

    tui = report["suites"]["tui"]
    assert tui["rows"] == 300 and tui["error_rows"] == 30
    assert len(tui["latency_s"]) == 3

    for place in ("memory", "disk"):
        busy = report["suites"]["concurrency"][place]["with_readers"]
        assert busy["done"] == 40 and busy["lock_errors"] == 0, busy
        assert busy["tui_completed_shown"] == 40

    pending = report["suites"]["pending"]
    assert pending["stats"]["counts"]["interrupted"] == 100
    assert pending["tui"]["counts"]["interrupted"] == 100

    for place in ("memory", "disk"):
        logs = report["suites"]["logs"][place]
        # Bigger than what is indexed before the first screen: the background index ran.
        assert logs["bytes"] > 3_000_000 and logs["lines"] == logs["generated_lines"]
        assert logs["find_found"] is None
    triage = report["suites"]["triage"]
    assert (triage["n"], triage["errors"], triage["causes"]) == (600, 200, 10)
    watching = report["suites"]["watching"]
    ((only, summary),) = watching["summary"].items()
    assert (watching["n"], watching["drain_n"], len(watching["rounds"])) == (100, 100, 1)
    (round_,) = watching["rounds"]
    assert round_[only]["watched"]["done"] == round_[only]["alone"]["done"] == 100
    assert summary["watched_s"]["n"] == 1
    assert triage["group_members"] == 10 and triage["signature_texts"] == 200
    assert len(triage["groups_view"]["rows_s"]) == len(triage["groups_view"]["settled_s"]) == 8
    assert len(triage["failing_fetch_us"]["on"]) == len(triage["failing_fetch_us"]["off"]) > 0
    assert any(row["metric"].startswith("error_groups, N=600") for row in report["table"])

    table = report["table"]
    assert {"metric", "ours", "reference", "ratio", "target", "passed"} <= set(table[0])
    assert any(row["metric"].startswith("TUI") for row in table)
    assert "metric" in done.stdout and "this project" in done.stdout
    plot = out / "smoke-per-resource.png"
    if importlib.util.find_spec("matplotlib") is not None:  # the "bench" extra
        assert plot.read_bytes().startswith(b"\x89PNG")
    else:
        assert not plot.exists() and "no plot" in done.stdout
    # Nothing is left behind in the places measured on.
    assert not any((tmp_path / "memory").iterdir())
    assert not any((tmp_path / "disk").iterdir())


def test_leases_benchmark_writes_its_ratio(tmp_path: Path) -> None:
    out = tmp_path / "leases.json"
    subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.leases", "--block", "5", "--blocks", "2"),
            *("--rounds", "1", "--dir", str(tmp_path), "--out", str(out)),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    result = json.loads(out.read_text())
    assert result["ratio_per_block_median"] > 0
    assert result["with_leases_us"]["n"] == 1
