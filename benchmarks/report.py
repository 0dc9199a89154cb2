"""The results: a table on the terminal (and in Markdown for the README), JSON, and a plot."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .figures import Row

__all__ = ("format_table", "markdown_table", "plot_per_resource", "write_json", "write_plot")

_HEADINGS = ("metric", "this project", "reference", "ratio", "target", "pass")


def _cells(row: Row) -> tuple[str, ...]:
    ratio = "—" if row.ratio is None else f"{row.ratio:.2f}x"
    passed = "—" if row.passed is None else ("pass" if row.passed else "FAIL")
    return (row.metric, row.ours, row.reference, ratio, row.target, passed)


def format_table(rows: Sequence[Row]) -> str:
    """The rows as an aligned plain-text table.

    Example:
        >>> print(format_table([Row("stats", "1.00 ms", "2.00 ms", 0.5, "≤ 2 ms", True)]))
        metric  this project  reference  ratio  target  pass
        stats   1.00 ms       2.00 ms    0.50x  ≤ 2 ms  pass
    """
    table = [_HEADINGS, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_HEADINGS))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in table
    )


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table (the README's)."""
    lines = ["| " + " | ".join(_HEADINGS) + " |", "|" + "---|" * len(_HEADINGS)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")


_STYLE = {
    "hadrosaur": ("tab:green", "o"),
    "hadrosaur 0.4.1": ("tab:red", "s"),
    "floor": ("tab:gray", "^"),
}


def plot_per_resource(
    per_resource: dict[str, dict[str, dict[Any, dict[str, float]]]],
    failures: list[dict[str, Any]],
    title: str,
    path: Path,
) -> None:
    """Plot µs per new resource against N: one panel per filesystem, one line per system.

    Points are medians over rounds, bars span min to max. A run that failed
    part-way (0.4.1 out of file descriptors) is a cross at the N it reached.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    places = [p for p in ("memory", "disk") if p in per_resource]
    fig, axes = plt.subplots(1, len(places), figsize=(6 * len(places), 4.5), squeeze=False)
    for ax, place in zip(axes[0], places, strict=True):
        for system, by_n in sorted(per_resource[place].items()):
            figures = sorted((int(n), v) for n, v in by_n.items())  # JSON keys are strings
            ns = [n for n, _ in figures]
            med = [v["median"] for _, v in figures]
            low = [v["median"] - v["min"] for _, v in figures]
            high = [v["max"] - v["median"] for _, v in figures]
            color, marker = _STYLE.get(system, ("tab:blue", "x"))
            ax.errorbar(ns, med, yerr=[low, high], color=color, marker=marker, capsize=3)
            ax.plot([], [], color=color, marker=marker, label=system)
        for f in failures:
            if f["where"] != place:
                continue
            color = _STYLE.get(f["system"], ("tab:red", ""))[0]
            label = f"{f['system']}: failed after {f['done']:,} of {f['n']:,}\n({f['error']})"
            if "per_resource_us" in f:
                ax.plot([f["done"]], [f["per_resource_us"]], "x", color=color, markersize=9)
                ax.annotate(
                    label,
                    (f["done"], f["per_resource_us"]),
                    textcoords="offset points",
                    xytext=(8, -3),
                    fontsize=7,
                    color=color,
                )
            else:
                ax.annotate(label, (0.02, 0.97), xycoords="axes fraction", va="top", fontsize=7)
        ax.set_xscale("log")
        ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.12)
        ax.set_xlabel("resources fetched in one process (N)")
        ax.set_ylabel("µs per new resource (median, min-max)")
        ax.set_title(f"{place}")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_plot(payload: dict[str, Any], out_dir: Path) -> Path | None:
    """Draw the per-resource plot of a results payload; None when it has no fetch suite."""
    fetch = payload["suites"].get("fetch")
    if not fetch:
        return None
    summary = fetch["summary"]
    failures = [
        {**f, **_failed_cost(fetch["runs"], f)} for f in summary["failures"]
    ]  # older results files lack the cost of the failed run
    machine = payload["machine"]
    title = (
        f"µs per new resource, trivial function ({machine['cores']} cores {machine['cpu']}, "
        f"Python {machine['python']}, scale {payload['scale']}, {payload['date'][:10]})"
    )
    path = out_dir / f"{payload['scale']}-per-resource.png"
    plot_per_resource(summary["per_resource_us"], failures, title, path)
    return path


def _failed_cost(runs: list[dict[str, Any]], failure: dict[str, Any]) -> dict[str, float]:
    for r in runs:
        if all(r.get(k) == failure[k] for k in ("where", "n", "system")) and r.get("error"):
            return {"per_resource_us": r["per_resource_us"]}
    return {}


def main(argv: list[str] | None = None) -> int:
    """python -m benchmarks.report RESULTS.json: the table again (--markdown) and the plot."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("--markdown", action="store_true", help="the table in Markdown")
    parser.add_argument("--no-plot", action="store_true")
    opts = parser.parse_args(argv)
    payload = json.loads(opts.results.read_text())
    rows = [Row(**r) for r in payload["table"]]
    print(markdown_table(rows) if opts.markdown else format_table(rows))
    if not opts.no_plot:
        path = write_plot(payload, opts.results.parent)
        if path is not None:
            print(f"written {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
