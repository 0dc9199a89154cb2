"""The log pane on a huge run.log: time to the first screen, peak memory, background index.

A ``run.log`` of the scale's size (1 GB at the large scale) is generated in
a temporary directory of the place measured on: one megabyte of log lines
in the project's format, written again and again (seconds on a memory
filesystem), and removed afterwards. Then, in a child process of its own
(``python -m benchmarks.log_open FILE``, so that its peak memory is the
pane's alone), the real widget runs headless under ``App.run_test``:

- open to first screen: from ``LogView.show(path)`` to the moment the view
  has drawn the file's last line on its last row (``render_line`` is wrapped
  to see it), which is what a person waits for;
- background index: from the same start until every line is indexed (the
  progress note at the top is gone and the line count is the file's);
- peak resident memory (``ru_maxrss``) after that, against the same
  process before the app started: what the pane costs for the file.

Run as ``python -m benchmarks.log_open FILE``; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from .figures import Row
from .subprocesses import run_module

__all__ = ("generate_log", "log_rows", "run_log_open")

_TIMEOUT = 600.0
_BLOCK_LINES = 12_000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_log(path: Path, size: int) -> int:
    """Write a log of about ``size`` bytes at ``path``; return its number of lines."""
    block = "".join(
        f"2026-11-29 12:{i // 600 % 60:02d}:{i // 10 % 60:02d} INFO     step {i:05d} of "
        f"sample-{i % 97:04d}: read {i * 37 % 10_000} records from part-{i % 13} (pipeline.py:42)\n"
        for i in range(_BLOCK_LINES)
    ).encode()
    copies = max(1, size // len(block))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for _ in range(copies):
            os.write(fd, block)
    finally:
        os.close(fd)
    return copies * _BLOCK_LINES


async def measure(path: Path) -> dict[str, Any]:
    """Open ``path`` in a LogView, headless; see the module docstring."""
    from textual.app import App, ComposeResult
    from textual.strip import Strip

    from hadrosaur_tui.widgets.log_view import LogView

    class Pane(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView()

    size = path.stat().st_size
    out: dict[str, Any] = {"bytes": size, "rss_mb_before_app": _rss_mb()}
    last_line = b""
    with path.open("rb") as f:
        f.seek(max(0, size - 4096))
        last_line = f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    app = Pane()
    async with app.run_test(size=(120, 40)):
        view = app.query_one(LogView)
        out["rss_mb_app"] = _rss_mb()
        drawn: list[float] = []
        draw = LogView.render_line

        def render_line(widget: LogView, y: int) -> Strip:
            strip = draw(widget, y)
            if not drawn and strip.text.rstrip() == last_line.decode():
                drawn.append(time.perf_counter())
            return strip

        LogView.render_line = render_line  # type: ignore[method-assign]
        start = time.perf_counter()
        view.show(path)
        out["show_s"] = time.perf_counter() - start
        while not drawn:
            await asyncio.sleep(0.001)
            if time.perf_counter() - start > _TIMEOUT:
                raise TimeoutError("the last line was never drawn")
        out["first_screen_s"] = drawn[0] - start
        LogView.render_line = draw  # type: ignore[method-assign]
        while view.document.indexing:
            await asyncio.sleep(0.01)
            if time.perf_counter() - start > _TIMEOUT:
                raise TimeoutError("the background index did not finish")
        out["indexed_s"] = time.perf_counter() - start
        out["lines"] = view.line_count
        out["rss_mb_end"] = _rss_mb()
        find_start = time.perf_counter()
        out["find_found"] = view.document.find("not in this log", view.line_count, False)
        out["find_whole_file_s"] = time.perf_counter() - find_start
    out["rss_mb_for_log"] = out["rss_mb_end"] - out["rss_mb_app"]
    return out


def run_log_open(place: Path, size: int) -> dict[str, Any]:
    """Generate a log of ``size`` bytes under ``place``, measure it in a child, remove it."""
    path = place / "run.log"
    start = time.perf_counter()
    lines = generate_log(path, size)
    generated = time.perf_counter() - start
    try:
        result = run_module("benchmarks.log_open", path)
    finally:
        path.unlink()
    return {**result, "generated_lines": lines, "generate_s": generated}


def log_rows(result: dict[str, Any], where: str) -> list[Row]:
    """Rows: first screen, background index, memory."""
    size = f"{result['bytes'] / 1e9:.2f} GB" if result["bytes"] >= 1e8 else f"{result['bytes']:,} B"
    name = f"log pane, run.log of {size} ({result['lines']:,} lines), {where}"
    return [
        Row(
            f"{name}: open to first screen (its last line drawn)",
            f"{result['first_screen_s']:.3f} s",
            target="≤ 0.5 s",
            passed=result["first_screen_s"] <= 0.5,
            detail={"show_s": result["show_s"]},
        ),
        Row(f"{name}: every line indexed (in the background)", f"{result['indexed_s']:.2f} s"),
        Row(
            f"{name}: peak memory for the log (resident, over the app's own)",
            f"{result['rss_mb_for_log']:.0f} MB",
            detail={k: result[k] for k in result if k.startswith("rss_mb")},
        ),
        Row(
            f"{name}: find through the whole file (text it does not hold)",
            f"{result['find_whole_file_s']:.2f} s",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the log pane on one file (JSON out).")
    parser.add_argument("file", type=Path)
    opts = parser.parse_args(argv)
    print(json.dumps(asyncio.run(measure(opts.file))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
