"""A deterministic base directory for TUI tests: fixed times, fixed logs and tracebacks.

Resources are written file by file in hadrosaur's layout (the same files a
worker writes), so the app reads them through the library exactly as it
would read a real run, and snapshots do not depend on the clock or on where
the repository lives.
"""

from __future__ import annotations

import json
from pathlib import Path

from hadrosaur import _markers, _plans

#: The app's clock in tests: 2026-03-01 12:00:00 UTC.
NOW = 1772366400.0
NOW_MS = int(NOW * 1000)

TRACEBACK = """Traceback (most recent call last):
  File "/pipelines/genomes.py", line 41, in fetch_genome
    data = download(url)
  File "/pipelines/net.py", line 12, in download
    raise ConnectionError(f"[bold]{url}[/bold] refused the connection")
ConnectionError: [bold]https://example.org/GCF_0003[/bold] refused the connection
"""


def log_text(ident: str, lines: int = 4) -> str:
    return "".join(
        f"2026-03-01 11:5{i}:00 {'INFO    ' if i % 3 else 'WARNING '} {ident}: step {i + 1} "
        f"of {lines} (genomes.py:{20 + i})\n"
        for i in range(lines)
    )


def write_resource(
    coll_dir: Path,
    ident: str,
    status: str,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    result: object = None,
    error: str = "",
    log: str = "",
    host: str | None = None,
) -> Path:
    """Write one resource directory and its change marker."""
    res = coll_dir / ident
    res.mkdir(parents=True, exist_ok=True)
    meta = {
        "start_time": start_ms,
        "end_time": end_ms,
        "args": {"k": 3},
        "pid": 4242,
        "host": host or "worker-1",
        "attempt": 1,
    }
    (res / "meta.json").write_text(json.dumps(meta))
    if status == "completed":
        (res / "result.json").write_text(json.dumps(result))
    if error:
        (res / "error.log").write_text(error)
    if log:
        (res / "run.log").write_text(log)
    (res / "status").write_text(status)
    _markers.touch_marker(coll_dir, ident)
    return res


def define_collection(base: Path, name: str) -> Path:
    coll = base / name
    (coll / ".updates").mkdir(parents=True, exist_ok=True)
    (coll / ".collection.json").write_text(json.dumps({"name": name, "function": {}}))
    return coll


def build_sample_base(base: Path) -> Path:
    """Two collections: genomes (every status) and imports (all done)."""
    genomes = define_collection(base, "genomes")
    minute = 60_000
    for i in range(12):
        ident = f"GCF_{i:04d}"
        start = NOW_MS - (40 - i) * minute
        if i in (3, 7):
            write_resource(
                genomes,
                ident,
                "error",
                start_ms=start,
                end_ms=start + 95_000,
                error=TRACEBACK.replace("GCF_0003", ident),
                log=log_text(ident),
            )
        elif i == 9:
            # pending, but no process holds its lock: interrupted (same host as the reader)
            write_resource(
                genomes,
                ident,
                "pending",
                start_ms=start,
                log=log_text(ident, 2),
                host=_local_host(),
            )
        elif i >= 10:
            continue  # planned, not started: unavailable
        else:
            write_resource(
                genomes,
                ident,
                "completed",
                start_ms=start,
                end_ms=start + 30_000 + i * 1000,
                result={"ident": ident, "contigs": i * 3, "path": f"/data/{ident}.fa"},
                log=log_text(ident),
            )
    _plans.write_plan(genomes, [f"GCF_{i:04d}" for i in range(12)])
    imports = define_collection(base, "imports")
    for i in range(5):
        write_resource(
            imports,
            f"batch-{i:02d}",
            "completed",
            start_ms=NOW_MS - 10 * minute,
            end_ms=NOW_MS - 9 * minute,
            result={"rows": 100 + i},
        )
    return base


def _local_host() -> str:
    from hadrosaur._liveness import local_host

    return local_host()


#: Retitle the pane, clear the screen, write the clipboard, a C1 CSI, a
#: right-to-left override, and markup that must stay text.
HOSTILE = "\x1b]0;pwned\x07 \x1b[2J \x1b]52;c;aGk=\x07 \x9b31m \u202eevil [b]not bold[/b]"
HOSTILE_SHOWN = "^[]0;pwned^G ^[[2J ^[]52;c;aGk=^G <U+009B>31m <U+202E>evil [b]not bold[/b]"
CLICK = "ok-[@click=app.quit]clickme"
#: A directory a person (not hadrosaur, which refuses the name) made in the base.
BAD_COLLECTION = "dir\x1b]0;pwned\x07coll"  # listed after c[


def build_hostile_base(base: Path) -> Path:
    """Collection c[: x] (error) and CLICK (completed), whose logs, traceback and
    result hold HOSTILE; and a collection directory whose name holds an escape."""
    coll = define_collection(base, "c[")
    traceback = f"Traceback (most recent call last):\nValueError: {HOSTILE}\n"
    log = f"{HOSTILE}\nprogress 10%\rprogress 20%\nwindows line\r\n"
    write_resource(coll, "x]", "error", start_ms=NOW_MS, end_ms=NOW_MS, error=traceback, log=log)
    write_resource(
        coll, CLICK, "completed", start_ms=NOW_MS - 1, end_ms=NOW_MS, result={"text": HOSTILE}
    )
    (coll / CLICK / "run.log").write_text(log)
    define_collection(base, BAD_COLLECTION)
    return base
