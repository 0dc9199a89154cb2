"""The results: a table on the terminal (and in Markdown for the README), JSON, and a plot."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .figures import Row

__all__ = ("format_table", "markdown_table", "plot_per_resource", "write_json")

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
    per_resource: dict[str, dict[str, dict[int, dict[str, float]]]],
    failures: list[dict[str, Any]],
    title: str,
    path: Path,
) -> None:
    """Plot µs per new resource against N: one panel per filesystem, one line per system.

    Points are medians over rounds, bars span min to max.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    places = [p for p in ("memory", "disk") if p in per_resource]
    fig, axes = plt.subplots(1, len(places), figsize=(6 * len(places), 4.5), squeeze=False)
    for ax, place in zip(axes[0], places, strict=True):
        for system, by_n in sorted(per_resource[place].items()):
            ns = sorted(int(n) for n in by_n)
            med = [by_n[n]["median"] for n in ns]
            low = [by_n[n]["median"] - by_n[n]["min"] for n in ns]
            high = [by_n[n]["max"] - by_n[n]["median"] for n in ns]
            color, marker = _STYLE.get(system, ("tab:blue", "x"))
            ax.errorbar(ns, med, yerr=[low, high], color=color, marker=marker, capsize=3)
            ax.plot([], [], color=color, marker=marker, label=system)
        for f in failures:
            if f["where"] == place:
                ax.annotate(
                    f"{f['system']}: failed at N={f['n']:,}\n{f['error']}",
                    xy=(0.02, 0.97),
                    xycoords="axes fraction",
                    va="top",
                    fontsize=8,
                    color=_STYLE.get(f["system"], ("tab:red", ""))[0],
                )
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("resources fetched in one process (N)")
        ax.set_ylabel("µs per new resource (median, min-max)")
        ax.set_title(f"{place}")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
