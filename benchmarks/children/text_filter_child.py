"""The TUI's text filter on a model of N rows, keystroke by keystroke (prints one JSON object).

Usage: python text_filter_child.py N

Runs with whichever Python it is given (this tree's venv or another
checkout's): it uses only ``CollectionModel.extend`` and ``set_text_filter``,
which every version has. The rows are a generated collection's (``r0000000``
…, one in 100 in error with a reason); each keystroke of a few typed texts is
timed around ``set_text_filter`` (the whole match, as if typed after a pause);
where the model runs a filter in slices (``text_filter_job``) the longest slice
is timed too: that is what one keystroke can wait for.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

#: What is typed, one keystroke at a time (each prefix is a filter).
TYPED = ("r00123", "!r0", "generated error 4", "ValueError", "R0012")


def main() -> None:
    from hadrosaur_tui.model import CollectionModel

    n = int(sys.argv[1])
    rows: list[Any] = [
        (f"r{i:07d}", "error", 1, 2, f"ValueError: generated error {i}")
        if i % 100 == 7
        else (f"r{i:07d}", "completed", 1, 2, "")
        for i in range(n)
    ]
    model = CollectionModel("generated")
    started = time.perf_counter()
    for k in range(0, n, 50_000):
        model.extend(rows[k : k + 50_000])
    out: dict[str, Any] = {"n": n, "load_s": time.perf_counter() - started, "keystrokes": []}
    sliced = hasattr(model, "text_filter_job")
    for text in TYPED:
        for end in range(1, len(text) + 1):
            typed = text[:end]
            start = time.perf_counter()
            model.set_text_filter(typed)
            whole = time.perf_counter() - start
            slowest = None
            if sliced:
                job = model.text_filter_job(typed)
                slowest = 0.0
                done = False
                while not done:
                    start = time.perf_counter()
                    done = model.step_text_filter(job)
                    slowest = max(slowest, time.perf_counter() - start)
                start = time.perf_counter()
                model.finish_text_filter(job)
                slowest = max(slowest, time.perf_counter() - start)
            out["keystrokes"].append(
                {"text": typed, "s": whole, "slowest_slice_s": slowest, "shown": len(model)}
            )
        model.set_text_filter("")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
